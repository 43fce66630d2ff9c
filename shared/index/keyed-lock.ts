import { randomUUID } from "node:crypto";
import type { RedisClient as Redis } from "../redis/connection.ts";

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

/**
 * Mutual exclusion by key across workers: issue, renew and revoke of one pod (keyed by its UID)
 * never interleave, nor do two unseal passes of one Vault replica. While `fn` runs the lock is
 * extended every third of its TTL, so a slow job (many secrets, a slow Vault) keeps it; a worker
 * that dies stops extending and the lock lapses after the TTL. The TTL is short (default 10 s,
 * LEASEKEEPER_POD_LOCK_MS) so that the job BullMQ hands to another worker after a crash finds
 * the pod free within seconds; a holder stays safe as long as its event loop is never blocked
 * for two thirds of the TTL.
 */
export class KeyedLock {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;

  constructor(redis: Redis, prefix: string, ttlMs = 10_000) {
    this.#redis = redis;
    this.#prefix = `${prefix}:lock`;
    this.#ttlMs = ttlMs;
  }

  /** Runs `fn` holding the lock; returns `{ locked: false }` at once when another worker holds it. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }> {
    const redisKey = `${this.#prefix}:${key}`;
    const token = randomUUID();
    const ok = await this.#redis.set(redisKey, token, "PX", this.#ttlMs, "NX");
    if (ok !== "OK") return { locked: false };
    const keepAlive = setInterval(
      () => {
        this.#redis.eval(EXTEND, 1, redisKey, token, String(this.#ttlMs)).catch(() => undefined);
      },
      Math.max(100, Math.floor(this.#ttlMs / 3)),
    );
    keepAlive.unref();
    try {
      return { locked: true, value: await fn() };
    } finally {
      clearInterval(keepAlive);
      await this.#redis.eval(RELEASE, 1, redisKey, token);
    }
  }
}
