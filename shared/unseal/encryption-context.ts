import type { EncryptionContext } from "../ports/kms.ts";

/**
 * KMS encryption context for stored unseal material. It binds every ciphertext to this
 * cluster and to the entry it was written for, so a blob cannot be swapped between entries
 * or replayed in another cluster (KMS answers InvalidCiphertextException). It is logged by
 * CloudTrail and usable in key-policy conditions (kms:EncryptionContext:cluster), so it must
 * hold identifiers only, never secrets.
 */
export function baseContext(clusterId: string, extra: Readonly<Record<string, string>> = {}): EncryptionContext {
  return Object.freeze({ ...extra, app: "leasekeeper", purpose: "vault-unseal", cluster: clusterId });
}

/** The context of one stored entry ("unseal-0", "root-token", ...). */
export function entryContext(base: EncryptionContext, entry: string): EncryptionContext {
  return Object.freeze({ ...base, entry });
}

/** Parses "k=v,k2=v2" (the LEASEKEEPER_UNSEAL_CONTEXT form); throws on a malformed pair. */
export function parseContextPairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0 || eq === part.length - 1) throw new Error(`expected key=value, got "${part}"`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}
