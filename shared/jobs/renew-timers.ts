import type { IRedisClient, Queue } from "bullmq";

/**
 * KEYS[1] the timers; ARGV[1] now, ARGV[2] at most this many, ARGV[3] the claim's end. Due timers
 * are not removed but pushed to the claim's end, so a pump that dies before their jobs are queued
 * leaves them to fire again then. Returns the claimed ids and the earliest score left (or false).
 */
const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], id) end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return { due, first[2] or false }`;

/** The renewal timers' key: beside the renew queue's own (BullMQ's `<prefix>:<queue>:<suffix>`). */
export const renewTimersKey = (prefix: string) => `${prefix}:renew:timers`;

/** The scripts, by the name they are defined under on the queue's connection. */
const SCRIPTS = {
  lkRenewTimerCancel: { numberOfKeys: 1, lua: "return redis.call('ZREM', KEYS[1], ARGV[1])" },
  lkRenewTimerRelease: { numberOfKeys: 1, lua: "return redis.call('ZREM', KEYS[1], unpack(ARGV))" },
  lkRenewTimerClaim: { numberOfKeys: 1, lua: CLAIM },
} as const;
type Script = keyof typeof SCRIPTS;
const defined = new WeakSet<IRedisClient>();

/** What a claim took: renew job ids due now, and when the earliest timer left is due (epoch ms). */
export interface Claimed {
  readonly ids: string[];
  readonly nextDueAt: number | undefined;
}

/**
 * A pod's next scheduled renewal waits here, one sorted-set member per live pod (its renew job id,
 * scored by when it is due: ~60 bytes), instead of as a delayed BullMQ job (a hash of name, data
 * and options: ~800 bytes). When it comes due the renewal pump (workers/renew-pump.ts) queues the
 * job under that id, so from then on it is an ordinary renew job. The key lives beside the renew
 * queue's own keys (same prefix, so the same Redis Cluster slot when the prefix is a hash tag).
 */
export class RenewTimers {
  readonly #queue: Queue;
  readonly #key: string;

  constructor(queue: Queue, prefix: string) {
    this.#queue = queue;
    this.#key = renewTimersKey(prefix);
  }

  /** The queue's own connection (BullMQ's client interface: its scripts run as defined commands). */
  async #client(): Promise<IRedisClient> {
    const client = await this.#queue.getBackend().client;
    if (!defined.has(client)) {
      for (const [name, script] of Object.entries(SCRIPTS)) client.defineCommand(name, script);
      defined.add(client);
    }
    return client;
  }

  async #run(script: Script, ...args: (string | number)[]): Promise<unknown> {
    return (await this.#client()).runCommand(script, [this.#key, ...args]);
  }

  /** Removes a timer; true when one was waiting. */
  async cancel(id: string): Promise<boolean> {
    return Number(await this.#run("lkRenewTimerCancel", id)) === 1;
  }

  async has(id: string): Promise<boolean> {
    return (await this.dueAt(id)) !== undefined;
  }

  /** When the timer fires (epoch ms; a claimed one: when its claim runs out), or undefined: no timer. */
  async dueAt(id: string): Promise<number | undefined> {
    const score = await (await this.#client()).zscore(this.#key, id);
    return score === null ? undefined : Number(score);
  }

  /** Claims up to `limit` timers due at `now` for `claimMs` (they fire again then unless released). */
  async claim(now: number, limit: number, claimMs: number): Promise<Claimed> {
    const [ids, first] = (await this.#run("lkRenewTimerClaim", now, limit, now + claimMs)) as [string[], string | null];
    return { ids, nextDueAt: typeof first === "string" ? Number(first) : undefined };
  }

  /** Drops claimed timers whose jobs are queued. */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.#run("lkRenewTimerRelease", ...ids);
  }

  /** How many timers wait (the renewals scheduled ahead). */
  async size(): Promise<number> {
    return (await this.#client()).zcard(this.#key);
  }
}
