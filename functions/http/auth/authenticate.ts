import type { MiddlewareHandler } from "hono";
import type { AccessReviewer, KubeUser } from "../../../shared/kube/access-review.ts";
import { messageOf } from "../../../shared/errors/errors.ts";
import { errorResponse } from "../errors.ts";
import { hexEqual, sha256Hex } from "./digest.ts";
import type { ApiEnv } from "./identity.ts";
import { TtlCache } from "./ttl-cache.ts";

export interface AuthenticateOptions {
  /** Kubernetes TokenReview; absent where no cluster is reachable (then only API tokens work). */
  readonly reviewer?: AccessReviewer | undefined;
  /** sha256 hex digests of the static API tokens (LEASEKEEPER_API_TOKENS). */
  readonly apiTokenHashes: readonly string[];
  /** How long a TokenReview answer is reused, ms (keyed by the token's digest, never the token). */
  readonly cacheMs?: number;
}

/**
 * Bearer-token authentication: a configured API token (compared by digest, in constant time,
 * against every configured digest) or a Kubernetes token checked with TokenReview.
 */
export function authenticate(options: AuthenticateOptions): MiddlewareHandler<ApiEnv> {
  for (const hash of options.apiTokenHashes) {
    if (!/^[0-9a-f]{64}$/.test(hash))
      throw new Error("authenticate: every API token digest must be 64 lowercase hex characters (sha256)");
  }
  // Neither a reviewer nor a token (a CI-hook-only Worker): every bearer request is refused with 401.
  const cache = new TtlCache<KubeUser>(options.cacheMs ?? 10_000, 10_000);
  const reviewer = options.reviewer;

  return async function leasekeeperAuth(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]{8,8192})\s*$/i.exec(header);
    if (!match?.[1]) {
      c.header("WWW-Authenticate", 'Bearer realm="leasekeeper"');
      return errorResponse(c, 401, "unauthenticated", header ? "malformed bearer token" : "a bearer token is required");
    }
    const token = match[1];
    const digest = sha256Hex(token);
    let tokenIndex = -1;
    options.apiTokenHashes.forEach((hash, i) => {
      if (hexEqual(hash, digest) && tokenIndex < 0) tokenIndex = i;
    });
    if (tokenIndex >= 0) {
      c.set("identity", { kind: "api-token", name: `api-token:${digest.slice(0, 8)}` });
      return next();
    }
    if (reviewer) {
      let user = cache.get(digest);
      if (!user) {
        try {
          user = await reviewer.authenticate(token);
        } catch (err) {
          return errorResponse(c, 503, "unavailable", `cannot review the token with Kubernetes: ${messageOf(err)}`);
        }
        if (user) cache.set(digest, user);
      }
      if (user) {
        c.set("identity", { kind: "kubernetes", name: user.username, user });
        return next();
      }
    }
    c.header("WWW-Authenticate", 'Bearer realm="leasekeeper", error="invalid_token"');
    return errorResponse(c, 401, "invalid_token", "the bearer token is not valid");
  };
}
