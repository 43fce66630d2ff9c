import { test } from "uvu";
import * as assert from "uvu/assert";
import type { PodRecord } from "../../shared/index/pod-record.ts";
import type { JobProducer } from "../../shared/jobs/producer.ts";
import { createMetrics } from "../../shared/observability/metrics.ts";
import { updateReconcileGauges } from "../../workers/reconcile-gauges.ts";

const record = (uid: string, state: PodRecord["state"], tokenExpiresAt: number, leaseExpiresAt: number): PodRecord => ({
  uid,
  namespace: "n",
  name: uid,
  serviceAccount: "sa",
  role: "r",
  authPath: "kubernetes",
  secretName: "s",
  state,
  accessor: "a",
  tokenExpiresAt,
  tokenTtlSeconds: 60,
  tokenRenewable: true,
  issuedAt: 0,
  rotations: 0,
  retiring: [],
  leases: [
    {
      id: `l-${uid}`,
      path: "database/creds/x",
      file: "creds.json",
      expiresAt: leaseExpiresAt,
      renewable: true,
      ttlSeconds: 60,
    },
  ],
});

function producerWith(counts: Record<string, Record<string, number>>, timers = 0): JobProducer {
  const queues = Object.fromEntries(Object.entries(counts).map(([name, c]) => [name, { getJobCounts: async () => c }]));
  return { queues, renewTimers: { size: async () => timers } } as unknown as JobProducer;
}

const value = async (metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}) => {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
};

test("earliest expiry: the nearest token or lease over issued records, ignoring recovered ones (expiry unknown)", async () => {
  const metrics = createMetrics();
  const now = 1_000_000;
  await updateReconcileGauges({ metrics, producer: producerWith({}), now: () => now }, [
    record("a", "issued", now + 600_000, now + 90_000),
    record("b", "issued", now + 45_000, now + 300_000),
    record("c", "recovered", now, now),
  ]);
  assert.is(await value(metrics, "leasekeeper_credentials_earliest_expiry_seconds"), 45);
});

test("earliest expiry is +Inf with no live issued pod, so a 'below N seconds' alert stays quiet", async () => {
  const metrics = createMetrics();
  await updateReconcileGauges({ metrics, producer: producerWith({}), now: () => 0 }, []);
  assert.is(await value(metrics, "leasekeeper_credentials_earliest_expiry_seconds"), Number.POSITIVE_INFINITY);
  assert.match(await metrics.registry.metrics(), /leasekeeper_credentials_earliest_expiry_seconds \+Inf/);
});

test("queue depth per queue and state", async () => {
  const metrics = createMetrics();
  await updateReconcileGauges(
    {
      metrics,
      producer: producerWith({ issue: { wait: 7, active: 2 }, renew: { prioritized: 40, delayed: 9 } }, 900),
      now: () => 0,
    },
    [],
  );
  assert.is(await value(metrics, "leasekeeper_queue_jobs", { queue: "issue", state: "wait" }), 7);
  assert.is(await value(metrics, "leasekeeper_queue_jobs", { queue: "issue", state: "failed" }), 0);
  assert.is(await value(metrics, "leasekeeper_queue_jobs", { queue: "renew", state: "prioritized" }), 40);
  assert.is(await value(metrics, "leasekeeper_queue_jobs", { queue: "renew", state: "delayed" }), 9);
  assert.is(
    await value(metrics, "leasekeeper_queue_jobs", { queue: "renew", state: "scheduled" }),
    900,
    "renewals waiting as timers",
  );
});

test.run();
