/**
 * A Kubernetes auth mount at any path (`auth/kubernetes/` by default, more via `sys/auth/<path>`):
 * config, roles and login (hashicorp/vault-plugin-auth-kubernetes path_config.go, path_role.go,
 * path_login.go). Renewal of its tokens re-reads the role (`pathLoginRenew`).
 */
import type { Core } from "./core-types.ts";
import type { KubernetesRole, KubernetesState } from "./k8s-state.ts";
import { kubernetesLogin } from "./k8s-login.ts";
import { badRequest, emptyError, wrapped } from "./errors.ts";
import { emptyReply, logical } from "./envelope.ts";
import { optBool, optString, optStrings } from "./fields.ts";
import { parseTokenParams, tokenParamsData } from "./token-params.ts";
import { SYSTEM_DEFAULT_TTL, SYSTEM_MAX_TTL } from "./durations.ts";
import type { Data, Mount, Reply } from "./types.ts";

const TYPE = "kubernetes";

function writeConfig(state: KubernetesState, d: Data): Reply {
  const host = optString(d, "kubernetes_host") ?? "";
  if (host === "") throw badRequest("no host provided");
  state.config = {
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

function readConfig(state: KubernetesState): Reply {
  const c = state.config;
  if (!c) throw emptyError(404);
  const { token_reviewer_jwt, ...rest } = c;
  const data = { ...rest, token_reviewer_jwt_set: token_reviewer_jwt !== "", use_annotations_as_alias_metadata: false };
  return logical({ data, mountType: TYPE });
}

function writeRole(state: KubernetesState, name: string, d: Data): Reply {
  const old = state.roles.get(name);
  const names = optStrings(d, "bound_service_account_names") ?? old?.bound_service_account_names ?? [];
  const namespaces = optStrings(d, "bound_service_account_namespaces") ?? old?.bound_service_account_namespaces ?? [];
  if (names.length === 0) throw badRequest(`"bound_service_account_names" can not be empty`);
  if (namespaces.length === 0) {
    throw badRequest(
      `"bound_service_account_namespaces" can not be empty if "bound_service_account_namespace_selector" is not set`,
    );
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
    ...parseTokenParams(d, old),
  };
  state.roles.set(name, role);
  if (role.audience !== "") return emptyReply();
  return logical({
    warnings: [
      `Role ${name} does not have an audience configured. While audiences are not required, consider specifying one if your use case would benefit from additional JWT claim verification.`,
    ],
    mountType: TYPE,
  });
}

function escape(path: string): string {
  return path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The mount at `auth/<mountPath>` (mountPath with trailing slash). */
export function kubernetesMount(core: Core, mountPath: string, state: KubernetesState): Mount {
  const base = `^auth\\/${escape(mountPath)}`;
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
        ops: { update: (req) => kubernetesLogin(core, state, mountPath, req) },
      },
      {
        pattern: new RegExp(`${base}config$`),
        ops: { update: (req) => writeConfig(state, req.data), read: () => readConfig(state) },
      },
      {
        pattern: new RegExp(`${base}role\\/?$`),
        ops: {
          list: () => {
            if (state.roles.size === 0) throw emptyError(404);
            return logical({ data: { keys: [...state.roles.keys()].sort() }, mountType: TYPE });
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
