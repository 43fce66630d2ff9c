/** The `auth/kubernetes/` mount: config, roles and login (TokenReview against the K8s API). */
import type { Core } from "./core-types.ts";
import { globMatch, type KubernetesRole } from "./k8s-state.ts";
import { parseServiceAccountJwt } from "./k8s-jwt.ts";
import { reviewToken } from "./token-review.ts";
import { authBlock } from "./auth-block.ts";
import { badRequest, emptyError, VaultHttpError } from "./errors.ts";
import { emptyReply, logical } from "./envelope.ts";
import { optBool, optDuration, optInt, optString, optStrings, sanitizePolicies } from "./fields.ts";
import { SYSTEM_DEFAULT_TTL, SYSTEM_MAX_TTL, ttlCappedWarning } from "./durations.ts";
import { ipAllowed } from "./cidr.ts";
import type { Data, Reply, Route, VaultRequest } from "./types.ts";

const MOUNT = "kubernetes";
const denied = (text = "permission denied") => new VaultHttpError(403, text);
const LEEWAY_S = 60;

function writeConfig(core: Core, d: Data): Reply {
  const host = optString(d, "kubernetes_host") ?? "";
  if (host === "") throw badRequest("no host provided");
  core.kubernetes.config = {
    kubernetes_host: host,
    kubernetes_ca_cert: optString(d, "kubernetes_ca_cert") ?? "",
    token_reviewer_jwt: optString(d, "token_reviewer_jwt") ?? "",
    pem_keys: optStrings(d, "pem_keys") ?? [],
    disable_local_ca_jwt: optBool(d, "disable_local_ca_jwt") ?? false,
    issuer: optString(d, "issuer") ?? "",
    disable_iss_validation: optBool(d, "disable_iss_validation") ?? true,
  };
  return emptyReply();
}

function first<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

function writeRole(core: Core, name: string, d: Data): Reply {
  const old = core.kubernetes.roles.get(name);
  const names = optStrings(d, "bound_service_account_names") ?? old?.bound_service_account_names ?? [];
  const namespaces = optStrings(d, "bound_service_account_namespaces") ?? old?.bound_service_account_namespaces ?? [];
  if (names.length === 0) throw badRequest(`"bound_service_account_names" can not be empty`);
  if (namespaces.length === 0) {
    throw badRequest(`"bound_service_account_namespaces" can not be empty if "bound_service_account_namespace_selector" is not set`);
  }
  if ((names.length > 1 && names.includes("*")) || (namespaces.length > 1 && namespaces.includes("*"))) {
    throw badRequest(`can not mix "*" with values`);
  }
  const role: KubernetesRole = {
    name,
    bound_service_account_names: names,
    bound_service_account_namespaces: namespaces,
    audience: optString(d, "audience") ?? old?.audience ?? "",
    alias_name_source: optString(d, "alias_name_source") ?? old?.alias_name_source ?? "serviceaccount_uid",
    token_ttl: first(optDuration(d, "token_ttl"), optDuration(d, "ttl"), old?.token_ttl) ?? 0,
    token_max_ttl: first(optDuration(d, "token_max_ttl"), optDuration(d, "max_ttl"), old?.token_max_ttl) ?? 0,
    token_period: first(optDuration(d, "token_period"), optDuration(d, "period"), old?.token_period) ?? 0,
    token_explicit_max_ttl: first(optDuration(d, "token_explicit_max_ttl"), old?.token_explicit_max_ttl) ?? 0,
    token_policies: first(optStrings(d, "token_policies"), optStrings(d, "policies"), old?.token_policies) ?? [],
    token_no_default_policy: first(optBool(d, "token_no_default_policy"), old?.token_no_default_policy) ?? false,
    token_num_uses: first(optInt(d, "token_num_uses"), optInt(d, "num_uses"), old?.token_num_uses) ?? 0,
    token_bound_cidrs: first(optStrings(d, "token_bound_cidrs"), optStrings(d, "bound_cidrs"), old?.token_bound_cidrs) ?? [],
  };
  if (role.token_max_ttl > 0 && role.token_ttl > role.token_max_ttl) {
    throw badRequest("token ttl should not be greater than token max ttl");
  }
  core.kubernetes.roles.set(name, role);
  if (role.audience !== "") return emptyReply();
  return logical({
    warnings: [
      `Role ${name} does not have an audience configured. While audiences are not required, consider specifying one if your use case would benefit from additional JWT claim verification.`,
    ],
    mountType: MOUNT,
  });
}

