import { createHash } from "node:crypto";
import type { RedisClient } from "./connection.ts";

/** Counts hits per key in fixed windows, shared by every replica and Worker isolate. */
export interface RateCounter {
  /** Counts one hit for key in the window that contains now; returns the window's count and its end. */
  hit(key: string, windowMs: number, now: number): Promise<{ count: number; resetAt: number }>;
}

// INCR, and set the window's expiry on its first hit: one round trip, atomic.
const HIT = `local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return n`;

/**
 * A RateCounter in Redis: `{prefix}:rate:<digest of key>:<window>`. Keys carry the prefix's hash
 * tag (one Cluster slot) and a digest of the caller's name, never the name itself.
 */
export function createRedisRateCounter(redis: RedisClient, prefix: string): RateCounter {
  return {
    async hit(key, windowMs, now) {
      const window = Math.floor(now / windowMs);
      const digest = createHash("sha256").update(key).digest("hex").slice(0, 24);
      const count = Number(await redis.eval(HIT, 1, `${prefix}:rate:${digest}:${window}`, String(windowMs * 2)));
      return { count, resetAt: (window + 1) * windowMs };
    },
  };
}
