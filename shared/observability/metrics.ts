import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus metrics. Labels are closed sets (queue, outcome, reason): never a pod secret. */
export function createMetrics(registry = new Registry(), options: { processMetrics?: boolean } = {}) {
  // Process metrics read the OS (cpu, memory, handles); a Cloudflare Worker has none of them.
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "leasekeeper_process_" });
  const metrics = {
    registry,
    jobs: new Counter({
      name: "leasekeeper_jobs_total",
      help: "Jobs finished, by queue and outcome",
      labelNames: ["queue", "outcome"],
      registers: [registry],
    }),
    jobFailures: new Counter({
      name: "leasekeeper_job_failures_total",
      help: "Job attempts that threw, by queue and error class",
      labelNames: ["queue", "error"],
      registers: [registry],
    }),
    issueSeconds: new Histogram({
      name: "leasekeeper_issue_duration_seconds",
      help: "Time from pod creation to its credentials Secret being written",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    renewals: new Counter({
      name: "leasekeeper_renewals_total",
      help: "Lease and token renewals, by kind and result",
      labelNames: ["kind", "result"],
      registers: [registry],
    }),
    rotations: new Counter({
      name: "leasekeeper_rotations_total",
      help: "Credential rotations, by cause",
      labelNames: ["cause"],
      registers: [registry],
    }),
    revocations: new Counter({
      name: "leasekeeper_revocations_total",
      help: "Leases and tokens revoked, by kind",
      labelNames: ["kind"],
      registers: [registry],
    }),
    watchEvents: new Counter({
      name: "leasekeeper_watch_events_total",
      help: "Pod events handled, by source, type and action",
      labelNames: ["source", "type", "action"],
      registers: [registry],
    }),
    watchRestarts: new Counter({
      name: "leasekeeper_watch_restarts_total",
      help: "Pod watch restarts, by cause",
      labelNames: ["cause"],
      registers: [registry],
    }),
    watchSynced: new Gauge({
      name: "leasekeeper_watch_synced",
      help: "1 when the pod watch has listed and is watching",
      registers: [registry],
    }),
    isLeader: new Gauge({
      name: "leasekeeper_watch_leader",
      help: "1 when this replica holds the watcher Lease",
      registers: [registry],
    }),
    reconcileRuns: new Counter({
      name: "leasekeeper_reconcile_runs_total",
      help: "Reconciler passes, by result",
      labelNames: ["result"],
      registers: [registry],
    }),
    reconcileActions: new Counter({
      name: "leasekeeper_reconcile_actions_total",
      help: "Jobs the reconciler enqueued, by action",
      labelNames: ["action"],
      registers: [registry],
    }),
    livePods: new Gauge({
      name: "leasekeeper_pods_tracked",
      help: "Pods with credentials in the index",
      registers: [registry],
    }),
    vaultSealedWaits: new Counter({
      name: "leasekeeper_vault_sealed_waits_total",
      help: "Jobs postponed without spending an attempt because Vault was unavailable, by queue and reason (sealed, unreachable: refused or reset, timeout: no answer within LEASEKEEPER_VAULT_TIMEOUT_MS)",
      labelNames: ["queue", "reason"],
      registers: [registry],
    }),
    // Updated by the reconciler on each pass (workers/reconcile-gauges.ts).
    earliestExpiry: new Gauge({
      name: "leasekeeper_credentials_earliest_expiry_seconds",
      help: "Seconds until the earliest pod token or lease of a live pod expires (+Inf when none)",
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: "leasekeeper_queue_jobs",
      help: "Jobs per queue and state (wait, prioritized, active, delayed, failed; renew also scheduled: renewals waiting as timers)",
      labelNames: ["queue", "state"],
      registers: [registry],
    }),
    // Unseal (replica label: a Vault pod "namespace/name" or a configured host:port; a closed, small set).
    unsealAttempts: new Counter({
      name: "leasekeeper_unseal_attempts_total",
      help: "Unseal jobs finished, by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    vaultSealed: new Gauge({
      name: "leasekeeper_vault_sealed",
      help: "1 when the replica was last seen sealed, 0 unsealed",
      labelNames: ["replica"],
      registers: [registry],
    }),
    vaultSealedSeconds: new Gauge({
      name: "leasekeeper_vault_sealed_seconds",
      help: "How long the replica had been sealed (since its container started or the trigger) when leasekeeper last unsealed it",
      labelNames: ["replica"],
      registers: [registry],
    }),
    vaultLastUnseal: new Gauge({
      name: "leasekeeper_vault_last_unseal_timestamp_seconds",
      help: "When leasekeeper last unsealed the replica",
      labelNames: ["replica"],
      registers: [registry],
    }),
    unsealLatency: new Histogram({
      name: "leasekeeper_unseal_latency_seconds",
      help: "Time from the trigger (pod event, sweep, request) to the replica being unsealed",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    unsealKeysUnpersisted: new Gauge({
      name: "leasekeeper_unseal_keys_unpersisted",
      help: "1 while auto-init keys exist only in memory because storing them failed",
      registers: [registry],
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
