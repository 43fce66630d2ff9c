import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * AES-256-GCM for values kept in Redis (the pod's Vault token). The additional data binds
 * a ciphertext to its record, so a blob copied to another pod's record does not decrypt.
 * Format: base64(iv[12] | tag[16] | ciphertext).
 *
 * With the same key it also tags identifiers leasekeeper writes where others can edit them (lease
 * ids in a per-pod Secret's annotations): HMAC-SHA256 bound to a context (namespace/pod UID), so
 * an id copied from another pod's Secret, or made up, does not verify.
 */
export class SealBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error("seal-box: key must be 32 bytes");
    this.#key = Buffer.from(key);
  }

  seal(plaintext: string, boundTo: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(boundTo, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
  }

  tag(value: string, boundTo: string): string {
    return this.#mac(value, boundTo).toString("base64url");
  }

  /** True when `tag` is tag(value, boundTo) under this key (constant time). */
  verifyTag(tag: unknown, value: string, boundTo: string): boolean {
    if (typeof tag !== "string") return false;
    const given = Buffer.from(tag, "base64url");
    const expected = this.#mac(value, boundTo);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #mac(value: string, boundTo: string): Buffer {
    // Domain-separated from the cipher's use of the key; truncated to 128 bits.
    return createHmac("sha256", this.#key)
      .update("leasekeeper id tag\0")
      .update(boundTo)
      .update("\0")
      .update(value)
      .digest()
      .subarray(0, 16);
  }

  open(blob: string, boundTo: string): string {
    const raw = Buffer.from(blob, "base64");
    if (raw.length < 29) throw new Error("seal-box: ciphertext too short");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(boundTo, "utf8"));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
    } catch (err) {
      throw new Error("seal-box: ciphertext does not authenticate (wrong key or record)", { cause: err });
    }
  }
}
