/**
 * auth/token/create, create-orphan and create/<role> (vault/token_store.go `handleCreateCommon`):
 * policies as a subset of the parent's (or of the role's allowed_policies), orphans, display names,
 * TTL capping, and batch tokens (`type=batch` or a role with `token_type=batch`).
 */
import type { Core } from "./core-types.ts";
import { authBlock } from "./auth-block.ts";
import { logical } from "./envelope.ts";
import { badRequest, VaultHttpError } from "./errors.ts";
import { optBool, optDuration, optInt, optString, optStringMap, optStrings, sanitizePolicies } from "./fields.ts";
import { SYSTEM_DEFAULT_TTL, SYSTEM_MAX_TTL, ttlCappedWarning } from "./durations.ts";
import type { Reply, TokenEntry, TokenRole, TokenType, VaultRequest } from "./types.ts";

const MOUNT = "token";

export function caller(req: VaultRequest): TokenEntry {
  if (!req.token) throw new VaultHttpError(400, "missing client token");
  return req.token;
}

const isRoot = (t: TokenEntry) => t.policies.includes("root");

function policiesFor(parent: TokenEntry, req: VaultRequest, role: TokenRole | undefined): string[] {
  const requested = optStrings(req.data, "policies");
  const addDefault = !(optBool(req.data, "no_default_policy") ?? false);
  if (role && role.allowed_policies.length > 0) {
    const allowed = sanitizePolicies(role.allowed_policies, addDefault);
    if (requested === undefined) return allowed;
    const chosen = sanitizePolicies(requested, addDefault);
    if (!chosen.every((p) => allowed.includes(p))) {
      throw badRequest(
        `token policies (${JSON.stringify(chosen)}) must be subset of the role's allowed policies (${JSON.stringify(allowed)})`,
      );
    }
    return chosen;
  }
  const policies = requested === undefined ? [...parent.policies] : sanitizePolicies(requested, addDefault);
  if (!isRoot(parent)) {
    const allowed = new Set([...parent.policies, "default"]);
    if (policies.some((p) => !allowed.has(p))) throw badRequest("child policies must be subset of parent");
  }
  return policies;
}

/** `type` from the request, overridden or defaulted by the role's token_type. */
function tokenTypeOf(req: VaultRequest, role: TokenRole | undefined): TokenType {
  let type = optString(req.data, "type") ?? "";
  if (role?.token_type === "batch" || role?.token_type === "service") type = role.token_type;
  else if (role?.token_type === "default-batch" && type === "") type = "batch";
  if (type === "" || type === "service") return "service";
  if (type !== "batch") throw badRequest("invalid 'token_type' value");
  for (const key of ["explicit_max_ttl", "num_uses", "period"]) {
    const v = key === "num_uses" ? optInt(req.data, key) : optDuration(req.data, key);
    if (v !== undefined && v !== 0) throw badRequest(`batch tokens cannot have "${key}" set`);
  }
  return "batch";
}

export function createToken(core: Core, req: VaultRequest, opts: { orphan: boolean; role?: TokenRole }): Reply {
  const parent = caller(req);
  if (parent.type === "batch") throw badRequest("batch tokens cannot create more tokens");
  const d = req.data;
  const role = opts.role;
  const policies = policiesFor(parent, req, role);
  const type = tokenTypeOf(req, role);
  if (type === "batch" && policies.includes("root")) throw badRequest("batch tokens cannot be root tokens");
  const noParent = role ? role.orphan : opts.orphan || (optBool(d, "no_parent") ?? false);
  if (!role && noParent && !opts.orphan && !isRoot(parent)) {
    throw badRequest("root or sudo privileges required to create orphan token");
  }
  const explicitMax = optDuration(d, "explicit_max_ttl") ?? role?.token_explicit_max_ttl ?? 0;
  const period = optDuration(d, "period") ?? role?.token_period ?? 0;
  const warnings: string[] = [];
  let ttl = period > 0 ? period : (optDuration(d, "ttl") ?? optDuration(d, "lease") ?? role?.token_ttl ?? 0);
  if (ttl === 0 && !(policies.length === 1 && policies[0] === "root")) ttl = SYSTEM_DEFAULT_TTL;
  const maxTtl = explicitMax > 0 ? explicitMax : SYSTEM_MAX_TTL;
  if (ttl > maxTtl) {
    warnings.push(ttlCappedWarning(ttl, maxTtl));
    ttl = maxTtl;
  }
  const name = optString(d, "display_name");
  const suffix = role
    ? `create/${role.name}${role.path_suffix ? `/${role.path_suffix}` : ""}`
    : opts.orphan
      ? "create-orphan"
      : "create";
  const entry = core.tokens.create({
    type,
    policies,
    displayName: name ? `token-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}` : "token",
    meta: optStringMap(d, "meta") ?? null,
    ttl,
    explicitMaxTtl: explicitMax,
    maxTtl: ttl === 0 ? 0 : maxTtl,
    period,
    renewable: (optBool(d, "renewable") ?? true) && (role?.renewable ?? true),
    parent: noParent ? null : parent.id,
    path: `auth/token/${suffix}`,
    numUses: optInt(d, "num_uses") ?? 0,
    role: role?.name ?? null,
  });
  return logical({ auth: authBlock(entry, ttl), warnings, mountType: MOUNT });
}
