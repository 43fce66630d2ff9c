import { createHash } from "node:crypto";
import { Queue, type ConnectionOptions, type Job, type JobsOptions } from "bullmq";
import {
  QUEUE,
  jobId,
  renewJobUid,
  type IssueJob,
  type OperationJob,
  type QueueName,
  type RenewJob,
  type RetireJob,
  type RevokeJob,
  type RevokeQueueJob,
  type UnsealJob,
} from "./job-types.ts";
import { replicaKey } from "../unseal/replicas.ts";
import { retryStateOf } from "./failure-backoff.ts";
import { RenewTimers } from "./renew-timers.ts";

/**
 * A renewal due at least this far ahead waits as a timer (renew-timers.ts); a nearer one, a retry
 * and a forced renewal are queued as delayed jobs at once.
 */
export const RENEW_TIMER_MIN_MS = 2_000;

/**
 * Whether a renewal `delayMs` ahead waits as a timer, written with the pod's index record in one
 * transaction (PodIndex.put), rather than as a job queued now (JobProducer.renew).
 */
export function waitsAsTimer(data: RenewJob, delayMs: number): boolean {
  return !data.force && data.retry === undefined && delayMs >= RENEW_TIMER_MIN_MS;
}

export interface ProducerOptions {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly attempts: number;
}

/** What an add did: a new job, or `created: false` when it collapsed into the job already holding the id. */
export interface Enqueued {
  readonly id: string;
  readonly created: boolean;
}

/** Enqueues typed jobs with deterministic ids. Payloads hold references, never secrets. */
export class JobProducer {
  readonly queues: Readonly<Record<QueueName, Queue>>;
  /** Scheduled renewals not yet due (workers/renew-pump.ts queues them as they come due). */
  readonly renewTimers: RenewTimers;
  readonly #defaults: JobsOptions;

