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
          podSource: "watch-cache",
          issueQueued: 0,
          issueAlreadyQueued: 1,
          revokedByOperator: 1,
          revokeQueued: 0,
          revokeAlreadyQueued: 0,
          rebuilt: 0,
          rescheduled: 0,
          retireRescheduled: 0,
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

t("with the watcher synced, a pass lists no pods and lists managed Secrets as metadata only", async ({ stack, lk }) => {
  await lk.runtime.watcher?.start();
  await waitFor("watch synced", async () => lk.runtime.watcher?.synced === true);
  const before = stack.kube.control.requests.length;
  const report = await reconcile(lk);
  const sent = stack.kube.control.requests
    .slice(before)
    .filter((r) => r.method === "GET" && !/watch=(true|1)/.test(r.path));
  assert.is(report.podSource, "watch-cache");
  assert.equal(
    sent.filter((r) => /\/pods(\?|$)/.test(r.path)).map((r) => r.path),
    [],
    "no pod LIST while the cache is synced",
  );
  const secretLists = sent.filter((r) => /\/secrets\?/.test(r.path));
  assert.ok(secretLists.length > 0);
  for (const r of secretLists) assert.match(r.accept ?? "", /as=PartialObjectMetadataList;g=meta\.k8s\.io;v=v1/);
  // Stopped (or re-listing) watch: the pass lists pods itself.
  await lk.runtime.watcher?.stop();
  assert.is((await reconcile(lk)).podSource, "list");
  await lk.runtime.watcher?.start();
});

t("a finished pod that lingers is revoked once, not on every pass", async ({ stack, lk }) => {
  await waitFor("watch synced", async () => lk.runtime.watcher?.synced === true);
  const pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted("rc-job", kv) });
  const uid = pod.metadata?.uid ?? "";
  await waitFor("rc-job issued", async () => (await lk.runtime.deps.index.get(uid))?.state === "issued");
  stack.kube.control.setPodPhase("default", "rc-job", "Succeeded");
  await waitFor("rc-job revoked", async () => (await lk.runtime.deps.index.get(uid)) === undefined);
  await waitFor(
    "rc-job's Secret deleted",
    async () => (await lk.runtime.deps.kube.listManagedSecrets(["default"], uid)).length === 0,
  );
  await waitFor("revoke job finished", async () => {
    const job = await lk.runtime.deps.producer.queues.revoke.getJob(`revoke-${uid}`);
    return !job || (await job.getState()) === "completed";
  });
  for (let pass = 0; pass < 2; pass++) {
    const report = await reconcile(lk);
    assert.equal([report.revokeQueued, report.revokeAlreadyQueued], [0, 0], `pass ${pass + 1}`);
  }
});

t("a retirement whose job was lost is scheduled again and then runs", async ({ stack, lk }) => {
  const pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted("rc-retire", kv) });
  const uid = pod.metadata?.uid ?? "";
  await waitFor("rc-retire issued", async () => (await lk.runtime.deps.index.get(uid))?.state === "issued");
  const record = (await lk.runtime.deps.index.get(uid))!;
  // An old accessor recorded as retiring two minutes ago, with no job (as after a flush of the queue).
  const lost = { kind: "accessor" as const, id: "lost-accessor-0001", revokeAt: Date.now() - 120_000 };
  await lk.runtime.deps.index.put({ ...record, retiring: [...record.retiring, lost] });
  const first = await reconcile(lk);
  assert.is(first.retireRescheduled, 1);
  await waitFor(
    "the lost retirement ran",
    async () => (await lk.runtime.deps.index.get(uid))?.retiring.every((r) => r.id !== lost.id) === true,
  );
  assert.is((await reconcile(lk)).retireRescheduled, 0);
});

t(
  "an issue job takes the pod from the watch cache: no GET of the pod before its TokenRequest",
  async ({ stack, lk }) => {
    await waitFor("watch synced", async () => lk.runtime.watcher?.synced === true);
    const before = stack.kube.control.requests.length;
    const pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted("rc-cached", kv) });
    await waitFor(
      "rc-cached issued",
      async () => (await lk.runtime.deps.index.get(pod.metadata?.uid ?? ""))?.state === "issued",
    );
    const sent = stack.kube.control.requests.slice(before);
    assert.equal(
      sent.filter((r) => r.method === "GET" && r.path.startsWith("/api/v1/namespaces/default/pods/rc-cached")),
      [],
    );
    assert.ok(
      sent.some((r) => r.method === "POST" && r.path.includes("/serviceaccounts/") && r.path.endsWith("/token")),
    );
  },
);

t.run();
