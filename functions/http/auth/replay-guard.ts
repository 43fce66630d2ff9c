import type { RedisClient as Redis } from "../../../shared/redis/connection.ts";

/** Remembers CI delivery ids in Redis so a delivery is acted on once (SET NX with an expiry past the signature window). */
export class ReplayGuard {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, prefix: string, ttlSeconds = 3600) {
    this.#redis = redis;
    this.#prefix = `${prefix}:ci:delivery`;
    this.#ttlSeconds = ttlSeconds;
  }

  /** True the first time a delivery id is seen; false for a replay. */
  async claim(delivery: string, jobId: string): Promise<boolean> {
    return (await this.#redis.set(`${this.#prefix}:${delivery}`, jobId, "EX", this.#ttlSeconds, "NX")) === "OK";
  }

  /** What the first delivery with this id became (its job id), if known. */
  async claimedAs(delivery: string): Promise<string | undefined> {
    return (await this.#redis.get(`${this.#prefix}:${delivery}`)) ?? undefined;
  }

  /** Forgets a delivery whose action could not be enqueued, so the sender's retry can succeed. */
  async release(delivery: string): Promise<void> {
    await this.#redis.del(`${this.#prefix}:${delivery}`);
  }
}
