/** Reads a service-account JWT the way the Kubernetes auth plugin does (no signature check). */

const ALGS = new Set(["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"]);

export interface ServiceAccountClaims {
  name: string;
  namespace: string;
  uid: string;
  secretName: string;
  aud: string[];
  exp: number | undefined;
  nbf: number | undefined;
  iat: number | undefined;
}

function decodePart(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Null when the JWT is not a JWS with an accepted alg (→ 403 permission denied). */
export function parseServiceAccountJwt(jwt: string): ServiceAccountClaims | null {
  const parts = jwt.split(".");
  if (parts.length !== 3 || !parts[0] || !parts[1]) return null;
  const header = decodePart(parts[0]);
  const claims = decodePart(parts[1]);
  if (!header || !claims || !ALGS.has(str(header.alg))) return null;
  const k8s = (claims["kubernetes.io"] ?? {}) as Record<string, unknown>;
  const sa = (k8s.serviceaccount ?? {}) as Record<string, unknown>;
  const aud = claims.aud;
  return {
    name: str(sa.name) || str(claims["kubernetes.io/serviceaccount/service-account.name"]),
    namespace: str(k8s.namespace) || str(claims["kubernetes.io/serviceaccount/namespace"]),
    uid: str(sa.uid) || str(claims["kubernetes.io/serviceaccount/service-account.uid"]),
    secretName: str(claims["kubernetes.io/serviceaccount/secret.name"]),
    aud: Array.isArray(aud)
      ? aud.filter((a): a is string => typeof a === "string")
      : typeof aud === "string"
        ? [aud]
        : [],
    exp: num(claims.exp),
    nbf: num(claims.nbf),
    iat: num(claims.iat),
  };
}
