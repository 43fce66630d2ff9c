/**
 * A job waiting out a failure backoff never blocks its pod: an event saying the pod changed (or a
 * person asking) replaces it so it runs at once; a repeated event or a reconciler pass leaves the
 * backoff alone (it runs again on its own, within the cap). Real BullMQ worker and Redis.
 */
import * as assert from "uvu/assert";
import { Worker, type Job } from "bullmq";
import type { V1Pod } from "@kubernetes/client-node";
import { retryStateOf } from "../../shared/jobs/failure-backoff.ts";
import { QUEUE, jobId } from "../../shared/jobs/job-types.ts";
import { PodEventRouter } from "../../shared/pods/pod-events.ts";
import { createIssueProcessor } from "../../workers/issue.ts";
import { refOf, runToBackoff, workerSuite, type WorkerFixture } from "../fakes/worker-fixture.ts";

const test = workerSuite("backoff and new enqueues");

const ANNOTATIONS = {
  "leasekeeper.io/role": "app",
  "leasekeeper.io/secret-creds.json": "database/creds/app",
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startIssueWorker(f: WorkerFixture, redisUrl: string): Worker {
  const prefix = f.deps.producer.queues.issue.opts.prefix;
  return new Worker(QUEUE.issue, createIssueProcessor(f.deps), {
    connection: { url: redisUrl, maxRetriesPerRequest: null },
    prefix,
  });
}

/** The pod's issue job once it sits delayed in a failure backoff. */
const inBackoff = (f: WorkerFixture, uid: string) =>
  until("the issue job in backoff", async () => {
    const job = await f.deps.producer.queues.issue.getJob(jobId.issue(uid));
    return job && retryStateOf(job) && (await job.isDelayed()) ? job : undefined;
  });

async function stateOf(f: WorkerFixture, uid: string): Promise<{ state: string; job: Job | undefined }> {
  const job = await f.deps.producer.queues.issue.getJob(jobId.issue(uid));
  return { state: job ? await job.getState() : "gone", job };
}

test("the pod's role annotation is fixed: the watch event replaces the backoff job and it issues at once", async ({
  f,
  redis,
}) => {
  const worker = startIssueWorker(f, redis.url);
  try {
    const router = new PodEventRouter(f.deps.producer, f.deps.index, [], 0);
    const pod = f.addPod("web-1", { ...ANNOTATIONS, "leasekeeper.io/role": "wrong" });
    const ref = refOf(pod);
    assert.is((await router.route("ADDED", pod, "watch")).action, "issue");
    const failed = await inBackoff(f, ref.uid);
    assert.is(retryStateOf(failed)?.reason, "VaultInvalidRole");

    // A status update (same request) and a reconciler pass collapse into the backoff job.
    const status: V1Pod = { ...pod, status: { phase: "Pending", conditions: [{ type: "Ready", status: "False" }] } };
    await router.route("MODIFIED", status, "watch");
    assert.is((await f.deps.producer.issue({ ...ref, source: "reconciler" })).created, false);
    const still = await stateOf(f, ref.uid);
    assert.is(still.state, "delayed", "the backoff is left alone");
    assert.is(still.job?.timestamp, failed.timestamp, "the same job");

    // The user fixes the annotation: MODIFIED with a changed request.
    const fixed = f.kube.addPod({ ...pod, metadata: { ...pod.metadata, annotations: ANNOTATIONS } });
    assert.is((await router.route("MODIFIED", fixed, "watch")).action, "issue");
    const after = await stateOf(f, ref.uid);
    assert.is.not(after.state, "delayed", `replaced, not waiting out its backoff (${after.state})`);
    if (after.job) assert.is(retryStateOf(after.job), undefined, "a fresh job: its backoff starts over");
    const record = await until("issued", async () => (await f.deps.index.get(ref.uid))?.state === "issued");
    assert.ok(record);
  } finally {
    await worker.close();
  }
});

test("a request from a person (API, CI) cuts the backoff short too; nothing failed is left to swallow an enqueue", async ({
  f,
  redis,
}) => {
  const worker = startIssueWorker(f, redis.url);
  try {
    const pod = f.addPod("web-2", { ...ANNOTATIONS, "leasekeeper.io/role": "later" });
    const ref = refOf(pod);
    await f.deps.producer.issue({ ...ref, source: "watch" });
    await inBackoff(f, ref.uid);
    f.vault.roles.set("later", f.vault.roles.get("app")!);
    const again = await f.deps.producer.issue({ ...ref, source: "api" });
    assert.ok(again.created, "a new job, not collapsed into the backoff");
    await until("issued", async () => (await f.deps.index.get(ref.uid))?.state === "issued");
    const failed = await f.deps.producer.queues.issue.getJobs(["failed"]);
    assert.equal(failed, [], "no job failed for good");
  } finally {
    await worker.close();
  }
});

test("the pod changed while its job was running and failing: that run goes again at once, not after a backoff", async ({
  f,
}) => {
  const pod = f.addPod("web-3", { ...ANNOTATIONS, "leasekeeper.io/role": "wrong" });
  const ref = refOf(pod);
  const started = { ...ref, source: "watch", podVersion: "v1" } as const;
  await f.deps.producer.issue(started);
  // The job is running with v1 when the event for v2 arrives: the add collapses, the payload is updated.
  assert.is((await f.deps.producer.issue({ ...started, podVersion: "v2" })).created, false);
  const issue = createIssueProcessor(f.deps);
  const rerun = await runToBackoff(issue, "issue", started, { id: jobId.issue(ref.uid) });
  assert.ok(rerun.delayMs < 1_000, `runs again at once (${rerun.delayMs} ms)`);
  // Had nothing changed, the same failure would wait its backoff.
  const waited = await runToBackoff(issue, "issue", { ...started, podVersion: "v2" }, { id: jobId.issue(ref.uid) });
  assert.ok(waited.delayMs > 3_000, `backs off (${waited.delayMs} ms)`);
});

test.run();
