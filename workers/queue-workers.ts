import { Worker, type ConnectionOptions } from "bullmq";
import { QUEUE } from "../shared/jobs/job-types.ts";
import { messageOf } from "../shared/errors/errors.ts";
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
  /** The unseal worker, when unseal is enabled (functions/entry/unseal-wiring.ts). */
  readonly unsealWorker?: { readonly deps: UnsealDeps; readonly concurrency: number } | undefined;
}

/** One BullMQ Worker per queue, each running its processor factory. */
export function startWorkers(deps: WorkerDeps, options: WorkerOptions): Worker[] {
  const limiter = { max: options.vaultRateLimitPerSecond, duration: 1000 };
  const base = { connection: options.connection, prefix: options.prefix };
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
  for (const worker of workers) {
    worker.on("error", (err) => deps.log.warn({ queue: worker.name, error: messageOf(err) }, "worker error"));
  }
  return workers;
}
