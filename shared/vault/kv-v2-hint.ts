import { PermanentError, isPermanent } from "../errors/errors.ts";

/**
 * The mounts where a KV v2 engine usually lives: the dev server's and the tutorials' `secret/`,
 * and what `vault secrets enable -version=2 kv` / `enable kv-v2` create.
 */
const KV_V2_MOUNTS = new Set(["secret", "kv", "kv-v2"]);
const KV_V2_SUBPATHS = /^(data|metadata|delete|undelete|destroy|subkeys|config)(\/|$)/;

/**
 * A KV v2 secret is read at `<mount>/data/<path>` (what `vault kv get <mount>/<path>` reads), so
 * `secret/db-pass` is denied by a policy for `secret/data/db-pass`. When a read of a path with no
 * `data/` fails on a usual KV v2 mount (or Vault says the path is not valid for versioned K/V),
 * the hint names the path to use. A guess for the message only: nothing else depends on it.
 */
export function kvV2Hint(path: string, vaultMessage: string): string | undefined {
  const [mount, ...rest] = path.replace(/^\/+/, "").split("/");
  if (!mount || rest.length === 0 || KV_V2_SUBPATHS.test(rest.join("/"))) return undefined;
  if (!KV_V2_MOUNTS.has(mount) && !/versioned K\/V/i.test(vaultMessage)) return undefined;
  return `if ${mount}/ is a KV v2 mount, read ${mount}/data/${rest.join("/")} (KV v2 keeps a secret's data under <mount>/data/)`;
}

/** Rethrows a denied or missing read with the KV v2 hint added; every other error as it is. */
export async function withKvV2Hint<T>(path: string, read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (err) {
    if (!isPermanent(err) || (err.reason !== "VaultPermissionDenied" && err.reason !== "VaultNotFound")) throw err;
    const hint = kvV2Hint(path, err.message);
    if (!hint) throw err;
    throw new PermanentError(`${err.message}; ${hint}`, err.reason, { cause: err });
  }
}
