import type { OperationItem, OperationOutcome } from "../shared/jobs/job-types.ts";
import type { ResolvedTarget } from "../shared/scopes/resolve.ts";
import { WORKLOAD_KINDS, describeScope, type Scope } from "../shared/scopes/scope.ts";
import { confirm, type PromptIo } from "./confirm.ts";
import { CliError, type ApiClient } from "./http-client.ts";
import { formatTable, relative } from "./table.ts";

export const REVOKE_OPTIONS = {
  pod: { type: "string" },
  uid: { type: "string" },
  workload: { type: "string" },
  namespace: { type: "string" },
  lease: { type: "string" },
  prefix: { type: "string" },
  reason: { type: "string" },
  "dry-run": { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  wait: { type: "string" },
} as const;

export interface RevokeFlags {
  pod?: string | undefined;
  uid?: string | undefined;
  workload?: string | undefined;
  namespace?: string | undefined;
  lease?: string | undefined;
  prefix?: string | undefined;
  reason?: string | undefined;
  "dry-run"?: boolean | undefined;
  yes?: boolean | undefined;
  wait?: string | undefined;
}

export interface OutputIo extends PromptIo {
  readonly out: (line: string) => void;
}

interface OperationReply {
  dryRun: boolean;
  matched: number;
  targets: ResolvedTarget[];
  jobId: string | null;
  job?: JobReply;
}

export interface JobReply {
  id: string;
  state: string;
  result: unknown;
  failedReason?: string;
}

const KIND_ALIASES: Record<string, (typeof WORKLOAD_KINDS)[number]> = {
  deploy: "Deployment",
  sts: "StatefulSet",
  ds: "DaemonSet",
};

/** Exactly one of --pod ns/name, --uid, --workload ns/Kind/name, --namespace, --lease, --prefix. */
export function scopeFromFlags(flags: RevokeFlags): Scope {
  const given = (["pod", "uid", "workload", "namespace", "lease", "prefix"] as const).filter(
    (k) => flags[k] !== undefined,
  );
  if (given.length !== 1)
    throw new CliError(
      `give exactly one of --pod, --uid, --workload, --namespace, --lease, --prefix (got ${given.length === 0 ? "none" : given.map((g) => `--${g}`).join(" ")})`,
      2,
    );
  const value = flags[given[0] as (typeof given)[number]] as string;
  switch (given[0]) {
    case "pod": {
      const parts = value.split("/");
      if (parts.length !== 2 || !parts[0] || !parts[1])
        throw new CliError(`--pod wants namespace/name, got "${value}"`, 2);
      return { type: "pod", namespace: parts[0], name: parts[1] };
    }
    case "workload": {
      const parts = value.split("/");
      const kind =
        WORKLOAD_KINDS.find((k) => k.toLowerCase() === parts[1]?.toLowerCase()) ??
        KIND_ALIASES[parts[1]?.toLowerCase() ?? ""];
      if (parts.length !== 3 || !parts[0] || !parts[2] || !kind)
        throw new CliError(
          `--workload wants namespace/Kind/name with Kind one of ${WORKLOAD_KINDS.join(", ")}, got "${value}"`,
          2,
        );
      return { type: "workload", namespace: parts[0], kind, name: parts[2] };
    }
    case "uid":
      return { type: "pod-uid", uid: value };
    case "namespace":
      return { type: "namespace", namespace: value };
    case "lease":
      return { type: "lease", id: value };
    default:
      return { type: "path-prefix", prefix: value };
  }
}

/**
 * `leasekeeper revoke`: always a dry run first (printed as a table); then, unless --dry-run, the
 * real revoke — after a y/N question when it reaches more than one pod (--yes skips it; without
 * a terminal and without --yes it refuses). Waits for the job and prints each pod's outcome.
 * Exit: 0 done (or nothing matched), 1 error/refused/aborted, 2 usage, 3 partly failed or still running.
 */
export async function runRevoke(api: ApiClient, flags: RevokeFlags, io: OutputIo): Promise<number> {
  const scope = scopeFromFlags(flags);
  const dryRunOnly = flags["dry-run"] === true;
  const reason = flags.reason?.trim() || (dryRunOnly ? "dry run (leasekeeper CLI)" : undefined);
  if (!reason)
    throw new CliError("--reason is required for a real revoke (it goes to the audit trail), e.g. --reason INC-42", 2);
  const waitSeconds = flags.wait === undefined ? 60 : Number(flags.wait);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 3600)
    throw new CliError(`--wait wants whole seconds (0–3600), got "${flags.wait}"`, 2);

  const preview = (await api.post<OperationReply>("/v1/revoke", { scope, reason, dryRun: true })).body;
  if (preview.matched === 0) {
    io.out(`Nothing matches ${describeScope(scope)}; nothing to revoke.`);
    return 0;
  }
  io.out(
    `${dryRunOnly ? "Dry run: would revoke" : "Will revoke"} ${describeTargets(preview.targets)} (${describeScope(scope)}):`,
  );
  io.out(targetsTable(preview.targets));
  if (dryRunOnly) return 0;

  if (preview.targets.length > 1 && flags.yes !== true) {
    const answer = await confirm(io, `Revoke the credentials of these ${preview.targets.length} pods?`);
    if (answer === "no-tty") {
      io.err(
        `leasekeeper revoke: refusing to revoke ${preview.targets.length} pods without confirmation: stdin is not a terminal. Re-run with --yes to confirm.`,
      );
      return 1;
    }
    if (answer === "no") {
      io.err("Aborted; nothing was revoked.");
      return 1;
    }
  }

  const first = Math.min(waitSeconds, 60);
  const real = await api.post<OperationReply>(
    `/v1/revoke${first > 0 ? `?wait=${first}` : ""}`,
    { scope, reason, dryRun: false },
    first,
  );
  const { body } = real;
  warnIfChanged(io, preview.targets, body.targets);
  if (!body.jobId) {
    io.out("Nothing matched any more at revoke time; nothing was revoked.");
    return 0;
  }
  let job = body.job;
  const deadline = Date.now() + waitSeconds * 1000;
  while ((!job || !finished(job)) && Date.now() < deadline) {
    const left = Math.max(1, Math.min(60, Math.ceil((deadline - Date.now()) / 1000)));
    job = (await api.get<JobReply>(`/v1/jobs/${encodeURIComponent(body.jobId)}?wait=${left}`, left)).body;
  }
  return reportJob(io, body.jobId, job);
}

