import { earliestExpiry, type PodRecord } from "../shared/index/pod-record.ts";
import type { WorkerDeps } from "./deps.ts";
import { nextWakeMs } from "./refresh.ts";

const MIN_DELAY_MS = 250;

/**
 * When to renew next: about two thirds of the shortest remaining TTL, plus 0..jitter % of
 * it, never later than 90 % of that TTL (the same shape Vault Secrets Operator uses).
 */
export function renewDelayMs(record: PodRecord, now: number, jitterPercent: number, random: () => number): number {
  const remaining = earliestExpiry(record) - now;
  if (remaining <= 0) return 0;
  const base = remaining * (2 / 3);
  const jitter = remaining * (jitterPercent / 100) * random();
  return Math.max(MIN_DELAY_MS, Math.min(base + jitter, remaining * 0.9));
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
  | { readonly kind: "now"; readonly keepExpiryOrder?: boolean };

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
        : renewDelayMs(record, now, deps.settings.renewJitterPercent, deps.random);
    record.leaseRenewAt = now + leaseDelay;
    delay = nextWakeMs(record, now, leaseDelay);
    expiresAt = earliestExpiry(record);
  } else if (when.keepExpiryOrder) {
    expiresAt = earliestExpiry(record);
  }
  record.renewSeq = (record.renewSeq ?? 0) + 1;
  record.renewJobId = await deps.producer.renew(
    { uid: record.uid, namespace: record.namespace, name: record.name, force: false },
    record.renewSeq,
    delay,
    expiresAt,
  );
  record.nextRenewAt = now + delay;
  await deps.index.put(record);
  return delay;
}
