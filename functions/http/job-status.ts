import type { Job, Queue } from "bullmq";
import type { QueueName } from "../../shared/jobs/job-types.ts";

export interface JobView {
  readonly id: string;
  readonly queue: QueueName;
  readonly name: string;
  readonly state: string;
  readonly progress: unknown;
  readonly result: unknown;
  readonly failedReason: string | undefined;
  readonly attemptsMade: number;
  readonly createdAt: string;
  readonly finishedAt: string | undefined;
  /** Namespaces the job acts in (operations), for authorization. */
  readonly namespaces: string[];
}

const FINISHED = new Set(["completed", "failed"]);

/** Finds a job by id in the queues, most likely first (operations live in the revoke queue). */
export async function findJob(queues: Readonly<Record<QueueName, Queue>>, id: string): Promise<JobView | undefined> {
  const order: QueueName[] = id.startsWith("unseal-")
    ? ["unseal"]
    : id.startsWith("issue-")
      ? ["issue"]
      : id.startsWith("renew-")
        ? ["renew"]
        : ["revoke", "renew", "issue", "unseal"];
  for (const name of order) {
    const job = await queues[name].getJob(id);
    if (job) {
      const state = await job.getState();
      // Finished between the two reads: read it again so state and result agree (else a "completed" job shows result null).
      const current = FINISHED.has(state) && !job.finishedOn ? ((await queues[name].getJob(id)) ?? job) : job;
      return view(name, current, state);
    }
  }
  return undefined;
}

/** Polls until the job finished or `seconds` passed (works over a per-request connection, no blocking reads). */
export async function waitForJob(
  queues: Readonly<Record<QueueName, Queue>>,
  id: string,
  seconds: number,
): Promise<JobView | undefined> {
  const deadline = Date.now() + seconds * 1000;
  let delay = 25;
  for (;;) {
    const found = await findJob(queues, id);
    if (!found || FINISHED.has(found.state) || Date.now() >= deadline) return found;
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 250);
  }
}

function view(queue: QueueName, job: Job, state: string): JobView {
  const data = job.data as { targets?: Array<{ namespace?: string }>; namespace?: string };
  const namespaces = Array.isArray(data.targets)
    ? [...new Set(data.targets.map((t) => t.namespace ?? ""))]
    : typeof data.namespace === "string"
      ? [data.namespace]
      : [];
  return {
    id: job.id ?? "",
    queue,
    name: job.name,
    state,
    progress: job.progress,
    result: job.returnvalue ?? null,
    failedReason: job.failedReason || undefined,
    attemptsMade: job.attemptsMade,
    createdAt: new Date(job.timestamp).toISOString(),
    finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
    namespaces,
  };
}
