import { Worker, type ConnectionOptions } from "bullmq";
import { QUEUE } from "../shared/jobs/job-types.ts";
import { warnOnRedisErrors } from "../shared/redis/connection.ts";
import { createReplicaTrust, type ReplicaTrustSettings } from "../shared/unseal/replica-trust.ts";
import type { WorkerDeps } from "./deps.ts";
import { createIssueProcessor } from "./issue.ts";
import { createRenewProcessor } from "./renew.ts";
import { createRevokeProcessor } from "./revoke.ts";
import { createUnsealProcessor } from "./unseal/processor.ts";
import type { UnsealDeps } from "./unseal/deps.ts";

export interface WorkerOptions extends ReplicaTrustSettings {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly issueConcurrency: number;
  readonly renewConcurrency: number;
  readonly revokeConcurrency: number;
  /** Jobs per second toward Vault for issue and renew; revocations are never throttled. */
  readonly vaultRateLimitPerSecond: number;
  /** BullMQ's job lock (renewed every half of it while the job runs); a dead worker's job stalls this long after. */
  readonly jobLockMs: number;
  /** How often each worker looks for stalled jobs and takes them back. */
  readonly jobStalledIntervalMs: number;
  /** Stalls a job survives before it fails. */
  readonly jobMaxStalledCount: number;
  /** The unseal worker, when unseal is enabled (functions/entry/unseal-wiring.ts). */
  readonly unsealWorker?: { readonly deps: UnsealDeps; readonly concurrency: number } | undefined;
}

/**
 * How fast a job whose worker died is run again. BullMQ renews a running job's lock every half
 * of `lockDuration`; a worker that dies stops renewing, and the next stalled-job check of any
 * live worker (every `stalledInterval`) after the lock lapsed puts the job back in the queue.
 * A stalled job is retried, not failed, until it has stalled `maxStalledCount` times. The
 * per-pod lock (podLockMs, shared/index/keyed-lock.ts) lapses as fast, so the new run gets it.
 */
export function stallOptions(
  options: Pick<WorkerOptions, "jobLockMs" | "jobStalledIntervalMs" | "jobMaxStalledCount">,
) {
  return {
    lockDuration: options.jobLockMs,
    stalledInterval: options.jobStalledIntervalMs,
    maxStalledCount: options.jobMaxStalledCount,
  };
}

/** One BullMQ Worker per queue, each running its processor factory. */
export function startWorkers(deps: WorkerDeps, options: WorkerOptions): Worker[] {
  const limiter = { max: options.vaultRateLimitPerSecond, duration: 1000 };
  const base = { connection: options.connection, prefix: options.prefix, ...stallOptions(options) };
  const workers: Worker[] = [
    new Worker(QUEUE.revoke, createRevokeProcessor(deps), { ...base, concurrency: options.revokeConcurrency }),
    new Worker(QUEUE.issue, createIssueProcessor(deps), { ...base, concurrency: options.issueConcurrency, limiter }),
    new Worker(QUEUE.renew, createRenewProcessor(deps), { ...base, concurrency: options.renewConcurrency, limiter }),
  ];
  if (options.unsealWorker) {
    // Which replicas may get key shares comes from configuration, never from the job payload.
    const trust = createReplicaTrust(options);
    workers.push(
      new Worker(QUEUE.unseal, createUnsealProcessor(options.unsealWorker.deps, trust), {
        ...base,
        concurrency: options.unsealWorker.concurrency,
      }),
    );
  }
  // Rate-limited: while Redis restarts every reconnect attempt of every worker fails.
  for (const worker of workers) warnOnRedisErrors(worker, deps.log, `worker ${worker.name}`);
  return workers;
}