/** Each pod's outcome of an operation job (revoke, rotate, CI); the exit code. */
export function reportJob(io: OutputIo, jobId: string, job: JobReply | undefined, command = "revoke"): number {
  if (!job || !finished(job)) {
    io.out(
      `Job ${jobId} is ${job?.state ?? "queued"}; follow it with \`leasekeeper job ${jobId} --wait 60\` (GET /v1/jobs/${jobId}).`,
    );
    return 3;
  }
  if (job.state === "failed") {
    io.err(`leasekeeper ${command}: job ${jobId} failed: ${job.failedReason ?? "no reason given"}`);
    return 1;
  }
  const result = job.result as OperationOutcome;
  io.out(formatTable(["POD", "OUTCOME", "LEASES", "DETAIL"], result.items.map(itemRow)));
  if (result.outcome === "partly-failed") {
    const retries = result.items.flatMap((i) => i.retryJobIds ?? []);
    io.out(
      `Partly failed: ${result.failed} of ${result.total} pod(s) failed; what failed is queued for retry (job${retries.length === 1 ? "" : "s"} ${retries.join(", ")}). Job ${jobId}.`,
    );
    return 3;
  }
  io.out(`Done: ${result.total} pod(s) handled (job ${jobId}).`);
  return 0;
}

/** Failed, or completed with its result (an older server could answer "completed" before the result was readable). */
export const finished = (job: JobReply): boolean =>
  job.state === "failed" || (job.state === "completed" && job.result !== null && job.result !== undefined);

function itemRow(item: OperationItem): string[] {
  const detail =
    item.outcome === "failed"
      ? `${item.error ?? "failed"}; retry: ${(item.retryJobIds ?? []).join(", ") || "-"}`
      : item.jobId
        ? `fresh credentials: job ${item.jobId}`
        : "";
  return [item.pod, item.outcome, (item.leases ?? []).join(", ") || (item.outcome === "revoked" ? "all" : "-"), detail];
}

function describeTargets(targets: readonly ResolvedTarget[]): string {
  const leases = targets.reduce((n, t) => n + t.leases.length, 0);
  const partial = targets.some((t) => t.onlyLeases);
  return `${partial ? `${leases} lease(s) of ` : ""}${targets.length} pod(s)${partial ? "" : ` with ${leases} lease(s) and their Vault tokens`}`;
}

/** One row per lease (a pod without leases gets one row), never a secret: ids, paths and expiry only. */
export function targetsTable(targets: readonly ResolvedTarget[], now: number = Date.now()): string {
  const rows: string[][] = [];
  for (const t of targets) {
    const pod = `${t.namespace}/${t.name}`;
    const what = t.onlyLeases ? "lease only" : "pod (token + Secret)";
    if (t.leases.length === 0) rows.push([pod, t.role, t.state, what, "-", "-", "-", relative(t.tokenExpiresAt, now)]);
    for (const l of t.leases)
      rows.push([
        pod,
        t.role,
        t.state,
        what,
        l.id,
        l.path,
        relative(l.expiresAt, now),
        relative(t.tokenExpiresAt, now),
      ]);
  }
  return formatTable(["POD", "ROLE", "STATE", "REVOKES", "LEASE", "PATH", "LEASE EXPIRES", "TOKEN EXPIRES"], rows);
}

/** The server resolves the scope again for the real call: say so if it reached other pods than the preview showed. */
function warnIfChanged(io: OutputIo, before: readonly ResolvedTarget[], after: readonly ResolvedTarget[]): void {
  const was = new Set(before.map((t) => t.uid));
  const now = new Set(after.map((t) => t.uid));
  const added = after.filter((t) => !was.has(t.uid)).map((t) => `${t.namespace}/${t.name}`);
  const gone = before.filter((t) => !now.has(t.uid)).map((t) => `${t.namespace}/${t.name}`);
  if (added.length > 0) io.err(`note: the scope also reached ${added.join(", ")} at revoke time (not in the preview)`);
  if (gone.length > 0) io.err(`note: ${gone.join(", ")} no longer matched at revoke time`);
}