  constructor(options: ProducerOptions) {
    // The events stream is capped: its size must not grow with the number of pods.
    const make = (name: QueueName) =>
      new Queue(name, { connection: options.connection, prefix: options.prefix, streams: { events: { maxLen: 200 } } });
    this.queues = {
      issue: make(QUEUE.issue),
      renew: make(QUEUE.renew),
      revoke: make(QUEUE.revoke),
      unseal: make(QUEUE.unseal),
    };
    this.renewTimers = new RenewTimers(this.queues.renew, options.prefix);
    this.#defaults = {
      attempts: options.attempts,
      backoff: { type: "exponential", delay: 500, jitter: 0.5 },
      removeOnComplete: { age: 3600, count: 5000 },
      removeOnFail: 5000,
    };
  }

  /**
   * BullMQ ignores an add whose id is still held by a finished job. A failed job (pod jobs do not
   * fail for good: only an unreadable payload does) or a finished revoke or retire must not
   * swallow the next request, so such a job is removed first. Returns the job still holding the
   * id (waiting, delayed, running), if any.
   */
  async #clearFinished(queue: Queue, id: string, alsoCompleted: boolean): Promise<Job | undefined> {
    const job = await queue.getJob(id);
    if (!job) return undefined;
    const state = await job.getState();
    if ((state === "completed" && alsoCompleted) || state === "failed") {
      await job.remove().catch(() => undefined);
      return undefined;
    }
    return job;
  }

  /**
   * `created` is false when a job already held the id (waiting, delayed, running), so the add
   * collapsed into it. A job waiting out a failure backoff is replaced, so it runs at once, when
   * the pod changed since it was queued (its role or secret annotations: `podVersion`) or a
   * person asked (API, CI); a reconciler pass or a repeated event leaves its backoff alone.
   */
  async issue(data: IssueJob): Promise<Enqueued> {
    // Completed issue jobs are removed so that a later event re-checks the pod; the
    // processor's index check keeps that idempotent.
    const id = jobId.issue(data.uid);
    let held = await this.#clearFinished(this.queues.issue, id, false);
    if (held && retryNow(held.data as IssueJob, data)) {
      // Removing fails only if it started running meanwhile: then it is updated as a running job is.
      if (await inBackoff(held))
        held = await held.remove().then(
          () => undefined,
          () => held,
        );
      // A waiting or running job takes the new version: if a running one fails, the job runner
      // sees its payload changed under it and runs it again at once instead of backing off.
      if (held && data.podVersion !== undefined)
        await held.updateData({ ...(held.data as IssueJob), podVersion: data.podVersion }).catch(() => undefined);
    }
    const job = await this.queues.issue.add("issue", data, { ...this.#defaults, jobId: id, removeOnComplete: true });
    return { id: job.id ?? id, created: !held };
  }

  async revoke(data: RevokeJob): Promise<Enqueued> {
    // Revocations go first: highest priority in their own queue.
    const id = jobId.revoke(data.uid);
    const held = await this.#clearFinished(this.queues.revoke, id, true);
    const job = await this.queues.revoke.add("revoke" satisfies RevokeQueueJob, data, {
      ...this.#defaults,
      jobId: id,
      priority: 1,
    });
    return { id: job.id ?? id, created: !held };
  }

  /** An on-call / CI operation (workers/operation.ts) in the revoke queue; `id` makes it idempotent. */
  async operation(data: OperationJob, id: string): Promise<string> {
    const job = await this.queues.revoke.add("operation" satisfies RevokeQueueJob, data, {
      ...this.#defaults,
      attempts: 1,
      jobId: id,
      priority: 1,
      removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    });
    return job.id ?? id;
  }

  /** A forced revoke (live pod, on-call) with its own id, so an earlier "pod-alive" result does not swallow it. */
  async forcedRevoke(data: RevokeJob, key: string): Promise<string> {
    const id = jobId.forcedRevoke(data.uid, key);
    const job = await this.queues.revoke.add(
      "revoke" satisfies RevokeQueueJob,
      { ...data, force: true },
      { ...this.#defaults, jobId: id, priority: 1 },
    );
    return job.id ?? id;
  }

  /**
   * Queues the pod's next renewal as a job: one due soon, a retry (its data counts the tries) or a
   * forced renewal. A later one waits as a timer instead (waitsAsTimer). `expiresAt` (epoch ms of
   * its earliest expiry) becomes the priority, so that when jobs pile up (Vault sealed, backlog)
   * the nearest expiry runs first.
   */
  async renew(data: RenewJob, seq: number, delayMs: number, expiresAt?: number): Promise<string> {
    const id = jobId.renew(data.uid, seq);
    const priority = expiryPriority(expiresAt);
    const { force, ...refOnly } = data;
    await this.queues.renew.add("renew", force ? data : refOnly, {
      ...this.#defaults,
      jobId: id,
      delay: Math.max(0, Math.round(delayMs)),
      removeOnComplete: true,
      priority,
    });
    return id;
  }

  /**
   * Queues the renew jobs of timers that came due (workers/renew-pump.ts), prioritised by the
   * earliest expiry as every other renew job is, so that a backlog runs nearest expiry first.
   */
  async queueDueRenewals(due: readonly DueRenewal[]): Promise<void> {
    await this.queues.renew.addBulk(
      due.map(({ id, namespace, name, expiresAt }) => ({
        name: "renew",
        data: { uid: renewJobUid(id), namespace, name },
        opts: { ...this.#defaults, jobId: id, removeOnComplete: true, priority: expiryPriority(expiresAt) },
      })),
    );
  }

  /**
   * Whether the renew job `id` will still run: a timer that is not past due by `stuckMs` (a timer
   * no pump queued that long after its time is not counted on), or a job waiting, delayed or running.
   */
  async renewPending(id: string | undefined, stuckMs = 20_000): Promise<boolean> {
    if (!id) return false;
    const dueAt = await this.renewTimers.dueAt(id);
    if (dueAt !== undefined) return dueAt > Date.now() - stuckMs;
    const job = await this.queues.renew.getJob(id);
    return job !== undefined && PENDING.has(await job.getState());
  }

  /** Cancels the renewal `id`, waiting as a timer or queued as a job. */
  async cancelRenew(id: string | undefined): Promise<void> {
    if (!id) return;
    if (await this.renewTimers.cancel(id)) return;
    await this.removeRenewJob(id);
  }

  /** Removes the renew job `id` if it is queued (a timer is not looked at: PodIndex.delete drops it). */
  async removeRenewJob(id: string | undefined): Promise<void> {
    if (!id) return;
    const job = await this.queues.renew.getJob(id);
    if (!job) return;
    try {
      await job.remove();
    } catch {
      // Active (locked) jobs cannot be removed; the processor sees a stale id and stops.
    }
  }

  async retire(data: RetireJob, delayMs: number): Promise<string> {
    const digest = createHash("sha256").update(`${data.kind}:${data.id}`).digest("hex").slice(0, 16);
    const id = jobId.retire(data.uid, digest);
    await this.#clearFinished(this.queues.revoke, id, true);
    await this.queues.revoke.add("retire" satisfies RevokeQueueJob, data, {
      ...this.#defaults,
      jobId: id,
      delay: Math.max(0, Math.round(delayMs)),
      priority: 2,
    });
    return id;
  }

  /**
   * One unseal job per replica: a trigger while one is waiting or running collapses into it.
   * A finished job stays readable (GET /v1/jobs/<id>: the CLI and CI follow it) until the next
   * trigger for that replica replaces it, so the id always shows the latest pass; the
   * processor retries KMS/replica failures itself and reports them as outcomes.
   */
  async unseal(data: UnsealJob): Promise<string> {
    const id = jobId.unseal(replicaKey(data.replica));
    await this.#clearFinished(this.queues.unseal, id, true);
    await this.queues.unseal.add("unseal", data, {
      jobId: id,
      attempts: 3,
      backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 3600, count: 1000 },
    });
    return id;
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
  }
}

/** BullMQ states in which a job will still run (a stalled active job is picked up again). */
const PENDING = new Set(["waiting", "delayed", "active", "prioritized", "waiting-children"]);

/** A renewal timer that came due, with what its job needs from the pod's index record. */
export interface DueRenewal {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly expiresAt: number | undefined;
}

/** BullMQ priority of a renew job: seconds to the earliest expiry (lower runs first). */
function expiryPriority(expiresAt: number | undefined): number | undefined {
  return expiresAt === undefined
    ? undefined
    : Math.min(2_097_151, Math.max(1, Math.floor((expiresAt - Date.now()) / 1000)));
}

/** A delayed job that failed before: it waits out a failure backoff (failure-backoff.ts). */
async function inBackoff(job: Job): Promise<boolean> {
  return retryStateOf(job) !== undefined && (await job.isDelayed());
}

/** Whether a new issue request should cut a backoff short: the pod changed, or a person asked. */
function retryNow(queued: IssueJob, next: IssueJob): boolean {
  if (next.source === "api" || next.source === "ci") return true;
  return next.podVersion !== undefined && next.podVersion !== queued.podVersion;
}
