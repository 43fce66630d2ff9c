/**
 * Service-account JWTs signed ES256, as an API server with an EC service-account signing key
 * issues them (Vault's Kubernetes auth accepts only RSA/ECDSA algorithms; ECDSA signs ~30x
 * faster than RSA-2048). The key pair is made per emulator; `key` seeds the key id.
 */
import { createHash, generateKeyPairSync, sign as jwsSign, verify as jwsVerify, type KeyObject } from "node:crypto";

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
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #kid: string;

  constructor(key: Buffer) {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.#privateKey = pair.privateKey;
    this.#publicKey = pair.publicKey;
    this.#kid = createHash("sha256").update(key).digest("base64url").slice(0, 16);
  }

  sign(claims: ServiceAccountClaims): string {
    const header = b64url(JSON.stringify({ alg: "ES256", kid: this.#kid }));
    const payload = b64url(JSON.stringify(claims));
    const signature = jwsSign("sha256", Buffer.from(`${header}.${payload}`), {
      key: this.#privateKey,
      dsaEncoding: "ieee-p1363",
    }).toString("base64url");
    return `${header}.${payload}.${signature}`;
  }

  /** The claims when the token is one of ours with a valid signature; otherwise undefined. */
  verify(token: string): ServiceAccountClaims | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const [header, payload, signature] = parts as [string, string, string];
    const given = Buffer.from(signature, "base64url");
    if (
      given.length !== 64 ||
      !jwsVerify(
        "sha256",
        Buffer.from(`${header}.${payload}`),
        { key: this.#publicKey, dsaEncoding: "ieee-p1363" },
        given,
      )
    )
      return undefined;
    try {
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as ServiceAccountClaims;
      if (typeof claims.sub !== "string" || !Array.isArray(claims.aud) || claims["kubernetes.io"] === undefined)
        return undefined;
      return claims;
    } catch {
      return undefined; // a payload that is not JSON is not one of our tokens
    }
  }
}
