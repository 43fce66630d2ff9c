import { earliestExpiry, type PodRecord } from "../shared/index/pod-record.ts";
import type { WorkerDeps } from "./deps.ts";
import { nextWakeMs } from "./refresh.ts";
import { jobId } from "../shared/jobs/job-types.ts";
import { waitsAsTimer } from "../shared/jobs/producer.ts";

const MIN_DELAY_MS = 250;

/**
 * Time a renewal keeps in hand before the earliest expiry, enough for a job whose worker died to
 * be picked up by another one (the default job lock, 10 s, plus two stalled checks, 5 s each) and
 * still renew in time.
 */
export const CRASH_RECOVERY_MS = 20_000;

/**
 * When to renew next: about two thirds of the shortest remaining TTL, plus 0..jitter % of
 * it, never later than 90 % of that TTL (the same shape Vault Secrets Operator uses). With short
 * TTLs the renewal comes earlier, so that CRASH_RECOVERY_MS stays in hand (but not before a
 * third of the TTL): a worker killed holding the job does not let the lease lapse.
 */
export function renewDelayMs(record: PodRecord, now: number, jitterPercent: number, random: () => number): number {
  const remaining = earliestExpiry(record) - now;
  if (remaining <= 0) return 0;
  const base = remaining * (2 / 3);
  const jitter = remaining * (jitterPercent / 100) * random();
  const latest = Math.min(remaining * 0.9, Math.max(remaining / 3, remaining - CRASH_RECOVERY_MS));
  return Math.max(MIN_DELAY_MS, Math.min(base + jitter, latest));
}

/** First retry of a renewal that failed transiently; doubles per attempt up to RETRY_MAX_MS. */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;
/** A retry is never scheduled later than this before the earliest expiry. */
export const RETRY_SAFETY_MS = 2000;

/**
 * When to try again after a renewal failed transiently (a 502, the API server down): the usual
 * backoff (from RETRY_BASE_MS, doubling, 50–100 % of it with jitter), but never later than a
 * quarter of the time left to the earliest expiry nor later than RETRY_SAFETY_MS before it, so
 * the tries come closer together as the deadline nears instead of running past it. Past the
 * expiry the next try takes the re-login path (a lost token or lease is replaced); it keeps the
 * backoff.
 */
export function renewRetryDelayMs(record: PodRecord, now: number, attempt: number, random: () => number): number {
  const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt, 16)) * (0.5 + random() / 2);
  const remaining = earliestExpiry(record) - now;
  if (remaining <= 0) return Math.max(MIN_DELAY_MS, backoff);
  return Math.max(MIN_DELAY_MS, Math.min(backoff, remaining / 4, remaining - RETRY_SAFETY_MS));
}

/** When the next renew job runs. */
export type RenewWhen =
  /** Token and leases are due at renewDelayMs; the job wakes then or at the next file refresh. */
  | { readonly kind: "by-expiry" }
  /** Token and leases stay due at `at` (a wake that only refreshed files); the job wakes then or at the next refresh. */
  | { readonly kind: "lease-due"; readonly at: number }
  /**
   * At once: a record rebuilt from its Secret (outside the expiry order), or a renewal found
   * overdue (keepExpiryOrder: after a long Vault outage the nearest expiry still runs first).
   */
  | { readonly kind: "now"; readonly keepExpiryOrder?: boolean }
  /** Token and leases are due again in `delayMs`: the `attempt`-th retry after a transient failure (renewRetryDelayMs). */
  | { readonly kind: "retry"; readonly delayMs: number; readonly attempt: number };

/**
 * Schedules the pod's one current renew job and writes the record: the next sequence number
 * (renewSeq, so job ids never repeat for a pod), the job id, when it wakes (nextRenewAt) and
 * when token and leases are due (leaseRenewAt). Returns the delay in ms.
 */
export async function scheduleRenew(
  deps: WorkerDeps,
  record: PodRecord,
  when: RenewWhen = { kind: "by-expiry" },
): Promise<number> {
  const now = deps.now();
  let delay = 0;
  let expiresAt: number | undefined;
  if (when.kind !== "now") {
    const leaseDelay =
      when.kind === "lease-due"
        ? Math.max(0, when.at - now)
        : when.kind === "retry"
          ? when.delayMs
          : renewDelayMs(record, now, deps.settings.renewJitterPercent, deps.random);
    record.leaseRenewAt = now + leaseDelay;
    // A retry keeps its delay even when a file refresh is overdue: that refresh is part of what failed.
    delay = when.kind === "retry" ? leaseDelay : nextWakeMs(record, now, leaseDelay);
    expiresAt = earliestExpiry(record);
  } else if (when.keepExpiryOrder) {
    expiresAt = earliestExpiry(record);
  }
  const previous = record.renewJobId;
  record.renewSeq = (record.renewSeq ?? 0) + 1;
  const data = {
    uid: record.uid,
    namespace: record.namespace,
    name: record.name,
    force: false,
    ...(when.kind === "retry" ? { retry: when.attempt } : {}),
  };
  record.nextRenewAt = now + delay;
  if (waitsAsTimer(data, delay)) {
    // The usual case, one per live pod: a timer written with the record (the pump queues its job).
    record.renewJobId = jobId.renew(record.uid, record.renewSeq);
    await deps.index.put(record, { renewTimerDueAt: record.nextRenewAt, dropRenewTimer: previous });
  } else {
    record.renewJobId = await deps.producer.renew(data, record.renewSeq, delay, expiresAt);
    await deps.index.put(record, { dropRenewTimer: previous });
  }
  return delay;
}
