import { randomBytes } from "node:crypto";
import { link, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { decodeEntry, keyStoreExists, type KeyBlobStore } from "./key-blob-store.ts";

const FORMAT = "leasekeeper.io/unseal-keys/v1";

interface FileBody {
  format: string;
  metadata: Record<string, string>;
  entries: Record<string, string>;
}

/**
 * Key store in one JSON file (mode 0600) of base64 ciphertexts. Writes go to a temporary file
 * first; create-only uses link(2), which fails atomically when the target exists.
 */
export function createFileBlobStore(path: string): KeyBlobStore {
  const location = `file ${path}`;

  async function writeTemp(body: FileBody): Promise<string> {
    const tmp = `${path}.tmp-${randomBytes(6).toString("hex")}`;
    await writeFile(tmp, JSON.stringify(body, null, 2), { mode: 0o600, flag: "wx" });
    return tmp;
  }

  return {
    location,
    async read() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
      const body = JSON.parse(text) as Partial<FileBody>;
      if (body.format !== FORMAT || typeof body.entries !== "object" || body.entries === null) {
        throw new Error(`key store ${location}: not a ${FORMAT} file`);
      }
      return new Map(Object.entries(body.entries).map(([k, v]) => [k, decodeEntry(location, k, v)]));
    },
    async create(entries, options) {
      const tmp = await writeTemp({
        format: FORMAT,
        metadata: { ...options.metadata },
        entries: Object.fromEntries([...entries].map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
      });
      try {
        if (options.overwrite) {
          await rename(tmp, path);
          return;
        }
        try {
          await link(tmp, path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "EEXIST") throw keyStoreExists(location);
          throw err;
        }
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
    },
    async probe(blob) {
      const probePath = `${path}.probe-${randomBytes(6).toString("hex")}`;
      await writeFile(probePath, Buffer.from(blob), { mode: 0o600, flag: "wx" });
      try {
        return new Uint8Array(await readFile(probePath));
      } finally {
        await unlink(probePath).catch(() => undefined);
      }
    },
  };
}
