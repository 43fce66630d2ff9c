/** Bearer-token authentication: the admin token and the emulator's service-account tokens (spec §4–5). */
import { API_AUDIENCE } from "./tokens.ts";
import type { EmulatorState } from "./state.ts";
import type { UserInfo } from "./types.ts";

export type AuthnResult = { ok: true; user: UserInfo; audiences: string[] } | { ok: false; error: string };

export const ADMIN_USER: UserInfo = {
  username: "kubernetes-admin",
  groups: ["system:masters", "system:authenticated"],
};

const fail = (reason: string): AuthnResult => ({ ok: false, error: `[invalid bearer token, ${reason}]` });

/** Validates a token for the given audiences (empty → the API server's own audience). */
export function authenticateToken(state: EmulatorState, token: string, audiences: string[]): AuthnResult {
  const target = audiences.length > 0 ? audiences : [API_AUDIENCE];
  if (token === state.adminToken) return { ok: true, user: ADMIN_USER, audiences: target };
  const claims = state.signer.verify(token);
  if (claims === undefined) return { ok: false, error: "invalid bearer token" };
  const matched = target.filter((a) => claims.aud.includes(a));
  if (matched.length === 0) {
    return fail(
      `token audiences ${JSON.stringify(claims.aud)} is invalid for the target audiences ${JSON.stringify(target)}`,
    );
  }
  const now = Math.floor(Date.now() / 1000);
  if (now >= claims.exp) return fail("service account token has expired");
  if (now < claims.nbf) return fail("service account token is not valid yet");
  const k = claims["kubernetes.io"];
  const sa = state.store.get("serviceaccounts", k.namespace, k.serviceaccount.name);
  if (sa === undefined) return fail(`service account ${k.namespace}/${k.serviceaccount.name} has been deleted`);
  if (sa.metadata.uid !== k.serviceaccount.uid) {
    return fail(`service account UID (${k.serviceaccount.uid}) does not match claim (${sa.metadata.uid ?? ""})`);
  }
  const extra: Record<string, string[]> = {};
  if (k.pod !== undefined) {
    const pod = state.store.get("pods", k.namespace, k.pod.name);
    if (pod === undefined) return fail("service account token has been invalidated");
    if (pod.metadata.uid !== k.pod.uid)
      return fail(`pod UID (${pod.metadata.uid ?? ""}) does not match service account pod ref claim (${k.pod.uid})`);
    const deletion = pod.metadata.deletionTimestamp;
    if (deletion !== undefined && Date.parse(deletion) < Date.now() - 60_000)
      return fail("service account token has been invalidated");
    extra["authentication.kubernetes.io/pod-name"] = [k.pod.name];
    extra["authentication.kubernetes.io/pod-uid"] = [k.pod.uid];
  }
  if (k.secret !== undefined) {
    const secret = state.store.get("secrets", k.namespace, k.secret.name);
    if (secret === undefined || secret.metadata.uid !== k.secret.uid)
      return fail("service account token has been invalidated");
  }
  if (k.node !== undefined) {
    extra["authentication.kubernetes.io/node-name"] = [k.node.name];
    extra["authentication.kubernetes.io/node-uid"] = [k.node.uid];
  }
  extra["authentication.kubernetes.io/credential-id"] = [`JTI=${claims.jti}`];
  const user: UserInfo = {
    username: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
    uid: k.serviceaccount.uid,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${k.namespace}`, "system:authenticated"],
    extra,
  };
  return { ok: true, user, audiences: matched };
}
