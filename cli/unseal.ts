import type { ApiClient } from "./http-client.ts";
import { finished, type JobReply, type OutputIo } from "./revoke.ts";
import { formatTable } from "./table.ts";

export const UNSEAL_OPTIONS = {
  replica: { type: "string", multiple: true },
  wait: { type: "string" },
} as const;

export interface UnsealFlags {
  replica?: string[] | undefined;
  wait?: string | undefined;
}

/**
 * `leasekeeper unseal [--replica vault/vault-0 …] [--wait 30]`: POST /v1/unseal (every replica by
 * default), then follows each job and prints its outcome. Exit 0 when every replica ended unsealed.
 */
export async function runUnseal(api: ApiClient, flags: UnsealFlags, io: OutputIo): Promise<number> {
  const waitSeconds = Math.max(0, Math.min(600, Number(flags.wait ?? 30) || 0));
  const body = flags.replica && flags.replica.length > 0 ? { replicas: flags.replica } : {};
  const { body: reply } = await api.post<{ jobs: Array<{ replica: string; jobId: string }> }>("/v1/unseal", body);
  if (waitSeconds === 0) {
    io.out(
      formatTable(
        ["REPLICA", "JOB"],
        reply.jobs.map((j) => [j.replica, j.jobId]),
      ),
    );
    return 0;
  }
  const deadline = Date.now() + waitSeconds * 1000;
  const rows: string[][] = [];
  let ok = true;
  for (const { replica, jobId } of reply.jobs) {
    let job: JobReply | undefined;
    while ((!job || !finished(job)) && Date.now() < deadline) {
      const left = Math.max(1, Math.min(60, Math.ceil((deadline - Date.now()) / 1000)));
      job = (await api.get<JobReply>(`/v1/jobs/${encodeURIComponent(jobId)}?wait=${left}`, left)).body;
    }
    const result = (job?.result ?? undefined) as { outcome?: string; reason?: string } | undefined;
    const outcome = job?.state === "completed" ? (result?.outcome ?? "completed") : (job?.state ?? "queued");
    if (outcome !== "unsealed" && outcome !== "already-unsealed") ok = false;
    rows.push([replica, jobId, outcome, result?.reason ?? job?.failedReason ?? ""]);
  }
  io.out(formatTable(["REPLICA", "JOB", "OUTCOME", "DETAIL"], rows));
  return ok ? 0 : 1;
}
