import { messageOf } from "../shared/errors/errors.ts";
import { decodeShare, keyMaterial, wipeAll, type KeyMaterial } from "../shared/unseal/key-material.ts";
import type { SealedKeyStore } from "../shared/unseal/sealed-key-store.ts";

export interface CliIo {
  readonly stdin: AsyncIterable<Buffer | string> | Iterable<Buffer | string>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export interface KeysDeps {
  readonly keys: SealedKeyStore;
  readonly kmsKeyId: string;
}

export const KEYS_USAGE = `usage: leasekeeper keys import [--force] [--include-root-token] < shares
       leasekeeper keys verify

import  reads unseal key shares from stdin (one per line, hex or base64; or the JSON of
        "vault operator init -format=json" / PUT sys/init), encrypts each with KMS under this
        cluster's encryption context and writes the key store. Refuses to replace an existing
        store without --force. The root token is stored only with --include-root-token.
verify  decrypts every stored entry with KMS and prints how many there are. Never prints a key.`;

/** `leasekeeper keys <import|verify>`; returns the exit code. Prints counts and locations only. */
export async function runKeysCommand(args: readonly string[], io: CliIo, deps: KeysDeps): Promise<number> {
  const [command, ...flags] = args;
  const known = new Set(["--force", "--include-root-token"]);
  const unknown = flags.filter((f) => !known.has(f));
  if (
    (command !== "import" && command !== "verify") ||
    unknown.length > 0 ||
    (command === "verify" && flags.length > 0)
  ) {
    io.err(KEYS_USAGE);
    return 2;
  }
  try {
    return command === "import"
      ? await importKeys(io, deps, {
          force: flags.includes("--force"),
          rootToken: flags.includes("--include-root-token"),
        })
      : await verifyKeys(io, deps);
  } catch (err) {
    io.err(`leasekeeper keys ${command}: ${messageOf(err)}`);
    return 1;
  }
}

async function importKeys(io: CliIo, deps: KeysDeps, opts: { force: boolean; rootToken: boolean }): Promise<number> {
  const existing = await deps.keys.counts();
  if (existing && !opts.force) {
    io.err(
      `leasekeeper keys import: ${deps.keys.location} already holds ${existing.shares} share(s); refusing to overwrite it (use --force)`,
    );
    return 1;
  }
  const input = await readAll(io.stdin);
  let material: KeyMaterial;
  try {
    material = parseShares(input, opts.rootToken);
  } finally {
    input.fill(0);
  }
  try {
    const stored = await deps.keys.save(material, { overwrite: opts.force });
    io.out(
      `stored ${stored.shares} unseal key share(s)${stored.rootToken ? " and the root token" : ""} in ${deps.keys.location}, ` +
        `encrypted with KMS key ${deps.kmsKeyId}; verified by decrypting them back`,
    );
    return 0;
  } finally {
    material.wipe();
  }
}

async function verifyKeys(io: CliIo, deps: KeysDeps): Promise<number> {
  const material = await deps.keys.load({ rootToken: true });
  if (!material) {
    io.err(`leasekeeper keys verify: no key store at ${deps.keys.location}`);
    return 1;
  }
  try {
    io.out(
      `${deps.keys.location}: ${material.shares.length} unseal key share(s) decrypt with KMS key ${deps.kmsKeyId}; ` +
        `root token: ${material.rootToken ? "present (decrypts)" : "not stored"}`,
    );
    return material.shares.length > 0 ? 0 : 1;
  } finally {
    material.wipe();
  }
}

async function readAll(stdin: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  const all = Buffer.concat(chunks);
  wipeAll(...chunks);
  return all;
}

/**
 * Shares from stdin: the JSON of `vault operator init -format=json` (unseal_keys_b64 /
 * unseal_keys_hex / root_token) or of PUT sys/init (keys_base64 / keys / root_token); or text,
 * one share per line ("Unseal Key 1: <share>" lines are accepted, "Initial Root Token: …"
 * too). Errors never echo input.
 */
export function parseShares(input: Buffer, includeRootToken: boolean): KeyMaterial {
  const text = input.toString("utf8").trim();
  const shares: Buffer[] = [];
  let root: Buffer | undefined;
  try {
    if (text.startsWith("{")) {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new Error("stdin looks like JSON but does not parse");
      }
      const list = [body.unseal_keys_b64, body.keys_base64, body.unseal_keys_hex, body.keys].find((v) =>
        Array.isArray(v),
      ) as unknown[] | undefined;
      if (!list) throw new Error("JSON input has no unseal_keys_b64 / keys_base64 / unseal_keys_hex / keys array");
      list.forEach((v, i) => shares.push(decodeShare(String(v), i)));
      if (includeRootToken && typeof body.root_token === "string" && body.root_token)
        root = Buffer.from(body.root_token, "utf8");
    } else {
      for (const line of text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"))) {
        const rootLine = /^initial root token:\s*(\S+)$/i.exec(line);
        if (rootLine) {
          if (includeRootToken) root = Buffer.from(rootLine[1] as string, "utf8");
          continue;
        }
        const value = /^unseal key \d+:\s*(\S+)$/i.exec(line)?.[1] ?? line;
        shares.push(decodeShare(value, shares.length));
      }
    }
    if (shares.length === 0) throw new Error("no unseal key shares on stdin");
    if (includeRootToken && !root) throw new Error("--include-root-token given but no root token found on stdin");
    return keyMaterial(shares, root);
  } finally {
    wipeAll(...shares, root);
  }
}
