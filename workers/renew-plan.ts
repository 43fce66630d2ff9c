import type { LeaseRecord, PodRecord } from "../shared/index/pod-record.ts";

/** Why the pod token is replaced by a new login and every credential is read again under it. */
export type ReloginCause = "index-rebuilt" | "requested" | "token-not-renewable" | "token-max-ttl" | "token-lost";

/** Why credentials were rotated: the `cause` of leasekeeper_rotations_total. */
export type RotationCause = ReloginCause | "max-ttl" | "lease-lost" | "refresh";

/** keep: nothing to renew (no lease, e.g. KV); replace: a non-renewable lease past two thirds of its life; renew: ask Vault. */
export type LeaseStep = { readonly lease: LeaseRecord; readonly step: "keep" | "replace" | "renew" };

/** What one renew job does, decided from the record and the clock before any call to Vault. */
export type RenewPlan =
  | { readonly kind: "relogin"; readonly cause: ReloginCause }
  /** Woken early only to render files again (KV re-read, certificate): token and leases are not due yet. */
  | { readonly kind: "refresh-only" }
  | { readonly kind: "renew"; readonly renewToken: boolean; readonly leases: readonly LeaseStep[] };

/** A refresh wake this close to the lease due time renews as well. */
const DUE_SLACK_MS = 1000;

/** Something Vault will not extend is replaced once two thirds of its life are gone. */
const pastTwoThirds = (expiresAt: number, ttlSeconds: number, now: number) =>
  expiresAt - now <= (ttlSeconds * 1000) / 3;

export function planRenewal(record: PodRecord, force: boolean, now: number): RenewPlan {
  if (record.state === "recovered" || !record.encryptedToken) return { kind: "relogin", cause: "index-rebuilt" };
  if (force) return { kind: "relogin", cause: "requested" };
  if (record.leaseRenewAt !== undefined && now < record.leaseRenewAt - DUE_SLACK_MS) return { kind: "refresh-only" };
  // A token that cannot be renewed (e.g. a batch token) is replaced once two thirds of its life are gone.
  if (!record.tokenRenewable && pastTwoThirds(record.tokenExpiresAt, record.tokenTtlSeconds, now))
    return { kind: "relogin", cause: "token-not-renewable" };
  const leases = record.leases.map((lease): LeaseStep => {
    if (!lease.id) return { lease, step: "keep" };
    if (lease.renewable) return { lease, step: "renew" };
    // Non-renewable (e.g. some certificates): replace it once two thirds of its life are gone.
    return { lease, step: pastTwoThirds(lease.expiresAt, lease.ttlSeconds, now) ? "replace" : "keep" };
  });
  return { kind: "renew", renewToken: record.tokenRenewable, leases };
}
