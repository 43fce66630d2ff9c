/**
 * The token_* fields every auth role carries (sdk/helper/tokenutil/tokenutil.go `ParseTokenFields`)
 * and the login token an auth method's role yields (vault/request_handling.go `handleLoginRequest`:
 * display name prefixed with the mount path, `default*` token types resolved to service or batch).
 */
import type { Core } from "./core-types.ts";
import { authBlock } from "./auth-block.ts";
import { badRequest } from "./errors.ts";
import { logical } from "./envelope.ts";
import { optBool, optDuration, optInt, optString, optStrings, sanitizePolicies } from "./fields.ts";
import { SYSTEM_DEFAULT_TTL, SYSTEM_MAX_TTL, ttlCappedWarning } from "./durations.ts";
import type { Data, Reply, RoleTokenType, TokenParams } from "./types.ts";

const TOKEN_TYPES: readonly RoleTokenType[] = ["default", "service", "batch", "default-service", "default-batch"];

function first<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

/** Parses token_* (and the legacy ttl/max_ttl/period/policies/num_uses/bound_cidrs) over `old`. */
export function parseTokenParams(d: Data, old: TokenParams | undefined): TokenParams {
  const typeIn = optString(d, "token_type");
  if (typeIn !== undefined && !(TOKEN_TYPES as readonly string[]).includes(typeIn === "" ? "default" : typeIn)) {
    throw badRequest(`invalid 'token_type' value ${JSON.stringify(typeIn)}`);
  }
  const p: TokenParams = {
    token_ttl: first(optDuration(d, "token_ttl"), optDuration(d, "ttl"), old?.token_ttl) ?? 0,
    token_max_ttl: first(optDuration(d, "token_max_ttl"), optDuration(d, "max_ttl"), old?.token_max_ttl) ?? 0,
    token_period: first(optDuration(d, "token_period"), optDuration(d, "period"), old?.token_period) ?? 0,
    token_explicit_max_ttl: first(optDuration(d, "token_explicit_max_ttl"), old?.token_explicit_max_ttl) ?? 0,
    token_policies: first(optStrings(d, "token_policies"), optStrings(d, "policies"), old?.token_policies) ?? [],
    token_no_default_policy: first(optBool(d, "token_no_default_policy"), old?.token_no_default_policy) ?? false,
    token_num_uses: first(optInt(d, "token_num_uses"), optInt(d, "num_uses"), old?.token_num_uses) ?? 0,
    token_bound_cidrs:
      first(optStrings(d, "token_bound_cidrs"), optStrings(d, "bound_cidrs"), old?.token_bound_cidrs) ?? [],
    token_type: ((typeIn === "" ? "default" : typeIn) as RoleTokenType | undefined) ?? old?.token_type ?? "default",
  };
  if (isBatch(p.token_type)) {
    if (p.token_period !== 0)
      throw badRequest("'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens");
    if (p.token_num_uses !== 0) {
      throw badRequest(
        "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count",
      );
    }
  }
  if (p.token_max_ttl > 0 && p.token_ttl > p.token_max_ttl)
    throw badRequest("token ttl should not be greater than token max ttl");
  return p;
}

/** The mount's default token type is `default-service`, so only batch / default-batch give batch tokens. */
export function isBatch(type: RoleTokenType): boolean {
  return type === "batch" || type === "default-batch";
}

/** Role read output: the token_* fields plus the legacy names Vault still returns. */
export function tokenParamsData(p: TokenParams): Data {
  return { ...p, ttl: p.token_ttl, max_ttl: p.token_max_ttl, period: p.token_period, policies: p.token_policies };
}

export interface LoginSpec {
  /** The auth mount path without `auth/`, with trailing slash (e.g. "kubernetes/"). */
  mountPath: string;
  mountType: string;
  roleName: string;
  params: TokenParams;
  /** What the plugin sets (e.g. `<namespace>-<sa name>`); the mount path is prefixed here. */
  displayName: string;
  meta: Record<string, string>;
}

/** Issues the login token (always an orphan) and answers with Vault's auth envelope. */
export function issueLoginToken(core: Core, spec: LoginSpec): Reply {
  const p = spec.params;
  const policies = sanitizePolicies(p.token_policies, !p.token_no_default_policy);
  if (policies.includes("root")) throw badRequest("auth methods cannot create root tokens");
  const warnings: string[] = [];
  const maxCandidates = [p.token_max_ttl, p.token_explicit_max_ttl].filter((v) => v > 0);
  const maxTtl = maxCandidates.length > 0 ? Math.min(...maxCandidates, SYSTEM_MAX_TTL) : SYSTEM_MAX_TTL;
  let ttl = p.token_period > 0 ? p.token_period : p.token_ttl || SYSTEM_DEFAULT_TTL;
  if (ttl > maxTtl) {
    warnings.push(ttlCappedWarning(ttl, maxTtl));
    ttl = maxTtl;
  }
  const entry = core.tokens.create({
    type: isBatch(p.token_type) ? "batch" : "service",
    policies,
    displayName: `${spec.mountPath.replace(/\//g, "-")}${spec.displayName}`,
    meta: spec.meta,
    ttl,
    explicitMaxTtl: p.token_explicit_max_ttl,
    maxTtl,
    period: p.token_period,
    renewable: true,
    parent: null,
    path: `auth/${spec.mountPath}login`,
    numUses: p.token_num_uses,
    role: spec.roleName,
  });
  return logical({ auth: authBlock(entry, ttl), warnings, mountType: spec.mountType });
}
