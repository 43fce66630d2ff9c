import type { MiddlewareHandler } from "hono";
import type { RateCounter } from "../../shared/redis/rate-counter.ts";
import { errorResponse } from "./errors.ts";
import type { ApiEnv } from "./auth/identity.ts";

export interface RateLimitOptions {
  /** Requests allowed per identity per window. */
  readonly limit: number;
  readonly windowMs: number;
  /** Where hits are counted: Redis, so the limit holds across replicas and Worker isolates. */
  readonly counter: RateCounter;
}

/** Per-identity fixed-window limit. Runs after authentication; answers 429 with Retry-After. */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<ApiEnv> {
  if (!Number.isInteger(options.limit) || options.limit < 1)
    throw new Error("rateLimit: limit must be a positive integer");
  if (!Number.isFinite(options.windowMs) || options.windowMs < 100)
    throw new Error("rateLimit: windowMs must be at least 100");
  return async function perIdentityRateLimit(c, next) {
    const key = c.get("identity").name;
    const now = Date.now();
    const { count, resetAt } = await options.counter.hit(key, options.windowMs, now);
    if (count > options.limit) {
      c.header("Retry-After", String(Math.max(1, Math.ceil((resetAt - now) / 1000))));
      return errorResponse(
        c,
        429,
        "rate_limited",
        `more than ${options.limit} requests in ${options.windowMs / 1000}s from ${key}`,
      );
    }
    return next();
  };
}
