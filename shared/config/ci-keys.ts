/**
 * CI hook keys, as LEASEKEEPER_CI_HMAC_SECRETS lists them (comma separated), each with its scope:
 *
 *   <secret>;verbs=<verb>[+<verb>…][;namespaces=<namespace>[+<namespace>…]|*][;name=<name>]
 *
 * e.g. `3f9a…;verbs=rotate+revoke;namespaces=shop+web;name=shop-deploy`. A key may only use its
 * verbs (rotate, revoke, unseal; `*` for all three), and rotate/revoke only on pods in its
 * namespaces (`*`: every namespace, and Vault path-prefix scopes, which span namespaces). Entries
 * may share a name (the old and the new secret while rotating); the name is the CI identity in the
 * audit trail (default `ci-key-<position>`). Errors name the entry's position, never its content.
 */
export const CI_VERBS = ["rotate", "revoke", "unseal"] as const;
export type CiVerb = (typeof CI_VERBS)[number];

export interface CiScope {
  readonly verbs: readonly CiVerb[];
  /** "*" = every namespace (and path-prefix scopes); empty when the key may only unseal. */
  readonly namespaces: "*" | readonly string[];
}

export interface CiKey {
  readonly name: string;
  readonly secret: string;
  readonly scope: CiScope;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;
export const CI_KEY_FORMAT = "<secret>;verbs=rotate+revoke+unseal;namespaces=<ns>+<ns>|*[;name=<name>]";

/** One entry of LEASEKEEPER_CI_HMAC_SECRETS; `position` is 1-based. Throws naming the position only. */
export function parseCiKey(entry: string, position: number): CiKey {
  const where = `entry ${position}`;
  const [secret = "", ...params] = entry
    .trim()
    .split(";")
    .map((p) => p.trim());
  if (secret.length < 32 || /\s/.test(secret))
    throw new Error(`${where}: the secret must be at least 32 characters without spaces (openssl rand -hex 32)`);
  const fields = new Map<string, string>();
  for (const param of params) {
    const eq = param.indexOf("=");
    const key = eq < 0 ? param : param.slice(0, eq);
    if (!["verbs", "namespaces", "name"].includes(key) || eq < 0)
      throw new Error(`${where}: unknown parameter "${key.slice(0, 20)}"; expected ${CI_KEY_FORMAT}`);
    if (fields.has(key)) throw new Error(`${where}: ${key} is given twice`);
    fields.set(key, param.slice(eq + 1).trim());
  }
  const verbsText = fields.get("verbs");
  if (verbsText === undefined) {
    throw new Error(
      `${where}: no scope; every CI key names what it may do, e.g. <secret>;verbs=rotate;namespaces=shop (${CI_KEY_FORMAT})`,
    );
  }
  const verbs = verbsText === "*" ? [...CI_VERBS] : splitPlus(verbsText);
  for (const verb of verbs) {
    if (!(CI_VERBS as readonly string[]).includes(verb))
      throw new Error(`${where}: unknown verb "${verb.slice(0, 20)}"; expected ${CI_VERBS.join(", ")} or *`);
  }
  if (verbs.length === 0) throw new Error(`${where}: verbs is empty`);
  const namespacesText = fields.get("namespaces");
  let namespaces: CiScope["namespaces"] = [];
  if (namespacesText === "*") namespaces = "*";
  else if (namespacesText !== undefined) {
    namespaces = splitPlus(namespacesText);
    const bad = namespaces.find((ns) => !NAMESPACE.test(ns));
    if (bad !== undefined || namespaces.length === 0)
      throw new Error(`${where}: namespaces must be namespace names joined by + (or *)`);
  }
  if (verbs.some((v) => v !== "unseal") && namespaces !== "*" && namespaces.length === 0) {
    throw new Error(`${where}: rotate and revoke need namespaces=<ns>[+<ns>…] (or namespaces=* for every namespace)`);
  }
  const name = fields.get("name") ?? `ci-key-${position}`;
  if (!NAME.test(name)) throw new Error(`${where}: name must be lowercase letters, digits, '-' or '.' (at most 63)`);
  return { name, secret, scope: { verbs: [...new Set(verbs)] as CiVerb[], namespaces } };
}

/** Every entry of LEASEKEEPER_CI_HMAC_SECRETS; throws on the first bad one. */
export function parseCiKeys(entries: readonly string[]): CiKey[] {
  return entries.map((entry, i) => parseCiKey(entry, i + 1));
}

/** May a key with this scope do `verb` in `namespace` (undefined: cluster-wide, e.g. a path-prefix scope)? */
export function ciScopeAllows(scope: CiScope, verb: CiVerb, namespace: string | undefined): boolean {
  if (!scope.verbs.includes(verb)) return false;
  if (verb === "unseal") return true;
  if (scope.namespaces === "*") return true;
  return namespace !== undefined && scope.namespaces.includes(namespace);
}

function splitPlus(text: string): string[] {
  return text
    .split("+")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
