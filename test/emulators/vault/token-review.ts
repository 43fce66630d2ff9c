/** The TokenReview call Vault's Kubernetes auth plugin makes (spec §5.3). Returns null when accepted. */
import type { KubernetesConfig, TokenReviewRecord } from "./k8s-state.ts";
import type { ServiceAccountClaims } from "./k8s-jwt.ts";

const TIMEOUT_MS = 10_000;

export async function reviewToken(
  config: KubernetesConfig,
  jwt: string,
  sa: ServiceAccountClaims,
  roleAudience: string,
  record: (r: TokenReviewRecord) => void,
): Promise<string | null> {
  const url = `${config.kubernetes_host.replace(/\/+$/, "")}/apis/authentication.k8s.io/v1/tokenreviews`;
  const audiences = roleAudience !== "" ? [roleAudience] : sa.aud.length > 0 ? sa.aud : undefined;
  const body = {
    metadata: { creationTimestamp: null },
    spec: audiences ? { token: jwt, audiences } : { token: jwt },
    status: { user: {} },
  };
  const authorization = `Bearer ${config.token_reviewer_jwt || jwt}`;
  const rec: TokenReviewRecord = { url, authorization, body, status: null, error: null };
  record(rec);
  let status: number;
  let text: string;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    rec.error = `request failed: ${err instanceof Error ? err.message : String(err)}`;
    return rec.error;
  }
  rec.status = status;
  const fail = (why: string) => ((rec.error = why), why);
  if (status === 401)
    return fail("service account unauthorized; this could mean it has been deleted or recreated with a new token");
  if (status < 200 || status > 206) return fail(`unexpected status ${status}`);
  let parsed: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return fail("body is not an object");
    parsed = value as Record<string, unknown>;
  } catch {
    return fail("body is not JSON");
  }
  const st = parsed.status;
  if (typeof st === "string")
    return st === "Success" ? fail("lookup failed: status Success without review") : fail(`kubernetes error: ${st}`);
  if (typeof st !== "object" || st === null) return fail("kubernetes error: missing status");
  const s = st as Record<string, unknown>;
  if (typeof s.error === "string" && s.error !== "") return fail(`lookup failed: ${s.error}`);
  if (s.authenticated !== true) return fail("lookup failed: service account jwt not valid");
  if (audiences) {
    const got = Array.isArray(s.audiences) ? s.audiences : [];
    if (!got.some((a) => audiences.includes(String(a)))) return fail("token review failed: audience mismatch");
  }
  const user = (s.user ?? {}) as Record<string, unknown>;
  const parts = String(user.username ?? "").split(":");
  if (parts.length !== 4 || parts[0] !== "system" || parts[1] !== "serviceaccount")
    return fail("lookup failed: unexpected username format");
  if (parts[2] !== sa.namespace || parts[3] !== sa.name || user.uid !== sa.uid) {
    return fail("JWT names did not match");
  }
  return null;
}
