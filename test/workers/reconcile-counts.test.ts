import { suite } from "uvu";
import * as assert from "uvu/assert";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { opted, startLeasekeeper, waitFor, type Harness } from "../e2e/harness.ts";
import type { ReconcileReport } from "../../workers/reconciler.ts";

/**
 * The reconciler reports what it did: new jobs apart from enqueues that collapsed into a job
 * already holding the pod's id (it used to log "issued": N every pass while issuing nothing).
 */
const t = suite<{ stack: Stack; seeded: Seeded; lk: Harness }>("reconciler counts");

t.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0, postgres: false });
  ctx.seeded = await seedExample(ctx.stack);
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, { LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" });
});
t.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

const reconcile = async (lk: Harness) => (await lk.runtime.reconcileNow()) as ReconcileReport;
const kv = { "leasekeeper.io/secret-creds.json": "secret/data/db-pass" };

t(
  "steady state: a pass over issued, backing-off and operator-revoked pods queues nothing and says so",
  async ({ stack, lk }) => {
    const ok = await stack.core.createNamespacedPod({ namespace: "default", body: opted("rc-ok", kv) });
    // An unknown role fails (IssueFailed) and its job waits on a backoff: re-adds collapse into it.
    const bad = await stack.core.createNamespacedPod({
      namespace: "default",
      body: opted("rc-bad", { ...kv, "leasekeeper.io/role": "no-such-role" }),
    });
    const tomb = await stack.core.createNamespacedPod({ namespace: "default", body: opted("rc-tomb", kv) });
    await waitFor(
      "rc-ok and rc-tomb issued",
      async () =>
        (await lk.runtime.deps.index.get(ok.metadata?.uid ?? ""))?.state === "issued" &&
        (await lk.runtime.deps.index.get(tomb.metadata?.uid ?? ""))?.state === "issued",
    );
    await waitFor("rc-bad backing off", async () => {
      const job = await lk.runtime.deps.producer.queues.issue.getJob(`issue-${bad.metadata?.uid}`);
      return job !== undefined && (job.progress as { retry?: unknown }).retry !== undefined;
    });
    // On-call revoked rc-tomb while it lives: record and Secret gone, tombstone left.
    const tombUid = tomb.metadata?.uid ?? "";
    await lk.runtime.deps.index.markRevoked(tombUid, { at: Date.now(), source: "api", reason: "test" });
    await lk.runtime.deps.index.delete(tombUid);
    await stack.core.deleteNamespacedSecret({ namespace: "default", name: "rc-tomb-leasekeeper" });

    const before = await lk.runtime.metrics.reconcileActions.get();
    for (let pass = 0; pass < 2; pass++) {
      const report = await reconcile(lk);
      assert.equal(
        report,
        {
          pods: 3,
          issueQueued: 0,
          issueAlreadyQueued: 1,
          revokedByOperator: 1,
          revokeQueued: 0,
          revokeAlreadyQueued: 0,
          rebuilt: 0,
          rescheduled: 0,
        },
        `pass ${pass + 1}`,
      );
    }
    assert.is(
      await lk.runtime.deps.producer.queues.issue.getJob(`issue-${tombUid}`),
      undefined,
      "no issue job for the tombstoned pod",
    );
    const issueMetric = (v: Awaited<typeof before>) => v.values.find((x) => x.labels.action === "issue")?.value ?? 0;
    assert.is(
      issueMetric(await lk.runtime.metrics.reconcileActions.get()),
      issueMetric(before),
      "leasekeeper_reconcile_actions_total{action=issue} counts only new jobs",
    );
    // The scheduled pass (at start) logs the same report.
    const line = lk.logs.find((l) => l.includes('"msg":"reconciled"')) ?? "";
    assert.match(
      line,
      /"issueQueued":0,"issueAlreadyQueued":0,"revokedByOperator":0,"revokeQueued":0,"revokeAlreadyQueued":0,"rebuilt":0,"rescheduled":0/,
    );
  },
);

t(
  "a missed creation and a missed deletion are queued once; the pass after that collapses nothing new",
  async ({ stack, lk }) => {
    // leasekeeper misses events while the watch is stopped.
    await lk.runtime.watcher?.stop();
    const missed = await stack.core.createNamespacedPod({ namespace: "default", body: opted("rc-missed", kv) });
    await stack.core.deleteNamespacedPod({ namespace: "default", name: "rc-ok" });
    await waitFor(
      "rc-ok gone",
      async () =>
        !(await stack.core.listNamespacedPod({ namespace: "default" })).items.some((p) => p.metadata?.name === "rc-ok"),
    );
    const first = await reconcile(lk);
    assert.is(first.issueQueued, 1, "rc-missed");
    assert.is(first.revokeQueued, 1, "rc-ok");
    await waitFor(
      "rc-missed issued",
      async () => (await lk.runtime.deps.index.get(missed.metadata?.uid ?? ""))?.state === "issued",
    );
    await waitFor("rc-ok revoked", async () => (await lk.runtime.deps.index.all()).every((r) => r.name !== "rc-ok"));
    const second = await reconcile(lk);
    assert.equal(
      [second.issueQueued, second.revokeQueued, second.issueAlreadyQueued],
      [0, 0, 1],
      "only rc-bad's job (in backoff) is collapsed into",
    );
  },
);

t.run();
