import type { AuditEntry } from "../shared/audit/audit-log.ts";
import { describeScope, ScopeSchema } from "../shared/scopes/scope.ts";
import { CliError, type ApiClient } from "./http-client.ts";
import type { OutputIo } from "./revoke.ts";
import { formatTable, parseDuration } from "./table.ts";

export const AUDIT_OPTIONS = {
  actor: { type: "string" },
  action: { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
  follow: { type: "boolean", short: "f" },
  output: { type: "string", short: "o" },
} as const;

export interface AuditFlags {
  actor?: string | undefined;
  action?: string | undefined;
  since?: string | undefined;
  limit?: string | undefined;
  follow?: boolean | undefined;
  output?: string | undefined;
}

interface AuditPage {
  records: AuditEntry[];
  cursor?: string;
}

export interface FollowOptions {
  /** Ends --follow (Ctrl-C ends the process anyway). */
  readonly signal?: AbortSignal | undefined;
  /** How often --follow asks for new records, ms (default 1000). */
  readonly pollMs?: number | undefined;
}

/**
 * `leasekeeper audit`: the last --limit records (default 20) matching the filters, oldest first,
 * then with --follow every new one as it is written (GET /v1/audit?after=…, once a second).
 */
export async function runAudit(
  api: ApiClient,
  flags: AuditFlags,
  io: OutputIo,
  follow: FollowOptions = {},
): Promise<number> {
  const output = flags.output ?? "table";
  if (output !== "table" && output !== "json") throw new CliError(`--output is table or json, not "${output}"`, 2);
  const limit = flags.limit === undefined ? 20 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new CliError(`--limit wants 1–1000, got "${flags.limit}"`, 2);
  const filters = new URLSearchParams();
  if (flags.actor) filters.set("actor", flags.actor);
  if (flags.action) filters.set("action", flags.action);
  if (flags.since !== undefined) filters.set("since", sinceTime(flags.since));
  const query = (extra: Record<string, string>) =>
    `/v1/audit?${new URLSearchParams({ ...Object.fromEntries(filters), ...extra }).toString()}`;

  // Where the stream ends now, so following starts after it (whatever the filters).
  const head = flags.follow ? (await api.get<AuditPage>("/v1/audit?limit=1")).body.records[0]?.id : undefined;
  const { body } = await api.get<AuditPage>(query({ limit: String(limit) }));
  const shown = [...body.records].reverse();
  const print = (records: readonly AuditEntry[], header: boolean) => {
    if (records.length === 0) return;
    if (output === "json") for (const r of records) io.out(JSON.stringify(r));
    else io.out(auditTable(records, header));
  };
  if (shown.length === 0 && !flags.follow) io.out("No audit records match.");
  print(shown, true);
  if (!flags.follow) return 0;

  let after =
    [head, shown.at(-1)?.id]
      .filter((id): id is string => id !== undefined)
      .sort(compareIds)
      .at(-1) ?? "0-0";
  let header = shown.length === 0;
  while (!follow.signal?.aborted) {
    await sleep(follow.pollMs ?? 1000, follow.signal);
    if (follow.signal?.aborted) break;
    const page = (await api.get<AuditPage>(query({ limit: "1000", after }))).body;
    print(page.records, header && page.records.length > 0);
    if (page.records.length > 0) header = false;
    if (page.cursor) after = page.cursor;
  }
  return 0;
}

/** A duration back from now ("10m", "2h", "1d") or a time (RFC 3339) → RFC 3339. */
function sinceTime(text: string): string {
  const seconds = parseDuration(text);
  if (seconds !== undefined) return new Date(Date.now() - seconds * 1000).toISOString();
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}T/.test(text))
    throw new CliError(
      `--since wants a duration (90s, 10m, 2h, 1d) or a time such as 2025-01-31T10:00:00Z, got "${text}"`,
      2,
    );
  return new Date(at).toISOString();
}

export function auditTable(records: readonly AuditEntry[], header = true): string {
  const rows = records.map((r) => {
    const scope = ScopeSchema.safeParse(r.scope);
    const what = scope.success ? describeScope(scope.data) : r.delivery ? `delivery ${r.delivery}` : "-";
    return [
      r.at.replace(/\.\d+Z$/, "Z"),
      r.actor.name,
      `${r.action}${r.dryRun ? " (dry run)" : ""}`,
      what,
      r.reason ?? "-",
      `${r.result} ${r.status}`,
      r.jobId ?? "-",
    ];
  });
  const table = formatTable(["TIME", "ACTOR", "ACTION", "SCOPE", "REASON", "RESULT", "JOB"], rows);
  return header ? table : table.split("\n").slice(1).join("\n");
}

function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am - bm || as - bs;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
