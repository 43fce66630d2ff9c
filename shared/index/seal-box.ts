import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * AES-256-GCM for values kept in Redis (the pod's Vault token). The additional data binds
 * a ciphertext to its record, so a blob copied to another pod's record does not decrypt.
 * Format: base64(iv[12] | tag[16] | ciphertext).
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
