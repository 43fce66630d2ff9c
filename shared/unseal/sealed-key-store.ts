import { timingSafeEqual, randomBytes } from "node:crypto";
import type { EncryptionContext, KmsPort } from "../ports/kms.ts";
import { entryContext } from "./encryption-context.ts";
import { ENTRY_ROOT_TOKEN, SHARE_ENTRY, keyStoreInvalid, shareEntry, type KeyBlobStore } from "./key-blob-store.ts";
import { keyMaterial, wipeAll, type KeyMaterial } from "./key-material.ts";

export interface StoredCounts {
  readonly shares: number;
  readonly rootToken: boolean;
}

/**
 * Unseal key shares (and optionally the root token) as KMS ciphertexts in a KeyBlobStore, each
 * under its own encryption context. Plaintext exists only inside KeyMaterial, which the caller
 * wipes.
 */
export interface SealedKeyStore {
  readonly location: string;
  /** Counts of what is stored, without decrypting; undefined when the store does not exist. */
  counts(): Promise<StoredCounts | undefined>;
  /** Decrypts the shares (and the root token only when asked); undefined when no store exists. */
  load(options?: { rootToken?: boolean }): Promise<KeyMaterial | undefined>;
  /** Encrypts everything first, writes once (create-only unless overwrite), then reads back and verifies. */
  save(
    material: { shares: readonly Uint8Array[]; rootToken?: Uint8Array | undefined },
    options: { overwrite: boolean },
  ): Promise<StoredCounts>;
  /** True when the store holds exactly these shares (and this root token, when given): decrypts, compares, wipes. */
  holds(material: { shares: readonly Uint8Array[]; rootToken?: Uint8Array | undefined }): Promise<boolean>;
  /** Proves KMS encrypt + decrypt and a write/read-back of the store, with random bytes. */
  probe(): Promise<void>;
}

/** The share entries of a store, in share order. */
function shareNames(entries: Map<string, Uint8Array>): string[] {
  return [...entries.keys()]
    .filter((k) => SHARE_ENTRY.test(k))
    .sort((a, b) => Number(SHARE_ENTRY.exec(a)?.[1]) - Number(SHARE_ENTRY.exec(b)?.[1]));
}

export function createSealedKeyStore(blobs: KeyBlobStore, kms: KmsPort, base: EncryptionContext): SealedKeyStore {
  const ctx = (entry: string) => entryContext(base, entry);

  async function decryptAll(entries: Map<string, Uint8Array>, withRoot: boolean): Promise<KeyMaterial> {
    const names = shareNames(entries);
    const missing =
      names.length === 0
        ? []
        : Array.from({ length: Number(SHARE_ENTRY.exec(names.at(-1) as string)?.[1]) + 1 }, (_, i) =>
            shareEntry(i),
          ).filter((n) => !entries.has(n));
    if (missing.length > 0)
      throw keyStoreInvalid(blobs.location, `entries ${missing.join(", ")} missing (has ${names.join(", ")})`);
    const plain: Uint8Array[] = [];
    let root: Uint8Array | undefined;
    try {
      for (const name of names) plain.push(await kms.decrypt(entries.get(name) as Uint8Array, ctx(name)));
      const dup = duplicateOf(plain);
      if (dup)
        throw keyStoreInvalid(blobs.location, `entries ${names[dup[0]]} and ${names[dup[1]]} hold the same share`);
      const rootBlob = entries.get(ENTRY_ROOT_TOKEN);
      if (withRoot && rootBlob) root = await kms.decrypt(rootBlob, ctx(ENTRY_ROOT_TOKEN));
      return keyMaterial(plain, root);
    } finally {
      wipeAll(...plain, root);
    }
  }

  async function holdsMaterial(
    entries: Map<string, Uint8Array>,
    material: { shares: readonly Uint8Array[]; rootToken?: Uint8Array | undefined },
  ): Promise<boolean> {
    const check = await decryptAll(entries, material.rootToken !== undefined);
    try {
      const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
        a !== undefined && b !== undefined && a.length === b.length && timingSafeEqual(a, b);
      return (
        check.shares.length === material.shares.length &&
        material.shares.every((s, i) => same(s, check.shares[i])) &&
        (material.rootToken === undefined || same(material.rootToken, check.rootToken))
      );
    } finally {
      check.wipe();
    }
  }

  return {
    location: blobs.location,
    async counts() {
      const entries = await blobs.read();
      if (!entries) return undefined;
      return { shares: shareNames(entries).length, rootToken: entries.has(ENTRY_ROOT_TOKEN) };
    },
    async load(options = {}) {
      const entries = await blobs.read();
      if (!entries) return undefined;
      return decryptAll(entries, options.rootToken === true);
    },
    async save(material, options) {
      if (material.shares.length === 0) throw new Error("no unseal key shares to store");
      const dup = duplicateOf(material.shares);
      if (dup) throw new Error(`shares #${dup[0] + 1} and #${dup[1] + 1} are the same share; nothing stored`);
      const entries = new Map<string, Uint8Array>();
      for (const [i, share] of material.shares.entries())
        entries.set(shareEntry(i), await kms.encrypt(share, ctx(shareEntry(i))));
      if (material.rootToken)
        entries.set(ENTRY_ROOT_TOKEN, await kms.encrypt(material.rootToken, ctx(ENTRY_ROOT_TOKEN)));
      await blobs.create(entries, {
        overwrite: options.overwrite,
        metadata: {
          format: "v1",
          "kms-key-id": kms.keyId,
          shares: String(material.shares.length),
          "written-at": new Date().toISOString(),
        },
      });
      const back = await blobs.read();
      if (!back) throw new Error(`key store ${blobs.location}: written but not readable`);
      if (!(await holdsMaterial(back, material)))
        throw new Error(`key store ${blobs.location}: read-back does not match what was written`);
      return { shares: material.shares.length, rootToken: material.rootToken !== undefined };
    },
    async holds(material) {
      const entries = await blobs.read();
      return entries !== undefined && holdsMaterial(entries, material);
    },
    async probe() {
      const secret = randomBytes(32);
      const context = ctx("probe");
      const blob = await kms.encrypt(secret, context);
      const back = await blobs.probe(blob);
      const plain = await kms.decrypt(back, context);
      try {
        if (plain.length !== secret.length || !timingSafeEqual(plain, secret))
          throw new Error(`key store ${blobs.location}: probe read-back mismatch`);
      } finally {
        wipeAll(plain, secret);
      }
    },
  };
}

/** Indexes of the first two equal buffers, if any (constant-time compare of equal lengths). */
function duplicateOf(buffers: readonly Uint8Array[]): [number, number] | undefined {
  for (let i = 0; i < buffers.length; i++) {
    for (let j = i + 1; j < buffers.length; j++) {
      const a = buffers[i] as Uint8Array;
      const b = buffers[j] as Uint8Array;
      if (a.length === b.length && timingSafeEqual(a, b)) return [i, j];
    }
  }
  return undefined;
}
