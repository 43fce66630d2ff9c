/**
 * Plaintext unseal material held in memory: Buffers only (strings cannot be wiped), zeroed by
 * `wipe()` as soon as the caller is done. Best effort: the SDKs and the HTTP stack keep their
 * own short-lived copies that JavaScript cannot reach.
 */
export interface KeyMaterial {
  readonly shares: readonly Buffer[];
  readonly rootToken: Buffer | undefined;
  wipe(): void;
}

export function keyMaterial(shares: readonly Uint8Array[], rootToken?: Uint8Array): KeyMaterial {
  const own = shares.map((s) => Buffer.from(s));
  const root = rootToken ? Buffer.from(rootToken) : undefined;
  return {
    shares: own,
    rootToken: root,
    wipe() {
      for (const share of own) share.fill(0);
      root?.fill(0);
    },
  };
}

/** Zeroes every Uint8Array given (plaintexts returned by KMS, decoded shares). */
export function wipeAll(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

/**
 * Decodes one share as Vault does (sys/unseal step 4): hex when it decodes to 16–33 bytes,
 * otherwise standard base64 of 16–33 bytes. Throws without echoing the input.
 */
export function decodeShare(text: string, index: number): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0) {
    const hex = Buffer.from(t, "hex");
    if (hex.length >= 16 && hex.length <= 33) return hex;
    hex.fill(0);
  }
  if (/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(t)) {
    const b64 = Buffer.from(t, "base64");
    if (b64.length >= 16 && b64.length <= 33) return b64;
    b64.fill(0);
  }
  throw new Error(`share #${index + 1} is not a Vault unseal key (hex or base64 of 16–33 bytes)`);
}
