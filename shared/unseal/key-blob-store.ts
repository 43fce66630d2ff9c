import { PermanentError } from "../errors/errors.ts";

/** Entry names inside a key store. Shares are "unseal-0" … "unseal-(N-1)". */
export const ENTRY_ROOT_TOKEN = "root-token";
export const shareEntry = (i: number) => `unseal-${i}`;
export const SHARE_ENTRY = /^unseal-(\d{1,3})$/;

/**
 * Where the KMS ciphertexts live: a Kubernetes Secret or a file. It stores opaque bytes;
 * encryption is the layer above (sealed-key-store.ts).
 */
export interface KeyBlobStore {
  /** "secret vault/leasekeeper-unseal-keys" or "file /path": for messages, never secret. */
  readonly location: string;
  /** Every entry, or undefined when the store does not exist. */
  read(): Promise<Map<string, Uint8Array> | undefined>;
  /**
   * Writes all entries at once. Without `overwrite` it refuses (KeyStoreExists) when the store
   * exists; with it, it replaces only what it read (KeyStoreConflict when it changed meanwhile),
   * where the backend can tell.
   */
  create(
    entries: ReadonlyMap<string, Uint8Array>,
    options: { overwrite: boolean; metadata: Readonly<Record<string, string>> },
  ): Promise<void>;
  /** Writes `blob` to a side object, reads it back and removes it: proves write access. */
  probe(blob: Uint8Array): Promise<Uint8Array>;
}

/** A key store whose content is damaged (not base64, missing or duplicated shares): never retried. */
export function keyStoreInvalid(location: string, why: string): PermanentError {
  return new PermanentError(`key store ${location} is damaged: ${why}`, "KeyStoreInvalid");
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 of one stored entry (Buffer.from would silently skip bad characters); names the entry, never its value. */
export function decodeEntry(location: string, name: string, value: unknown): Uint8Array {
  const text = typeof value === "string" ? value.replace(/\s+/g, "") : "";
  if (text === "" || !BASE64.test(text)) throw keyStoreInvalid(location, `entry ${name} is not a base64 ciphertext`);
  return new Uint8Array(Buffer.from(text, "base64"));
}

export function keyStoreExists(location: string): PermanentError {
  return new PermanentError(`key store ${location} already exists; refusing to overwrite it`, "KeyStoreExists");
}

/** The store changed between reading and replacing it (another writer): nothing was overwritten. */
export function keyStoreChanged(location: string): PermanentError {
  return new PermanentError(
    `key store ${location} was changed by someone else while it was being replaced; nothing overwritten`,
    "KeyStoreConflict",
  );
}
