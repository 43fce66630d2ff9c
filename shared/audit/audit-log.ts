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
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;
export type AuditEntry = AuditRecord & { readonly id: string };

/** The audit trail: a capped Redis stream (and the log). Readable over GET /v1/audit. */
export class AuditLog {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #log: Log;
  readonly #maxLen: number;

  constructor(redis: Redis, prefix: string, log: Log, maxLen = 100_000) {
    this.#redis = redis;
    this.#key = `${prefix}:audit`;
    this.#log = log;
    this.#maxLen = maxLen;
  }

  async record(record: AuditRecord): Promise<string> {
    const valid = AuditRecordSchema.parse(record);
    this.#log.info({ audit: valid }, "audit");
    const id = await this.#redis.xadd(this.#key, "MAXLEN", "~", String(this.#maxLen), "*", "record", JSON.stringify(valid));
    return id ?? "";
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
  return (q.actor === undefined || entry.actor.name.includes(q.actor)) && (q.action === undefined || entry.action === q.action);
}

/** The later of an exclusive start "(<ms>-<seq>" and an inclusive floor "<ms>-0" (or "-") for XRANGE. */
function laterStart(exclusive: string, floor: string): string {
  if (floor === "-") return exclusive;
  const ms = Number(exclusive.slice(1).split("-")[0]);
  return ms >= Number(floor.split("-")[0]) ? exclusive : floor;
}
