import type { RedisClient as Redis } from "../redis/connection.ts";
import { decodeRecord, encodeRecord, NAME_SLOTS } from "./record-codec.ts";
import { PodRecordSchema, type PodRecord } from "./pod-record.ts";
import { renewTimersKey } from "../jobs/renew-timers.ts";

/** A renewal timer written with the record (shared/jobs/renew-timers.ts): `record.renewJobId` fires at `dueAt`. */
export interface PutOptions {
  readonly renewTimerDueAt?: number;
  /** A timer this write replaces (the pod's previous renew job id): dropped in the same transaction. */
  readonly dropRenewTimer?: string | undefined;
}

/** Who revoked a live pod's credentials, and why (no secret values); where the pod was, as the API server showed it. */
export interface RevokedMark {
  readonly at: number;
  readonly source: string;
  readonly reason: string;
  /** Absent on tombstones written before this was recorded. */
  readonly namespace?: string;
  readonly name?: string;
}

/**
 * The pod index in Redis: one compact record per pod UID (record-codec.ts), and per namespace a
 * sorted set (all scores 0) of "<pod name>/<uid>" members written in the same MULTI: a
 * namespace's pods are one ZRANGE, a pod by name one ZRANGEBYLEX, and every pod is the union
 * over the (few) namespaces, so there is no second per-pod structure. It can be rebuilt from
 * the per-pod Secrets (see workers/reconciler.ts), so losing it costs a re-issue.
 */
