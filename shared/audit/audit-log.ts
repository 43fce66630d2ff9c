import { createHash } from "node:crypto";
import type { RedisClient as Redis } from "../redis/connection.ts";
import { z } from "zod";
import type { Log } from "../observability/log.ts";

/** One state-changing call: who, what, on which scope, why, dry run or not, result, job id. Never a secret. */
export const AuditRecordSchema = z.object({
  at: z.string(),
  requestId: z.string().optional(),
  actor: z.object({ kind: z.enum(["kubernetes", "api-token", "ci-hmac"]), name: z.string() }),
  action: z.string(),
  scope: z.unknown().optional(),
  reason: z.string().optional(),
  dryRun: z.boolean(),
  /** accepted | dry-run | refused | failed */
  result: z.string(),
  status: z.number().int(),
  jobId: z.string().optional(),
  matched: z.number().int().optional(),
  delivery: z.string().optional(),
  /** Set on the last record kept for this actor in a rate-limit window: until then, its calls that change nothing are not recorded. */
  suppressedUntil: z.string().optional(),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;
export type AuditEntry = AuditRecord & { readonly id: string };

export interface AuditLogOptions {
  /** Records younger than this are never trimmed (XADD … MINID ~ now - retention). */
  readonly retentionSeconds?: number;
  /**
   * Records per actor per minute of calls that changed nothing (refused, dry run, nothing matched,
   * replay, failed). Accepted state changes are always recorded. Counted in Redis, so across replicas.
   */
  readonly perActorPerMinute?: number;
  readonly now?: () => number;
}

/** Defaults of LEASEKEEPER_AUDIT_RETENTION_SECONDS and LEASEKEEPER_AUDIT_RATE_LIMIT. */
export const AUDIT_DEFAULTS = { retentionSeconds: 30 * 24 * 3600, perActorPerMinute: 60 } as const;

const WINDOW_MS = 60_000;

/**
 * The audit trail: a Redis stream (and the log), readable over GET /v1/audit. Trimming is by age
 * only, never by count, so a flood of records cannot push out the on-call trail of the retention
 * period; the flood itself is bounded per actor: past the limit, records of calls that changed
 * nothing are dropped (one marker record says until when), while every accepted change is kept.
 */
export class AuditLog {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #log: Log;
  readonly #retentionMs: number;
  readonly #limit: number;
  readonly #now: () => number;

  constructor(redis: Redis, prefix: string, log: Log, options: AuditLogOptions = {}) {
    this.#redis = redis;
    this.#key = `${prefix}:audit`;
    this.#log = log;
    this.#retentionMs = (options.retentionSeconds ?? AUDIT_DEFAULTS.retentionSeconds) * 1000;
    this.#limit = options.perActorPerMinute ?? AUDIT_DEFAULTS.perActorPerMinute;
    this.#now = options.now ?? Date.now;
    if (!(this.#retentionMs > 0) || !Number.isInteger(this.#limit) || this.#limit < 1)
      throw new Error("AuditLog: retentionSeconds and perActorPerMinute must be positive");
  }

  /** Appends the record; answers its stream id, or "" when the actor's rate limit dropped it. */
  async record(record: AuditRecord): Promise<string> {
    let valid = AuditRecordSchema.parse(record);
    const now = this.#now();
    if (valid.result !== "accepted") {
      const window = Math.floor(now / WINDOW_MS);
      const seen = await this.#countInWindow(valid.actor, window);
      if (seen > this.#limit + 1) return "";
      if (seen === this.#limit + 1)
        valid = { ...valid, suppressedUntil: new Date((window + 1) * WINDOW_MS).toISOString() };
    }
    this.#log.info({ audit: valid }, "audit");
    const id = await this.#redis.xadd(
      this.#key,
      "MINID",
      "~",
      `${Math.max(0, now - this.#retentionMs)}-0`,
      "*",
      "record",
      JSON.stringify(valid),
    );
    return id ?? "";
  }

  async #countInWindow(actor: AuditRecord["actor"], window: number): Promise<number> {
    const who = createHash("sha256").update(`${actor.kind}:${actor.name}`).digest("hex").slice(0, 32);
    const key = `${this.#key}:rate:${who}:${window}`;
    const replies = await this.#redis
      .multi()
      .incr(key)
      .pexpire(key, 2 * WINDOW_MS)
      .exec();
    const [error, count] = replies?.[0] ?? [new Error("no reply"), 0];
    if (error) throw error;
    return Number(count);
  }

  /** Newest first; `before` is a stream id to page backwards from (exclusive). */
  async read(options: { limit: number; before?: string | undefined }): Promise<AuditEntry[]> {
    return (await this.query(options)).records;
  }

  /**
   * Records matching the filters. Without `after`: newest first, from `before` (exclusive)
   * back to `sinceMs`. With `after`: oldest first, newer than that id (exclusive) — for following.
   * At most `scanLimit` stream entries are read per call; `cursor` is where to go on from
   * (as `before`, or as `after`) when the scan stopped early, and always in `after` mode.
   */
  async query(q: AuditQuery): Promise<{ records: AuditEntry[]; cursor?: string }> {
    const forward = q.after !== undefined;
    const scanLimit = q.scanLimit ?? 5000;
    const floor = q.sinceMs === undefined ? "-" : `${Math.max(0, Math.floor(q.sinceMs))}-0`;
    let from = forward ? `(${q.after}` : q.before ? `(${q.before}` : "+";
    const records: AuditEntry[] = [];
    let scanned = 0;
    let last: string | undefined;
    let endReached = false;
    while (records.length < q.limit && scanned < scanLimit) {
      const batch = Math.min(500, scanLimit - scanned);
      const rows = forward
        ? await this.#redis.xrange(this.#key, laterStart(from, floor), "+", "COUNT", batch)
        : await this.#redis.xrevrange(this.#key, from, floor, "COUNT", batch);
      let used = 0;
      for (const [id, fields] of rows) {
        if (records.length >= q.limit) break;
        used++;
        last = id;
        const entry = parseEntry(id, fields);
        if (entry && matches(entry, q)) records.push(entry);
      }
      scanned += used;
      if (rows.length < batch && used === rows.length) {
        endReached = true;
        break;
      }
      from = `(${last}`;
    }
    const cursor = forward ? (last ?? q.after) : endReached ? undefined : last;
    return cursor === undefined ? { records } : { records, cursor };
  }
}

export interface AuditQuery {
  readonly limit: number;
  readonly before?: string | undefined;
  readonly after?: string | undefined;
  /** Only records written at or after this time (epoch ms). */
  readonly sinceMs?: number | undefined;
  /** Part of the actor's name (e.g. "system:serviceaccount:shop:" or "api-token"). */
  readonly actor?: string | undefined;
  /** The action, exactly (revoke, rotate, unseal, dashboard-login-link, …). */
  readonly action?: string | undefined;
  /** Stream entries read at most per call (default 5000). */
  readonly scanLimit?: number | undefined;
}

function parseEntry(id: string, fields: string[]): AuditEntry | undefined {
  const raw = fields[fields.indexOf("record") + 1];
  if (raw === undefined) return undefined;
  const parsed = AuditRecordSchema.safeParse(JSON.parse(raw));
  return parsed.success ? { ...parsed.data, id } : undefined;
}

function matches(entry: AuditEntry, q: AuditQuery): boolean {
  return (
    (q.actor === undefined || entry.actor.name.includes(q.actor)) &&
    (q.action === undefined || entry.action === q.action)
  );
}

/** The later of an exclusive start "(<ms>-<seq>" and an inclusive floor "<ms>-0" (or "-") for XRANGE. */
function laterStart(exclusive: string, floor: string): string {
  if (floor === "-") return exclusive;
  const ms = Number(exclusive.slice(1).split("-")[0]);
  return ms >= Number(floor.split("-")[0]) ? exclusive : floor;
}
