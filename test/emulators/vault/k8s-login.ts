/**
 * `auth/<mount>/login` of a Kubernetes auth mount (hashicorp/vault-plugin-auth-kubernetes path_login.go:
 * the spec §5.2 step order and texts, TokenReview as Vault sends it). The token follows the role's
 * token_* fields, including `token_type=batch` (tokenutil `PopulateTokenAuth`).
 */
import type { Core } from "./core-types.ts";
import { globMatch, type KubernetesState } from "./k8s-state.ts";
import { parseServiceAccountJwt } from "./k8s-jwt.ts";
import { reviewToken } from "./token-review.ts";
import { badRequest, VaultHttpError } from "./errors.ts";
import { optString } from "./fields.ts";
import { ipAllowed } from "./cidr.ts";
import { issueLoginToken } from "./token-params.ts";
import type { Reply, VaultRequest } from "./types.ts";

const denied = (text = "permission denied") => new VaultHttpError(403, text);
const LEEWAY_S = 60;

export async function kubernetesLogin(
  core: Core,
  state: KubernetesState,
  mountPath: string,
  req: VaultRequest,
): Promise<Reply> {
  const roleName = optString(req.data, "role") ?? "";
  const jwt = optString(req.data, "jwt") ?? "";
  if (roleName === "") throw badRequest("missing role");
  if (jwt === "") throw badRequest("missing jwt");
  const role = state.roles.get(roleName.toLowerCase());
  if (!role) throw badRequest(`invalid role name "${roleName}"`);
  if (role.token_bound_cidrs.length > 0 && !ipAllowed(req.remoteAddress, role.token_bound_cidrs)) throw denied();
  const config = state.config;
  if (!config) throw new VaultHttpError(500, "could not load backend configuration");
  const sa = parseServiceAccountJwt(jwt);
  if (!sa) throw denied();
  const now = core.clock.now() / 1000;
  if (role.audience !== "" && !sa.aud.includes(role.audience)) {
    throw denied("invalid audience (aud) claim: audience claim does not match any expected audience");
  }
  if (sa.exp !== undefined && sa.exp + LEEWAY_S < now)
    throw denied("invalid expiration time (exp) claim: token is expired");
  if (sa.nbf !== undefined && sa.nbf - LEEWAY_S > now)
    throw denied("invalid not before (nbf) claim: token not yet valid");
  if (sa.iat !== undefined && sa.iat - LEEWAY_S > now)
    throw denied("invalid issued at (iat) claim: token issued in the future");
  if (!globMatch(role.bound_service_account_names, sa.name)) throw denied("service account name not authorized");
  if (!globMatch(role.bound_service_account_namespaces, sa.namespace)) throw denied("namespace not authorized");
  if (sa.uid === "") throw new VaultHttpError(500, "could not parse UID from claims");
  const failure = await reviewToken(config, jwt, sa, role.audience, (r) => state.reviews.push(r));
  if (failure !== null) throw denied();
  return issueLoginToken(core, {
    mountPath,
    mountType: "kubernetes",
    roleName: role.name,
    params: role,
    displayName: `${sa.namespace}-${sa.name}`,
    meta: {
      role: role.name,
      service_account_name: sa.name,
      service_account_namespace: sa.namespace,
      service_account_secret_name: sa.secretName,
      service_account_uid: sa.uid,
    },
  });
}