async function login(core: Core, req: VaultRequest): Promise<Reply> {
  const roleName = optString(req.data, "role") ?? "";
  const jwt = optString(req.data, "jwt") ?? "";
  if (roleName === "") throw badRequest("missing role");
  if (jwt === "") throw badRequest("missing jwt");
  const role = core.kubernetes.roles.get(roleName.toLowerCase());
  if (!role) throw badRequest(`invalid role name "${roleName}"`);
  if (role.token_bound_cidrs.length > 0 && !ipAllowed(req.remoteAddress, role.token_bound_cidrs)) throw denied();
  const config = core.kubernetes.config;
  if (!config) throw new VaultHttpError(500, "could not load backend configuration");
  const sa = parseServiceAccountJwt(jwt);
  if (!sa) throw denied();
  const now = core.clock.now() / 1000;
  if (role.audience !== "" && !sa.aud.includes(role.audience)) {
    throw denied("invalid audience (aud) claim: audience claim does not match any expected audience");
  }
  if (sa.exp !== undefined && sa.exp + LEEWAY_S < now) throw denied("invalid expiration time (exp) claim: token is expired");
  if (sa.nbf !== undefined && sa.nbf - LEEWAY_S > now) throw denied("invalid not before (nbf) claim: token not yet valid");
  if (sa.iat !== undefined && sa.iat - LEEWAY_S > now) throw denied("invalid issued at (iat) claim: token issued in the future");
  if (!globMatch(role.bound_service_account_names, sa.name)) throw denied("service account name not authorized");
  if (!globMatch(role.bound_service_account_namespaces, sa.namespace)) throw denied("namespace not authorized");
  if (sa.uid === "") throw new VaultHttpError(500, "could not parse UID from claims");
  const failure = await reviewToken(config, jwt, sa, role.audience, (r) => core.kubernetes.reviews.push(r));
  if (failure !== null) throw denied();
  const policies = sanitizePolicies(role.token_policies, !role.token_no_default_policy);
  if (policies.includes("root")) throw badRequest("auth methods cannot create root tokens");
  const warnings: string[] = [];
  const maxCandidates = [role.token_max_ttl, role.token_explicit_max_ttl].filter((v) => v > 0);
  const maxTtl = maxCandidates.length > 0 ? Math.min(...maxCandidates, SYSTEM_MAX_TTL) : SYSTEM_MAX_TTL;
  let ttl = role.token_period > 0 ? role.token_period : role.token_ttl || SYSTEM_DEFAULT_TTL;
  if (ttl > maxTtl) {
    warnings.push(ttlCappedWarning(ttl, maxTtl));
    ttl = maxTtl;
  }
  const entry = core.tokens.create({
    policies,
    displayName: `kubernetes-${sa.namespace}-${sa.name}`,
    meta: {
      role: role.name,
      service_account_name: sa.name,
      service_account_namespace: sa.namespace,
      service_account_secret_name: sa.secretName,
      service_account_uid: sa.uid,
    },
    ttl,
    explicitMaxTtl: role.token_explicit_max_ttl,
    maxTtl,
    period: role.token_period,
    renewable: true,
    parent: null,
    path: "auth/kubernetes/login",
    numUses: role.token_num_uses,
    role: role.name,
  });
  return logical({ auth: authBlock(entry, ttl), warnings, mountType: MOUNT });
}

export function kubernetesRoutes(core: Core): Route[] {
  const k = core.kubernetes;
  return [
    { pattern: /^auth\/kubernetes\/login$/, unauthenticated: true, ops: { update: (req) => login(core, req) } },
    {
      pattern: /^auth\/kubernetes\/config$/,
      ops: {
        update: (req) => writeConfig(core, req.data),
        read: () => {
          const c = k.config;
          if (!c) throw emptyError(404);
          const { token_reviewer_jwt, ...rest } = c;
          const data = { ...rest, token_reviewer_jwt_set: token_reviewer_jwt !== "", use_annotations_as_alias_metadata: false };
          return logical({ data, mountType: MOUNT });
        },
      },
    },
    {
      pattern: /^auth\/kubernetes\/role\/?$/,
      ops: {
        list: () => {
          if (k.roles.size === 0) throw emptyError(404);
          return logical({ data: { keys: [...k.roles.keys()].sort() }, mountType: MOUNT });
        },
      },
    },
    {
      pattern: /^auth\/kubernetes\/role\/([^/]+)$/,
      ops: {
        update: (req, m) => writeRole(core, (m[1] ?? "").toLowerCase(), req.data),
        read: (_req, m) => {
          const role = k.roles.get((m[1] ?? "").toLowerCase());
          if (!role) throw emptyError(404);
          const { name: _n, ...rest } = role;
          const legacy = { ttl: role.token_ttl, max_ttl: role.token_max_ttl, period: role.token_period, policies: role.token_policies };
          return logical({ data: { ...rest, ...legacy, token_type: "default" }, mountType: MOUNT });
        },
        delete: (_req, m) => (k.roles.delete((m[1] ?? "").toLowerCase()), emptyReply()),
      },
    },
  ];
}
