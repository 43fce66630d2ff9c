import { earliestExpiry, type PodRecord } from "../shared/index/pod-record.ts";
import type { WorkerDeps } from "./deps.ts";

/** Queue states exported as leasekeeper_queue_jobs{state}; BullMQ's names. */
export const QUEUE_STATES = ["wait", "prioritized", "active", "delayed", "failed"] as const;

/**
 * Gauges the reconciler refreshes on each pass, for alerts and autoscaling:
 * leasekeeper_credentials_earliest_expiry_seconds over the given live pods' records (only
 * `issued` ones: a `recovered` record does not know its expiry) and leasekeeper_queue_jobs (with
 * state "scheduled" for the renewals waiting as timers).
 */
export async function updateReconcileGauges(
  deps: Pick<WorkerDeps, "metrics" | "producer" | "now">,
  livePodRecords: readonly PodRecord[],
): Promise<void> {
  let earliest = Number.POSITIVE_INFINITY;
  for (const record of livePodRecords) {
    if (record.state === "issued") earliest = Math.min(earliest, earliestExpiry(record));
  }
  deps.metrics.earliestExpiry.set(
    earliest === Number.POSITIVE_INFINITY ? earliest : Math.max(0, (earliest - deps.now()) / 1000),
  );
  for (const [queue, q] of Object.entries(deps.producer.queues)) {
    const counts = await q.getJobCounts(...QUEUE_STATES);
    for (const state of QUEUE_STATES) deps.metrics.queueJobs.set({ queue, state }, counts[state] ?? 0);
  }
  // Scheduled renewals wait as timers, not as delayed jobs (shared/jobs/renew-timers.ts).
  deps.metrics.queueJobs.set({ queue: "renew", state: "scheduled" }, await deps.producer.renewTimers.size());
}
