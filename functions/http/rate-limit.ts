import type { MiddlewareHandler } from "hono";
import { errorResponse } from "./errors.ts";
import type { ApiEnv } from "./auth/identity.ts";

export interface RateLimitOptions {
  /** Requests allowed per identity per window. */
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * Per-identity fixed-window limit, in this process (each replica / Worker isolate counts
 * its own). Runs after authentication; answers 429 with Retry-After.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<ApiEnv> {
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new Error("rateLimit: limit must be a positive integer");
  if (!Number.isFinite(options.windowMs) || options.windowMs < 100) throw new Error("rateLimit: windowMs must be at least 100");
  const windows = new Map<string, { start: number; count: number }>();
  return async function perIdentityRateLimit(c, next) {
    const key = c.get("identity").name;
    const now = Date.now();
    let w = windows.get(key);
    if (!w || now - w.start >= options.windowMs) {
      if (windows.size > 10_000) windows.clear();
      w = { start: now, count: 0 };
      windows.set(key, w);
    }
    w.count++;
    if (w.count > options.limit) {
      c.header("Retry-After", String(Math.ceil((w.start + options.windowMs - now) / 1000)));
      return errorResponse(c, 429, "rate_limited", `more than ${options.limit} requests in ${options.windowMs / 1000}s from ${key}`);
    }
    return next();
  };
}
