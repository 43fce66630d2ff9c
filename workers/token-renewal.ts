import type { PodRecord } from "../shared/index/pod-record.ts";

/** On top of the rotation grace: queue latency and clock steps between two renewals. */
export const TOKEN_SLACK_SECONDS = 5;

/** The latest the next renewal comes, as a share of the shortest TTL (renewDelayMs in schedule.ts caps it there). */
const LATEST_RENEWAL_SHARE = 0.9;

export interface TokenRenewalPlan {
  /** What renew-self asks for: enough for the longest lease plus the margin (or the token's own TTL without leases). */
  readonly incrementSeconds: number;
  /**
   * The least the token must have left after this renewal: the time until the next renewal at
   * the latest, plus the rotation grace (a re-login then keeps the old token that long) and slack.
   * Less — Vault capped the renewal at the token's max TTL — means: log in again now.
   */
  readonly neededSeconds: number;
}

/**
 * How to renew a pod token. Vault caps renew-self at the token's max TTL, so a shorter answer
 * than asked is normal (with token_ttl = token_max_ttl it is every answer); only a token whose
 * remaining life will not cover its leases until the next renewal plus a margin is replaced.
 */
export function tokenRenewalPlan(
  record: Pick<PodRecord, "leases" | "tokenTtlSeconds">,
  graceSeconds: number,
): TokenRenewalPlan {
  const margin = graceSeconds + TOKEN_SLACK_SECONDS;
  const leaseTtls = record.leases.filter((l) => l.id !== "" && l.ttlSeconds > 0).map((l) => l.ttlSeconds);
  if (leaseTtls.length === 0) {
    // Nothing but the token expires: it sets the pace itself (renewal at ~2/3 of its TTL).
    const ttl = Math.max(1, record.tokenTtlSeconds);
    return { incrementSeconds: ttl, neededSeconds: Math.ceil(ttl * LATEST_RENEWAL_SHARE + margin) };
  }
  const neededSeconds = Math.ceil(Math.min(...leaseTtls) * LATEST_RENEWAL_SHARE + margin);
  return { incrementSeconds: Math.max(neededSeconds, Math.max(...leaseTtls) + margin), neededSeconds };
}
