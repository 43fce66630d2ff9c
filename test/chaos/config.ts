/**
 * The two sizes of the chaos run. Quick mode shortens TTLs and fault durations together, so a
 * fault still spans the same share of a lease's life as in the full run.
 */

export type Topology = "all-in-one" | "split" | "ha-watchers" | "split-ha";

export interface ProcessSpec {
  readonly name: string;
  /** LEASEKEEPER_ROLES */
  readonly roles: string;
  readonly leaderElection: boolean;
}

export const TOPOLOGIES: Readonly<Record<Topology, readonly ProcessSpec[]>> = {
  /** The small-cluster default: one process runs every role. */
  "all-in-one": [{ name: "all", roles: "all", leaderElection: false }],
  /** Separate Deployments: two worker processes, one watch + reconciler (+ HTTP functions). */
  split: [
    { name: "worker-a", roles: "workers", leaderElection: false },
    { name: "worker-b", roles: "workers", leaderElection: false },
    { name: "control", roles: "watch,reconciler,functions", leaderElection: false },
  ],
  /** Two replicas of everything, the watch active/standby through a Kubernetes Lease. */
  "ha-watchers": [
    { name: "replica-a", roles: "all", leaderElection: true },
    { name: "replica-b", roles: "all", leaderElection: true },
  ],
  /** Quick mode's one scenario: a worker process and two leader-elected watch + reconciler processes. */
  "split-ha": [
    { name: "worker", roles: "workers", leaderElection: false },
    { name: "watch-a", roles: "watch,reconciler,functions", leaderElection: true },
    { name: "watch-b", roles: "watch,reconciler,functions", leaderElection: true },
  ],
};

export interface Size {
  readonly name: "quick" | "full";
  readonly topologies: readonly Topology[];
  /** Length of the churn + fault phase of one scenario. */
  readonly chaosMs: number;
  /** setup.sh's DB_DEFAULT_TTL / DB_MAX_TTL and APP_TOKEN_TTL / APP_TOKEN_MAX_TTL, seconds. */
  readonly dbTtlS: number;
  readonly dbMaxTtlS: number;
  readonly tokenTtlS: number;
  readonly tokenMaxTtlS: number;
  /**
   * Kept below the renew margin (a third of the database TTL), as the shipped 60 s is far below a
   * third of the shipped 1 h: a repair the reconciler makes still comes before a lease runs out.
   */
  readonly reconcileIntervalS: number;
  readonly rotationGraceS: number;
  /** Pods alive at once (the churn keeps it between min and max). */
  readonly minPods: number;
  readonly maxPods: number;
  /** Mean time between churn actions. */
  readonly churnEveryMs: number;
  /** Vault sealed / unreachable: [min, max] ms. */
  readonly outageMs: readonly [number, number];
  /** Shorter faults (latency, 5xx, Kubernetes errors, Redis and PostgreSQL down time): [min, max] ms. */
  readonly shortFaultMs: readonly [number, number];
  /** Vault's clock jumps forward by this much (less than the renew margin, a third of the lease TTL). */
  readonly clockJumpMs: number;
  /** Pod grace period for graceful deletes, seconds. */
  readonly podGraceS: number;
  /** A pending pod without credentials after this long counts as a failed sample. */
  readonly startAllowanceMs: number;
  /** How often each live pod's mounted credentials are tried against PostgreSQL. */
  readonly sampleEveryMs: number;
}

export const QUICK: Size = {
  name: "quick",
  topologies: ["split-ha"],
  chaosMs: 170_000,
  dbTtlS: 30,
  dbMaxTtlS: 80,
  tokenTtlS: 45,
  tokenMaxTtlS: 110,
  reconcileIntervalS: 10,
  rotationGraceS: 2,
  minPods: 3,
  maxPods: 7,
  churnEveryMs: 4000,
  outageMs: [8000, 14_000],
  shortFaultMs: [3000, 6000],
  clockJumpMs: 2000,
  podGraceS: 2,
  startAllowanceMs: 20_000,
  sampleEveryMs: 1500,
};

export const FULL: Size = {
  name: "full",
  topologies: ["all-in-one", "split", "ha-watchers"],
  chaosMs: 420_000,
  dbTtlS: 60,
  dbMaxTtlS: 200,
  tokenTtlS: 90,
  tokenMaxTtlS: 240,
  reconcileIntervalS: 15,
  rotationGraceS: 3,
  minPods: 4,
  maxPods: 10,
  churnEveryMs: 4000,
  outageMs: [20_000, 60_000],
  shortFaultMs: [5000, 15_000],
  clockJumpMs: 5000,
  podGraceS: 3,
  startAllowanceMs: 30_000,
  sampleEveryMs: 2000,
};

/**
 * After the last fault: one reconcile interval plus the rotation grace, plus the time a revoke or
 * rotation takes to run once due.
 */
export function quietMs(size: Size): number {
  return (size.reconcileIntervalS + size.rotationGraceS) * 1000 + 10_000;
}

/**
 * How long after its pod is gone a token, lease or database role may still exist (Vault, Redis and
 * PostgreSQL down time in between is added): the reconciler repairs a missed event within one
 * interval; 15 s covers the revoke job itself and a leasekeeper process restarting.
 */
export function revokeBoundMs(size: Size): number {
  return size.reconcileIntervalS * 1000 + 15_000;
}
