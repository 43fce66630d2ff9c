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
    const end = options.before ? `(${options.before}` : "+";
    const rows = await this.#redis.xrevrange(this.#key, end, "-", "COUNT", options.limit);
    const out: AuditEntry[] = [];
    for (const [id, fields] of rows) {
      const raw = fields[fields.indexOf("record") + 1];
      if (raw === undefined) continue;
      const parsed = AuditRecordSchema.safeParse(JSON.parse(raw));
      if (parsed.success) out.push({ ...parsed.data, id });
    }
    return out;
  }
}
