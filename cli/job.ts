import type { OperationOutcome } from "../shared/jobs/job-types.ts";
import { CliError, type ApiClient } from "./http-client.ts";
import { finished, reportJob, type JobReply, type OutputIo } from "./revoke.ts";
import { formatTable } from "./table.ts";

export const JOB_OPTIONS = {
  wait: { type: "string" },
  output: { type: "string", short: "o" },
} as const;

export interface JobFlags {
  wait?: string | undefined;
  output?: string | undefined;
}

interface JobView extends JobReply {
  queue: string;
  name: string;
  attemptsMade: number;
  createdAt: string;
  finishedAt?: string;
}

/**
 * `leasekeeper job <id> [--wait s]`: GET /v1/jobs/<id>, waiting up to --wait seconds for it to
 * finish. Revoke / rotate / CI operations print each pod's outcome; other jobs their result.
 * Exit: 0 completed, 1 failed, 3 partly failed or still running.
 */
export async function runJob(api: ApiClient, id: string | undefined, flags: JobFlags, io: OutputIo): Promise<number> {
  if (!id) throw new CliError("give the job id, e.g. ci-deploy-42 or op-…", 2);
  const output = flags.output ?? "table";
  if (output !== "table" && output !== "json") throw new CliError(`--output is table or json, not "${output}"`, 2);
  const waitSeconds = flags.wait === undefined ? 0 : Number(flags.wait);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 3600)
    throw new CliError(`--wait wants whole seconds (0–3600), got "${flags.wait}"`, 2);
  const deadline = Date.now() + waitSeconds * 1000;
  let job: JobView;
  for (;;) {
    const left = Math.max(0, Math.min(60, Math.ceil((deadline - Date.now()) / 1000)));
    job = (await api.get<JobView>(`/v1/jobs/${encodeURIComponent(id)}${left > 0 ? `?wait=${left}` : ""}`, left)).body;
    if (finished(job) || Date.now() >= deadline) break;
  }
  if (output === "json") {
    io.out(JSON.stringify(job, null, 2));
    return !finished(job) ? 3 : job.state === "failed" ? 1 : 0;
  }
  io.out(
    formatTable(
      ["JOB", "QUEUE", "STATE", "ATTEMPTS", "CREATED", "FINISHED"],
      [[job.id, job.queue, job.state, String(job.attemptsMade), job.createdAt, job.finishedAt ?? "-"]],
    ),
  );
  const result = job.result as Partial<OperationOutcome> | null | undefined;
  if (job.name === "operation" && Array.isArray(result?.items))
    return reportJob(io, id, job, result?.action ?? "operation");
  if (job.state === "failed") {
    io.err(`job ${id} failed: ${job.failedReason ?? "no reason given"}`);
    return 1;
  }
  if (!finished(job)) {
    io.out(`Still ${job.state}; wait longer with --wait.`);
    return 3;
  }
  io.out(`result: ${JSON.stringify(job.result)}`);
  return 0;
}
