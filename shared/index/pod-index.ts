import type { Redis } from "ioredis";
import { decodeRecord, encodeRecord } from "./record-codec.ts";
import { PodRecordSchema, type PodRecord } from "./pod-record.ts";

/** Who revoked a live pod's credentials, and why (no secret values). */
export interface RevokedMark {
  readonly at: number;
  readonly source: string;
  readonly reason: string;
}

/**
 * The pod index in Redis: one JSON record per pod UID plus a set of UIDs. It can be rebuilt
 * from the per-pod Secrets (see workers/reconciler.ts), so losing it costs a re-issue.
 */
export class PodIndex {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = `${prefix}:index`;
  }

  #key(uid: string): string {
    return `${this.#prefix}:pod:${uid}`;
  }

  get #setKey(): string {
    return `${this.#prefix}:pods`;
  }

  async get(uid: string): Promise<PodRecord | undefined> {
    const raw = await this.#redis.get(this.#key(uid));
    if (raw === null) return undefined;
    return decodeRecord(raw);
  }

  async has(uid: string): Promise<boolean> {
    return (await this.#redis.exists(this.#key(uid))) === 1;
  }

  async put(record: PodRecord): Promise<void> {
    const valid = PodRecordSchema.parse(record);
    await this.#redis.multi().set(this.#key(record.uid), encodeRecord(valid)).sadd(this.#setKey, record.uid).exec();
  }

  async delete(uid: string): Promise<void> {
    await this.#redis.multi().del(this.#key(uid)).srem(this.#setKey, uid).exec();
  }

  /**
   * Tombstone of an on-call revocation of a live pod: issue refuses that pod UID until it is
   * replaced (a new pod has a new UID). Cleared when the pod is gone.
   */
  async markRevoked(uid: string, mark: RevokedMark): Promise<void> {
    await this.#redis.set(`${this.#prefix}:revoked:${uid}`, JSON.stringify(mark));
  }

  async revokedMark(uid: string): Promise<RevokedMark | undefined> {
    const raw = await this.#redis.get(`${this.#prefix}:revoked:${uid}`);
    return raw === null ? undefined : (JSON.parse(raw) as RevokedMark);
  }

  async clearRevoked(uid: string): Promise<void> {
    await this.#redis.del(`${this.#prefix}:revoked:${uid}`);
  }

  async uids(): Promise<string[]> {
    return this.#redis.smembers(this.#setKey);
  }

  async all(): Promise<PodRecord[]> {
    const uids = await this.uids();
    if (uids.length === 0) return [];
    const records: PodRecord[] = [];
    for (let i = 0; i < uids.length; i += 500) {
      const chunk = uids.slice(i, i + 500);
      const raws = await this.#redis.mget(chunk.map((uid) => this.#key(uid)));
      for (const raw of raws) if (raw !== null) records.push(decodeRecord(raw));
    }
    return records;
  }
}
