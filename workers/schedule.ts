import { earliestExpiry, type PodRecord } from "../shared/index/pod-record.ts";

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