export class PodIndex {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #timersKey: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = `${prefix}:index`;
    this.#timersKey = renewTimersKey(prefix);
  }

  #key(uid: string): string {
    return `${this.#prefix}:pod:${uid}`;
  }

  /** The namespaces that have (or had) indexed pods: a handful of names, not one entry per pod. */
  get #namespacesKey(): string {
    return `${this.#prefix}:namespaces`;
  }

  #revokedKey(uid: string): string {
    return `${this.#prefix}:revoked:${uid}`;
  }

  #nsKey(namespace: string): string {
    return `${this.#prefix}:ns:${namespace}`;
  }

  async get(uid: string): Promise<PodRecord | undefined> {
    const raw = await this.#redis.get(this.#key(uid));
    if (raw === null) return undefined;
    return decodeRecord(raw, uid);
  }

  /** The records of these pod UIDs, in one round trip (undefined: none, or unreadable). */
  async getMany(uids: readonly string[]): Promise<(PodRecord | undefined)[]> {
    if (uids.length === 0) return [];
    const raws = await this.#redis.mget(uids.map((uid) => this.#key(uid)));
    return raws.map((raw, i) => {
      if (raw === null || raw === undefined) return undefined;
      try {
        return decodeRecord(raw, uids[i] as string);
      } catch {
        return undefined;
      }
    });
  }

  /** The record and the on-call tombstone of one pod UID, in one round trip. */
  async getWithMark(uid: string): Promise<{ record: PodRecord | undefined; mark: RevokedMark | undefined }> {
    const [raw, mark] = await this.#redis.mget(this.#key(uid), this.#revokedKey(uid));
    return {
      record: raw === null || raw === undefined ? undefined : decodeRecord(raw, uid),
      mark: mark === null || mark === undefined ? undefined : (JSON.parse(mark) as RevokedMark),
    };
  }

  /**
   * Sets the index's marker key if it is missing; true when it was. The marker is written once
   * and never expires, so after the first call a missing one means Redis lost leasekeeper's data
   * (FLUSHALL, a restart without persistence, a failover to an empty replica).
   */
  async markEpoch(): Promise<boolean> {
    return (await this.#redis.set(`${this.#prefix}:epoch`, String(Date.now()), "NX")) === "OK";
  }

  async has(uid: string): Promise<boolean> {
    return (await this.#redis.exists(this.#key(uid))) === 1;
  }

  /**
   * Writes the record, and with it (one transaction) the pod's renewal timer when
   * `renewTimerDueAt` is given: the record never names a renewal that is not scheduled.
   */
  async put(record: PodRecord, options: PutOptions = {}): Promise<void> {
    const valid = PodRecordSchema.parse(record);
    const tx = this.#redis
      .multi()
      .set(this.#key(record.uid), encodeRecord(valid))
      .sadd(this.#namespacesKey, valid.namespace)
      .zadd(this.#nsKey(valid.namespace), 0, nsMember(valid.name, valid.uid));
    const { renewTimerDueAt: dueAt, dropRenewTimer: drop } = options;
    if (drop !== undefined && drop !== valid.renewJobId) tx.zrem(this.#timersKey, drop);
    if (dueAt !== undefined && valid.renewJobId) tx.zadd(this.#timersKey, Math.round(dueAt), valid.renewJobId);
    await tx.exec();
  }

  /**
   * Drops the pod's record, and its renewal timer when `renewTimer` names one; true when that timer
   * was still waiting (else its renewal may be a queued job: JobProducer.removeRenewJob).
   */
  async delete(uid: string, renewTimer?: string): Promise<boolean> {
    // A pod's namespace and name never change: the script reads them from the record to drop its
    // namespace-set member too, in one round trip. The set's and the timers' keys share the index
    // prefix (and its hash tag), so every key lives in one slot.
    const dropped = await this.#redis.eval(
      DELETE,
      2,
      this.#key(uid),
      this.#timersKey,
      `${this.#prefix}:ns:`,
      uid,
      JSON.stringify(NAME_SLOTS),
      renewTimer ?? "",
    );
    return dropped === 1;
  }

  /** The records of one namespace's pods (no whole-index read). */
  async inNamespace(namespace: string): Promise<PodRecord[]> {
    return this.#load(namespace, await this.#redis.zrange(this.#nsKey(namespace), "0", "-1"));
  }

  /** The records held under namespace/name: usually one, two while a replaced pod (same name, new UID) is revoked. */
  async byName(namespace: string, name: string): Promise<PodRecord[]> {
    // Members sort bytewise; "<name>/…" lies in [<name>/, <name>0) as "0" follows "/" and names hold no "/".
    return this.#load(namespace, await this.#redis.zrangebylex(this.#nsKey(namespace), `[${name}/`, `(${name}0`));
  }

  async #load(namespace: string, members: string[]): Promise<PodRecord[]> {
    const records: PodRecord[] = [];
    for (let i = 0; i < members.length; i += 500) {
      const chunk = members.slice(i, i + 500);
      const raws = await this.#redis.mget(chunk.map((m) => this.#key(uidOfMember(m))));
      for (let j = 0; j < chunk.length; j++) {
        const raw = raws[j];
        const member = chunk[j] as string;
        if (raw !== null && raw !== undefined) records.push(decodeRecord(raw, uidOfMember(member)));
        // A member whose record is gone (a delete racing this read): dropped, but only if the record is still absent.
        else await this.#redis.eval(DROP_STALE, 2, this.#nsKey(namespace), this.#key(uidOfMember(member)), member);
      }
    }
    return records;
  }

  /**
   * Tombstone of an on-call revocation of a live pod: issue, renew and the reconciler's rebuild
   * refuse that pod UID until it is replaced (a new pod has a new UID). Cleared only when the API
   * server shows no pod with that UID where it was (workers/revoke.ts).
   */
  async markRevoked(uid: string, mark: RevokedMark): Promise<void> {
    await this.#redis.set(this.#revokedKey(uid), JSON.stringify(mark));
  }

  async revokedMark(uid: string): Promise<RevokedMark | undefined> {
    const raw = await this.#redis.get(this.#revokedKey(uid));
    return raw === null ? undefined : (JSON.parse(raw) as RevokedMark);
  }

  async clearRevoked(uid: string): Promise<void> {
    await this.#redis.del(this.#revokedKey(uid));
  }

  async uids(): Promise<string[]> {
    const namespaces = await this.#redis.smembers(this.#namespacesKey);
    const uids: string[] = [];
    for (const namespace of namespaces)
      for (const member of await this.#redis.zrange(this.#nsKey(namespace), "0", "-1")) uids.push(uidOfMember(member));
    return uids;
  }

  /** Every record: the reconciler, and the lease / path-prefix scopes (which name no namespace). */
  async all(): Promise<PodRecord[]> {
    const uids = await this.uids();
    if (uids.length === 0) return [];
    const records: PodRecord[] = [];
    for (let i = 0; i < uids.length; i += 500) {
      const chunk = uids.slice(i, i + 500);
      const raws = await this.#redis.mget(chunk.map((uid) => this.#key(uid)));
      raws.forEach((raw, j) => {
        if (raw !== null) records.push(decodeRecord(raw, chunk[j] as string));
      });
    }
    return records;
  }
}

const nsMember = (name: string, uid: string) => `${name}/${uid}`;
const uidOfMember = (member: string) => member.slice(member.lastIndexOf("/") + 1);
/** KEYS[1] namespace set, KEYS[2] the record; ARGV[1] the member. */
const DROP_STALE =
  "if redis.call('EXISTS', KEYS[2]) == 0 then return redis.call('ZREM', KEYS[1], ARGV[1]) end return 0";
/**
 * KEYS[1] the record, KEYS[2] the renewal timers; ARGV[1] the namespace-set key prefix, ARGV[2] the
 * pod UID, ARGV[3] where each record format keeps namespace and name (NAME_SLOTS), ARGV[4] the
 * pod's renewal timer ("": none). An unreadable record is still deleted. Returns 1 when the timer
 * was removed.
 */
const DELETE = `
local timer = 0
if ARGV[4] ~= '' then timer = redis.call('ZREM', KEYS[2], ARGV[4]) end
local raw = redis.call('GET', KEYS[1])
if not raw then return timer end
redis.call('DEL', KEYS[1])
local ok, rec = pcall(cjson.decode, raw)
if not ok or type(rec) ~= 'table' then return timer end
for _, slot in ipairs(cjson.decode(ARGV[3])) do
  if rec[1] == slot[1] and type(rec[slot[2]]) == 'string' and type(rec[slot[3]]) == 'string' then
    redis.call('ZREM', ARGV[1] .. rec[slot[2]], rec[slot[3]] .. '/' .. ARGV[2])
  end
end
return timer`;
