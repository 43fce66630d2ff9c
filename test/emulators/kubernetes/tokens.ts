/** JWT-shaped service-account tokens, HMAC-SHA256 signed by the emulator. */
import { createHmac, timingSafeEqual } from "node:crypto";

export const API_AUDIENCE = "https://kubernetes.default.svc.cluster.local";
export const ISSUER = "https://kubernetes.default.svc.cluster.local";

export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  "kubernetes.io": {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    node?: { name: string; uid: string };
  };
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

export class TokenSigner {
  constructor(private readonly key: Buffer) {}

  sign(claims: ServiceAccountClaims): string {
    const header = b64url(JSON.stringify({ alg: "HS256", kid: "kubernetes-emulator", typ: "JWT" }));
    const payload = b64url(JSON.stringify(claims));
    const signature = createHmac("sha256", this.key).update(`${header}.${payload}`).digest("base64url");
    return `${header}.${payload}.${signature}`;
  }

  /** The claims when the token is one of ours with a valid signature; otherwise undefined. */
  verify(token: string): ServiceAccountClaims | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const [header, payload, signature] = parts as [string, string, string];
    const expected = createHmac("sha256", this.key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as ServiceAccountClaims;
      if (typeof claims.sub !== "string" || !Array.isArray(claims.aud) || claims["kubernetes.io"] === undefined) return undefined;
      return claims;
    } catch {
      return undefined; // a payload that is not JSON is not one of our tokens
    }
  }
}
