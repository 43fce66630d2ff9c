/** issue, with the in-memory Vault and Kubernetes fakes: what a pod and its owner would notice. */
import * as assert from "uvu/assert";
import type { IssueOutcome } from "../../shared/jobs/job-types.ts";
import { createIssueProcessor } from "../../workers/issue.ts";
import {
  NAMESPACE,
  podFiles,
  refOf,
  runProcessor,
  runToBackoff,
  scheduledRenewal,
  workerSuite,
  type WorkerFixture,
} from "../fakes/worker-fixture.ts";

const test = workerSuite("issue processor");

const issue = (f: WorkerFixture, ref: ReturnType<typeof refOf>) =>
  runProcessor<IssueOutcome>(createIssueProcessor(f.deps), "issue", { ...ref, source: "watch" });

test("the pod's Secret holds each file (a database lease, KV), owned by the pod; a renewal is scheduled", async ({
  f,
}) => {
  const pod = f.addPod("web-1");
  const ref = refOf(pod);
  assert.equal(await issue(f, ref), { outcome: "issued", leases: 1, secret: "web-1-leasekeeper" });

  const [lease] = f.vault.liveLeases();
  assert.ok(lease, "one database lease is live");
  const files = podFiles(f, pod);
  assert.equal(JSON.parse(files["creds.json"] ?? ""), {
    password: "db-pass",
    username: `v-${lease.id.slice("database/creds/app/".length)}`,
  });
  assert.equal(JSON.parse(files["config.json"] ?? ""), { data: { password: "kv-pass" } });
  const secret = await f.kube.readSecret(NAMESPACE, "web-1-leasekeeper");
  assert.equal(
    secret?.metadata?.ownerReferences?.map((o) => o.uid),
    [ref.uid],
  );

  const record = await f.record(ref.uid);
  assert.is(record.state, "issued");
  assert.ok(f.vault.tokenLive(record.accessor), "the recorded token is the live pod token");
  assert.equal(record.leases.map((l) => l.id).filter(Boolean), [lease.id], "the lease is recorded (KV has none)");
  assert.is(record.renewSeq, 1);
  assert.is(record.renewJobId, `renew-${ref.uid}-1`);
  const renewal = await scheduledRenewal(f, ref.uid);
  assert.is(renewal?.via, "timer", "the renewal waits as a timer, not as a delayed job");
  assert.is(renewal?.delayMs, (record.nextRenewAt ?? 0) - f.deps.now());
  assert.is(await f.deps.producer.queues.renew.getJob(record.renewJobId ?? ""), undefined);
  assert.ok(
    (record.leaseRenewAt ?? 0) - f.deps.now() === Math.round(3600 * 1000 * (2 / 3)),
    "renewal at two thirds of the lease",
  );
  assert.equal(
    f.kube.events.map((e) => e.event.reason),
    ["CredentialsIssued"],
  );
});

test("running it again changes nothing: no second login, no new lease, the Secret untouched", async ({ f }) => {
  const ref = refOf(f.addPod("web-2"));
  await issue(f, ref);
  const before = await f.kube.readSecret(NAMESPACE, "web-2-leasekeeper");
  assert.equal(await issue(f, ref), { outcome: "already-issued" });
  assert.is(f.vault.tokens.length, 1);
  assert.is(f.vault.leases.length, 1);
  assert.is(
    (await f.kube.readSecret(NAMESPACE, "web-2-leasekeeper"))?.metadata?.resourceVersion,
    before?.metadata?.resourceVersion,
  );
});

test("a retry after a crash between login and Secret revokes the first token (and its leases) and starts over", async ({
  f,
}) => {
  const ref = refOf(f.addPod("web-3"));
  await issue(f, ref);
  const first = await f.record(ref.uid);
  await f.deps.index.put({ ...first, state: "issuing" });
  assert.is((await issue(f, ref)).outcome, "issued");
  const second = await f.record(ref.uid);
  assert.is.not(second.accessor, first.accessor);
  assert.not.ok(f.vault.tokenLive(first.accessor), "the first token is revoked");
  assert.equal(
    f.vault.liveLeases().map((l) => l.id),
    second.leases.map((l) => l.id).filter(Boolean),
  );
});

test("a Secret of that name that is another pod's is never overwritten; the new token and lease are revoked", async ({
  f,
}) => {
  const pod = f.addPod("web-4");
  const ref = refOf(pod);
  await f.kube.createSecret(NAMESPACE, {
    metadata: { name: "web-4-leasekeeper", labels: { "leasekeeper.io/pod-uid": "someone-else" } },
    data: { keep: "bWluZQ==" },
  });
  const backoff = await runToBackoff(createIssueProcessor(f.deps), "issue", { ...ref, source: "watch" });
  assert.is(backoff.state.reason, "SecretNameTaken");
  assert.match(backoff.state.error, "is not owned by this pod");
  assert.ok(backoff.state.needsFix, "it waits for someone to free the name, not for a quick retry");
  assert.equal(podFiles(f, pod), { keep: "mine" });
  assert.equal(f.vault.liveLeases(), []);
  assert.not.ok(
    f.vault.tokens.some((t) => f.vault.tokenLive(t.accessor)),
    "no pod token is left alive",
  );
  assert.is(await f.deps.index.get(ref.uid), undefined);
  assert.equal(
    f.kube.events.map((e) => e.event.reason),
    ["IssueFailed"],
  );
});

test("nothing is issued for a pod that is gone, replaced (other UID), finished, or not opted in", async ({ f }) => {
  const ref = refOf(f.addPod("web-5"));
  assert.equal(await issue(f, { ...ref, name: "gone" }), { outcome: "pod-gone" });
  assert.equal(await issue(f, { ...ref, uid: "an-older-uid" }), { outcome: "pod-gone" });
  const done = f.kube.addPod({
    metadata: {
      name: "job-1",
      namespace: NAMESPACE,
      annotations: { "leasekeeper.io/role": "app", "leasekeeper.io/secret-creds.json": "database/creds/app" },
    },
    status: { phase: "Succeeded" },
  });
  assert.equal(await issue(f, refOf(done)), { outcome: "pod-terminal" });
  const plain = f.addPod("plain", {});
  assert.equal(await issue(f, refOf(plain)), { outcome: "not-opted-in" });
  assert.is(f.vault.tokens.length, 0);
});

test.run();
