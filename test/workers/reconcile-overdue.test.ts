import { suite } from "uvu";
import { Redis } from "ioredis";
import * as assert from "uvu/assert";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { opted, startLeasekeeper, waitFor } from "../e2e/harness.ts";

/** A renewal whose job is gone for good (failed, or lost) is scheduled again by the reconciler. */
const overdue = suite<{ stack: Stack; seeded: Seeded }>("overdue renewal");

overdue.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0, postgres: false });
  ctx.seeded = await seedExample(ctx.stack);
});
overdue.after(async (ctx) => {
  await ctx.stack?.close();
});

overdue("the reconciler re-schedules a renewal that should have run a minute ago", async ({ stack, seeded }) => {
  const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" });
  try {
    const pod = await stack.core.createNamespacedPod({
      namespace: "default",
      body: opted("od-1", { "leasekeeper.io/secret-creds.json": "secret/data/db-pass" }),
    });
    const uid = pod.metadata?.uid ?? "";
    const record = await waitFor("issued", async () => {
      const r = await lk.runtime.deps.index.get(uid);
      return r?.state === "issued" ? r : undefined;
    });
    // Its renew job disappears (as after a permanent failure) and its time is long past.
    await lk.runtime.deps.producer.cancelRenew(record.renewJobId);
    await lk.runtime.deps.index.put({ ...record, nextRenewAt: Date.now() - 120_000 });
    const renewedBefore = (await lk.runtime.metrics.jobs.get()).values
      .filter((v) => v.labels.queue === "renew" && v.labels.outcome === "renewed")
      .reduce((a, v) => a + v.value, 0);
    await lk.runtime.reconcileNow();
    const after = await lk.runtime.deps.index.get(uid);
    assert.ok(after?.renewJobId && after.renewJobId !== record.renewJobId, "a new renew job id is current");
    await waitFor("the renewal ran", async () => {
      const now = (await lk.runtime.metrics.jobs.get()).values
        .filter((v) => v.labels.queue === "renew" && v.labels.outcome === "renewed")
        .reduce((a, v) => a + v.value, 0);
      return now > renewedBefore;
    });
    await lk.runtime.reconcileNow();
    const settled = await lk.runtime.deps.index.get(uid);
    assert.ok((settled?.nextRenewAt ?? 0) > Date.now(), "back on a future schedule, not re-scheduled again");
  } finally {
    await lk.stop();
  }
});

overdue("a renewal past its time whose timer still waits is left to it", async ({ stack, seeded }) => {
  const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" });
  try {
    const pod = await stack.core.createNamespacedPod({
      namespace: "default",
      body: opted("od-2", { "leasekeeper.io/secret-creds.json": "secret/data/db-pass" }),
    });
    const uid = pod.metadata?.uid ?? "";
    const record = await waitFor("issued", async () => {
      const r = await lk.runtime.deps.index.get(uid);
      return r?.state === "issued" ? r : undefined;
    });
    // The renewal still waits as a timer; only the record says its time is long past.
    await lk.runtime.deps.index.put({ ...record, nextRenewAt: Date.now() - 120_000 });
    await lk.runtime.reconcileNow();
    const after = await lk.runtime.deps.index.get(uid);
    assert.is(after?.renewJobId, record.renewJobId, "the waiting job stays the current one");
    assert.ok(await lk.runtime.deps.producer.renewTimers.has(record.renewJobId ?? ""), "its timer still waits");
  } finally {
    await lk.stop();
  }
});

overdue(
  "Redis losing its data (FLUSHALL) starts a reconcile pass at once, which puts renewals back",
  async ({ stack, seeded }) => {
    const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" });
    const admin = new Redis(stack.redis.url);
    try {
      const pod = await stack.core.createNamespacedPod({
        namespace: "default",
        body: opted("od-3", { "leasekeeper.io/secret-creds.json": "secret/data/db-pass" }),
      });
      const uid = pod.metadata?.uid ?? "";
      await waitFor("issued", async () => (await lk.runtime.deps.index.get(uid))?.state === "issued");
      const passes = async () => (await lk.runtime.metrics.reconcileRuns.get()).values.reduce((a, v) => a + v.value, 0);
      const before = await passes();
      await admin.flushall();
      // The interval is an hour: only the loss check can start this pass.
      await waitFor("a reconcile pass ran", async () => (await passes()) > before);
      // Rebuilt from the Secret with a renewal queued at once; once that ran, the next waits as a timer.
      await waitFor("the index rebuilt from the Secret, with its renewal scheduled", async () => {
        const rebuilt = await lk.runtime.deps.index.get(uid);
        return rebuilt?.renewJobId !== undefined && (await lk.runtime.deps.producer.renewPending(rebuilt.renewJobId));
      });
    } finally {
      admin.disconnect();
      await lk.stop();
    }
  },
);

overdue.run();
