/**
 * JWT validation as hashicorp/cap jwt/jwt.go `Validator.Validate` does it for the JWT auth method:
 * signature against static PEM keys (`StaticKeySet`) or a JWKS URL, then alg, iss, sub, aud, and the
 * time claims with their leeways. Errors carry cap's texts (the login handler prefixes
 * "error validating token: ").
 */
import { createPublicKey, verify, constants, type KeyObject, type JsonWebKey } from "node:crypto";

export const DEFAULT_ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"];

export interface Expected {
  issuer: string;
  subject: string;
  audiences: string[];
  algorithms: string[];
  /** Seconds: -1 disables, 0 means the default (150 s expiry / not-before, 60 s clock skew). */
  expirationLeeway: number;
  notBeforeLeeway: number;
  clockSkewLeeway: number;
  nowMs: number;
}

export type Claims = Record<string, unknown>;

interface Parsed {
  alg: string;
  kid: string | undefined;
  signed: Buffer;
  signature: Buffer;
  claims: Claims;
}

function parse(token: string): Parsed {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("error verifying token signature: malformed token");
  try {
    const header = JSON.parse(Buffer.from(parts[0] as string, "base64url").toString("utf8")) as {
      alg?: unknown;
      kid?: unknown;
    };
    const claims = JSON.parse(Buffer.from(parts[1] as string, "base64url").toString("utf8")) as unknown;
    if (typeof header.alg !== "string" || typeof claims !== "object" || claims === null || Array.isArray(claims))
      throw new Error("shape");
    return {
      alg: header.alg,
      kid: typeof header.kid === "string" ? header.kid : undefined,
      signed: Buffer.from(`${parts[0]}.${parts[1]}`),
      signature: Buffer.from(parts[2] as string, "base64url"),
      claims: claims as Claims,
    };
  } catch {
    throw new Error("error verifying token signature: malformed token");
  }
}

function verifies(p: Parsed, key: KeyObject): boolean {
  const bits = p.alg.slice(2);
  const hash = `sha${bits}`;
  try {
    if (p.alg.startsWith("RS")) return verify(hash, p.signed, key, p.signature);
    if (p.alg.startsWith("PS"))
      return verify(
        hash,
        p.signed,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 },
        p.signature,
      );
    if (p.alg.startsWith("ES")) return verify(hash, p.signed, { key, dsaEncoding: "ieee-p1363" }, p.signature);
    if (p.alg === "EdDSA") return verify(null, p.signed, key, p.signature);
  } catch {
    return false;
  }
  return false;
}

/** Keys of a JWKS document (`{"keys":[...]}`), by kid. */
export function jwksKeys(doc: unknown): { kid: string | undefined; key: KeyObject }[] {
  const keys = (doc as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new Error("not a JWKS document");
  return keys.map((jwk: JsonWebKey & { kid?: string }) => ({
    kid: jwk.kid,
    key: createPublicKey({ key: jwk, format: "jwk" }),
  }));
}

function seconds(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

function leeway(value: number, dflt: number): number {
  return value < 0 ? 0 : value === 0 ? dflt : value;
}

function checkTimes(claims: Claims, e: Expected): void {
  const iat = seconds(claims.iat);
  let exp = seconds(claims.exp);
  let nbf = seconds(claims.nbf);
  if (iat === 0 && exp === 0 && nbf === 0)
    throw new Error("no issued at (iat), not before (nbf), or expiration time (exp) claims in token");
  if (exp === 0) exp = Math.max(iat, nbf) + leeway(e.expirationLeeway, 150);
  if (nbf === 0) nbf = iat !== 0 ? iat : exp - leeway(e.notBeforeLeeway, 150);
  const skew = leeway(e.clockSkewLeeway, 60);
  const now = e.nowMs / 1000;
  if (now + skew < nbf) throw new Error("invalid not before (nbf) claim: token not yet valid");
  if (now - skew > exp) throw new Error("invalid expiration time (exp) claim: token is expired");
  if (iat !== 0 && now + skew < iat) throw new Error("invalid issued at (iat) claim: token issued in the future");
}

/** Validates `token` against `keys` (kid-matched first when the key has a kid) and the expectations. */
export function validateJwt(
  token: string,
  keys: { kid: string | undefined; key: KeyObject }[],
  jwks: boolean,
  e: Expected,
): Claims {
  const p = parse(token);
  const candidates = jwks && p.kid !== undefined ? keys.filter((k) => k.kid === p.kid) : keys;
  if (!candidates.some((k) => verifies(p, k.key))) {
    throw new Error(
      `error verifying token signature: ${jwks ? "failed to verify id token signature" : "no known key successfully validated the token signature"}`,
    );
  }
  if (!e.algorithms.includes(p.alg))
    throw new Error("invalid algorithm (alg) header parameter: token signed with unexpected algorithm");
  const c = p.claims;
  if (e.issuer !== "" && c.iss !== e.issuer) throw new Error("invalid issuer (iss) claim");
  if (e.subject !== "" && c.sub !== e.subject) throw new Error("invalid subject (sub) claim");
  const aud = Array.isArray(c.aud) ? c.aud.map(String) : typeof c.aud === "string" ? [c.aud] : [];
  if (e.audiences.length > 0 && !aud.some((a) => e.audiences.includes(a))) {
    throw new Error("invalid audience (aud) claim: audience claim does not match any expected audience");
  }
  checkTimes(c, e);
  return c;
}
