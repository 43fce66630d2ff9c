/**
 * A JWT auth mount (hashicorp/vault-plugin-auth-jwt path_config.go, path_role.go, path_login.go) for
 * `role_type=jwt` logins: keys from `jwt_validation_pubkeys` (PEM) or `jwks_url` (fetched at
 * config write and at login), claims checked by jwt-verify.ts, `bound_audiences` / `bound_subject` /
 * `bound_claims`, `user_claim` as the alias (token display name `<mount>-<user>`), token_* fields.
 * Not modelled: OIDC discovery and the OIDC flow, claim_mappings beyond strings, groups, glob claims.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import type { Core } from "./core-types.ts";
import { badRequest, emptyError, VaultHttpError, wrapped } from "./errors.ts";
import { emptyReply, logical } from "./envelope.ts";
import { optDuration, optObject, optString, optStrings } from "./fields.ts";
import { DEFAULT_ALGS, jwksKeys, validateJwt, type Claims } from "./jwt-verify.ts";
import { issueLoginToken, parseTokenParams, tokenParamsData } from "./token-params.ts";
import { ipAllowed } from "./cidr.ts";
import { SYSTEM_DEFAULT_TTL, SYSTEM_MAX_TTL } from "./durations.ts";
import type { Data, Mount, Reply, TokenParams, VaultRequest } from "./types.ts";

const TYPE = "jwt";

interface JwtConfig {
  jwt_validation_pubkeys: string[];
  jwks_url: string;
  bound_issuer: string;
  default_role: string;
  jwt_supported_algs: string[];
}

interface JwtRole extends TokenParams {
  name: string;
  role_type: string;
  allowed_redirect_uris: string[];
  bound_audiences: string[];
  bound_subject: string;
  bound_claims: Record<string, unknown>;
  user_claim: string;
  claim_mappings: Record<string, string>;
  expiration_leeway: number;
  not_before_leeway: number;
  clock_skew_leeway: number;
}

class JwtState {
  config: JwtConfig | null = null;
  readonly roles = new Map<string, JwtRole>();
}

async function fetchJwks(url: string): Promise<{ kid: string | undefined; key: KeyObject }[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${res.status}`);
  return jwksKeys(await res.json());
}

async function writeConfig(state: JwtState, d: Data): Promise<Reply> {
  const pubkeys = optStrings(d, "jwt_validation_pubkeys") ?? [];
  const jwksUrl = optString(d, "jwks_url") ?? "";
  const discovery = optString(d, "oidc_discovery_url") ?? "";
  if ([pubkeys.length > 0, jwksUrl !== "", discovery !== ""].filter(Boolean).length !== 1) {
    throw badRequest(
      "exactly one of 'jwt_validation_pubkeys', 'jwks_url', 'jwks_pairs' or 'oidc_discovery_url' must be set",
    );
  }
  if (discovery !== "") throw badRequest("error checking oidc discovery URL");
  for (const pem of pubkeys) {
    try {
      createPublicKey(pem);
    } catch (err) {
      throw badRequest(`error parsing public key: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (jwksUrl !== "")
    await fetchJwks(jwksUrl).catch(() => Promise.reject(badRequest(`error checking jwks URL ${jwksUrl}`)));
  state.config = {
    jwt_validation_pubkeys: pubkeys,
    jwks_url: jwksUrl,
    bound_issuer: optString(d, "bound_issuer") ?? "",
    default_role: optString(d, "default_role") ?? "",
    jwt_supported_algs: optStrings(d, "jwt_supported_algs") ?? [],
  };
  return emptyReply();
}

function writeRole(state: JwtState, name: string, d: Data): Reply {
  const old = state.roles.get(name);
  const roleType = optString(d, "role_type") || old?.role_type || "oidc";
  if (roleType !== "jwt" && roleType !== "oidc") throw badRequest(`invalid 'role_type': ${roleType}`);
  const role: JwtRole = {
    ...parseTokenParams(d, old),
    name,
    role_type: roleType,
    allowed_redirect_uris: optStrings(d, "allowed_redirect_uris") ?? old?.allowed_redirect_uris ?? [],
    bound_audiences: optStrings(d, "bound_audiences") ?? old?.bound_audiences ?? [],
    bound_subject: optString(d, "bound_subject") ?? old?.bound_subject ?? "",
    bound_claims: optObject(d, "bound_claims") ?? old?.bound_claims ?? {},
    user_claim: optString(d, "user_claim") ?? old?.user_claim ?? "",
    claim_mappings: (optObject(d, "claim_mappings") as Record<string, string> | undefined) ?? old?.claim_mappings ?? {},
    expiration_leeway: optDuration(d, "expiration_leeway") ?? old?.expiration_leeway ?? 150,
    not_before_leeway: optDuration(d, "not_before_leeway") ?? old?.not_before_leeway ?? 150,
    clock_skew_leeway: optDuration(d, "clock_skew_leeway") ?? old?.clock_skew_leeway ?? 60,
  };
  if (role.user_claim === "") throw badRequest("a user claim must be defined on the role");
  if (roleType === "oidc" && role.allowed_redirect_uris.length === 0) {
    throw badRequest("'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.");
  }
  const bounded =
    roleType === "oidc"
      ? 1
      : role.bound_audiences.length + role.token_bound_cidrs.length + Object.keys(role.bound_claims).length;
  if (bounded === 0 && role.bound_subject === "")
    throw badRequest("must have at least one bound constraint when creating/updating a role");
  state.roles.set(name, role);
  return emptyReply();
}

function checkBoundClaims(bound: Record<string, unknown>, claims: Claims): void {
  for (const [claim, want] of Object.entries(bound)) {
    if (!(claim in claims)) throw badRequest(`error validating claims: claim "${claim}" is missing`);
    const got = ([] as unknown[]).concat(claims[claim]).map(String);
    const allowed = ([] as unknown[]).concat(want).map(String);
    if (!got.some((g) => allowed.includes(g)))
      throw badRequest(`error validating claims: claim "${claim}" does not match any associated bound claim values`);
  }
}

async function login(core: Core, state: JwtState, mountPath: string, req: VaultRequest): Promise<Reply> {
  const config = state.config;
  if (!config) throw badRequest("could not load configuration");
  const roleName = (optString(req.data, "role") || config.default_role).toLowerCase();
  if (roleName === "") throw badRequest("missing role");
  const role = state.roles.get(roleName);
  if (!role) throw badRequest(`role "${roleName}" could not be found`);
  if (role.role_type === "oidc") throw badRequest("role with oidc role_type is not allowed");
  const token = optString(req.data, "jwt") ?? "";
  if (token === "") throw badRequest("missing token");
  if (role.token_bound_cidrs.length > 0 && !ipAllowed(req.remoteAddress, role.token_bound_cidrs))
    throw new VaultHttpError(403, "permission denied");
  const jwks = config.jwks_url !== "";
  let claims: Claims;
  try {
    const keys = jwks
      ? await fetchJwks(config.jwks_url)
      : config.jwt_validation_pubkeys.map((pem) => ({ kid: undefined, key: createPublicKey(pem) }));
    claims = validateJwt(token, keys, jwks, {
      issuer: config.bound_issuer,
      subject: role.bound_subject,
      audiences: role.bound_audiences,
      algorithms: config.jwt_supported_algs.length > 0 ? config.jwt_supported_algs : DEFAULT_ALGS,
      expirationLeeway: role.expiration_leeway,
      notBeforeLeeway: role.not_before_leeway,
      clockSkewLeeway: role.clock_skew_leeway,
      nowMs: core.clock.now(),
    });
  } catch (err) {
    throw badRequest(`error validating token: ${err instanceof Error ? err.message : String(err)}`);
  }
  const aud = claims.aud;
  if (
    role.bound_audiences.length === 0 &&
    ((Array.isArray(aud) && aud.length > 0) || (typeof aud === "string" && aud !== ""))
  ) {
    throw badRequest("audience claim found in JWT but no audiences bound to the role");
  }
  const user = claims[role.user_claim];
  if (user === undefined || user === null) throw badRequest(`claim "${role.user_claim}" not found in token`);
  if (typeof user !== "string") throw badRequest(`claim "${role.user_claim}" could not be converted to string`);
  checkBoundClaims(role.bound_claims, claims);
  const meta: Record<string, string> = { role: roleName };
  for (const [claim, key] of Object.entries(role.claim_mappings))
    if (typeof claims[claim] === "string") meta[key] = claims[claim] as string;
  return issueLoginToken(core, { mountPath, mountType: TYPE, roleName, params: role, displayName: user, meta });
}

/** A JWT auth mount at `auth/<mountPath>` (mountPath with trailing slash). */
export function jwtMount(core: Core, mountPath: string): Mount {
  const state = new JwtState();
  const base = `^auth\\/${mountPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
  const roleOf = (m: RegExpExecArray) => (m[1] ?? "").toLowerCase();
  return {
    path: `auth/${mountPath}`,
    type: TYPE,
    renewParams: (token) => {
      const role = token.role === null ? undefined : state.roles.get(token.role);
      if (!role) throw wrapped(500, `role ${token.role ?? ""} does not exist during renewal`);
      return { defaultTtl: role.token_ttl || SYSTEM_DEFAULT_TTL, maxTtl: role.token_max_ttl || SYSTEM_MAX_TTL };
    },
    routes: [
      {
        pattern: new RegExp(`${base}login$`),
        unauthenticated: true,
        ops: { update: (req) => login(core, state, mountPath, req) },
      },
      {
        pattern: new RegExp(`${base}config$`),
        ops: {
          update: (req) => writeConfig(state, req.data),
          read: () => {
            if (!state.config) throw emptyError(404);
            return logical({ data: { ...state.config }, mountType: TYPE });
          },
        },
      },
      {
        pattern: new RegExp(`${base}role\\/([^/]+)$`),
        ops: {
          update: (req, m) => writeRole(state, roleOf(m), req.data),
          read: (_req, m) => {
            const role = state.roles.get(roleOf(m));
            if (!role) throw emptyError(404);
            const { name: _n, ...rest } = role;
            return logical({ data: { ...rest, ...tokenParamsData(role) }, mountType: TYPE });
          },
          delete: (_req, m) => (state.roles.delete(roleOf(m)), emptyReply()),
        },
      },
    ],
  };
}
