/**
 * The per-pod Secret's finalizer (leasekeeper.io/revoke): the Secret outlives a garbage-collector
 * deletion until the revoke job has revoked what it names, and is released only after that.
 */
import * as assert from "uvu/assert";
import type { RevokeJob, RevokeOutcome } from "../../shared/jobs/job-types.ts";
import { FINALIZER_REVOKE } from "../../shared/kube/labels.ts";
import type { PodRef } from "../../shared/pods/pod-state.ts";
import { createReconciler } from "../../workers/reconciler.ts";
import { createRenewProcessor } from "../../workers/renew.ts";
import { createRevokeProcessor } from "../../workers/revoke.ts";
import { NAMESPACE, issuedPod, runProcessor, workerSuite, type WorkerFixture } from "../fakes/worker-fixture.ts";
import { rejection } from "../helpers/rejection.ts";

const test = workerSuite("revoke: the Secret's finalizer");

const job = (ref: PodRef, extra: Partial<RevokeJob> = {}): RevokeJob => ({
  ...ref,
  source: "watch",
  reason: "pod deleted",
  ...extra,
});
const revoke = (f: WorkerFixture, ref: PodRef, extra: Partial<RevokeJob> = {}) =>
  runProcessor<RevokeOutcome>(createRevokeProcessor(f.deps), "revoke", job(ref, extra));

test("issued and rotated, the Secret carries the finalizer; a rotation keeps others' finalizers", async ({ f }) => {
  const { ref } = await issuedPod(f, "fin-1");
  const name = "fin-1-leasekeeper";
  assert.equal((await f.kube.readSecret(NAMESPACE, name))?.metadata?.finalizers, [FINALIZER_REVOKE]);
  const secret = f.kube.secrets.get(`${NAMESPACE}/${name}`);
  if (secret?.metadata) secret.metadata.finalizers = ["example.com/backup", FINALIZER_REVOKE];
  await runProcessor(createRenewProcessor(f.deps), "renew", { ...ref, force: true }, `renew-${ref.uid}-1`);
  const rotated = await f.kube.readSecret(NAMESPACE, name);
  assert.not.equal(rotated?.metadata?.annotations, secret?.metadata?.annotations, "the rotation rewrote the Secret");
  assert.equal(rotated?.metadata?.finalizers, ["example.com/backup", FINALIZER_REVOKE]);
});

test("index lost, pod and Secret deleted: the Secret stays until a revoke succeeds, then goes", async ({ f }) => {
  const { ref, record } = await issuedPod(f, "fin-2");
  const name = "fin-2-leasekeeper";
  // Redis lost the record; the pod goes and the garbage collector deletes its Secret.
  await f.deps.index.delete(ref.uid);
  f.kube.deletePod(NAMESPACE, "fin-2");
  await f.kube.deleteSecret(NAMESPACE, name);
  const pending = await f.kube.readSecret(NAMESPACE, name);
  assert.ok(pending?.metadata?.deletionTimestamp, "the finalizer holds the deleted Secret");

  // Vault refuses the token revocation: the job backs off and the finalizer stays.
  f.vault.failNext("revokeAccessor", 500, "internal error");
  assert.match((await rejection(revoke(f, ref))).message, "HTTP 500", "the job fails and BullMQ retries it");
  assert.ok(f.vault.tokenLive(record.accessor), "the failed revocation left the token live");
  assert.equal(
    (await f.kube.readSecret(NAMESPACE, name))?.metadata?.finalizers,
    [FINALIZER_REVOKE],
    "the finalizer is kept while the revocation has not succeeded",
  );

  // The reconciler finds the Secret pending deletion with no pod and queues a revoke for the pod.
  const report = await createReconciler(f.deps)();
  assert.is(report.revokeQueued + report.revokeAlreadyQueued, 1);
  const queued = await f.deps.producer.queues.revoke.getJobs(["wait", "delayed", "prioritized"]);
  assert.ok(
    queued.some((j) => (j.data as RevokeJob).uid === ref.uid),
    "a revoke job for the pod's UID is queued",
  );

  assert.equal(await revoke(f, ref), { outcome: "revoked", leases: 1, tokenRevoked: true, secretDeleted: true });
  assert.not.ok(f.vault.tokenLive(record.accessor));
  assert.equal(f.vault.liveLeases(), []);
  assert.is(await f.kube.readSecret(NAMESPACE, name), undefined, "released, the Secret is gone");
});

test("a Secret not yet deleted (GC lag) is deleted and released by the revoke", async ({ f }) => {
  const { ref } = await issuedPod(f, "fin-3");
  f.kube.deletePod(NAMESPACE, "fin-3");
  assert.is((await revoke(f, ref)).outcome, "revoked");
  assert.is(await f.kube.readSecret(NAMESPACE, "fin-3-leasekeeper"), undefined);
});

test("a failed Secret deletion leaves the finalizer; the retry finishes", async ({ f }) => {
  const { ref } = await issuedPod(f, "fin-4");
  f.kube.deletePod(NAMESPACE, "fin-4");
  f.kube.deleteFailure = 500;
  assert.match((await rejection(revoke(f, ref))).message, "HTTP 500");
  assert.equal((await f.kube.readSecret(NAMESPACE, "fin-4-leasekeeper"))?.metadata?.finalizers, [FINALIZER_REVOKE]);
  f.kube.deleteFailure = undefined;
  assert.is((await revoke(f, ref)).outcome, "revoked");
  assert.is(await f.kube.readSecret(NAMESPACE, "fin-4-leasekeeper"), undefined);
});

test("on-call revoke of a live pod removes its Secret, finalizer and all", async ({ f }) => {
  const { ref } = await issuedPod(f, "fin-5");
  assert.is((await revoke(f, ref, { source: "api", reason: "INC-7", force: true })).outcome, "revoked");
  assert.equal(f.vault.liveLeases(), []);
  assert.is(await f.kube.readSecret(NAMESPACE, "fin-5-leasekeeper"), undefined);
});

test("a Secret deleted by hand while its pod lives is rotated in place, held until the pod's revoke", async ({ f }) => {
  const { ref } = await issuedPod(f, "fin-6");
  const name = "fin-6-leasekeeper";
  await f.kube.deleteSecret(NAMESPACE, name);
  const before = await f.kube.readSecret(NAMESPACE, name);
  await runProcessor(createRenewProcessor(f.deps), "renew", { ...ref, force: true }, `renew-${ref.uid}-2`);
  const rotated = await f.kube.readSecret(NAMESPACE, name);
  assert.not.equal(rotated?.data, before?.data, "rotated in place");
  assert.ok(rotated?.metadata?.deletionTimestamp);
  assert.equal(rotated?.metadata?.finalizers, [FINALIZER_REVOKE]);
  f.kube.deletePod(NAMESPACE, "fin-6");
  assert.is((await revoke(f, ref)).outcome, "revoked");
  assert.equal(f.vault.liveLeases(), []);
  assert.is(await f.kube.readSecret(NAMESPACE, name), undefined);
});

test.run();
