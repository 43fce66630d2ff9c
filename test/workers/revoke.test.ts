/** The revoke queue (revoke, retire, operation), with the in-memory fakes. */
import * as assert from "uvu/assert";
import type { RevokeJob, RevokeOutcome } from "../../shared/jobs/job-types.ts";
import { ANNOTATION_ACCESSOR } from "../../shared/kube/labels.ts";
import type { PodRef } from "../../shared/pods/pod-state.ts";
import { createRevokeProcessor } from "../../workers/revoke.ts";
import {
  NAMESPACE,
  ROLE,
  issuedPod,
  refOf,
  runProcessor,
  workerSuite,
  type WorkerFixture,
} from "../fakes/worker-fixture.ts";
import { rejection } from "../helpers/rejection.ts";
import { createIssueProcessor } from "../../workers/issue.ts";
import { createRenewProcessor } from "../../workers/renew.ts";

const test = workerSuite("revoke queue");

const revoke = (f: WorkerFixture, ref: PodRef, extra: Partial<RevokeJob> = {}) =>
  runProcessor<RevokeOutcome>(createRevokeProcessor(f.deps), "revoke", {
    ...ref,
    source: "watch",
    reason: "pod deleted",
    ...extra,
  });

test("pod deleted: its leases and token are revoked, the Secret deleted, the renewal cancelled, the record dropped; again: nothing to do", async ({
  f,
}) => {
  const { ref, record } = await issuedPod(f, "web-1");
  f.kube.deletePod(NAMESPACE, "web-1");
  assert.equal(await revoke(f, ref), { outcome: "revoked", leases: 1, tokenRevoked: true, secretDeleted: true });
  assert.equal(f.vault.liveLeases(), []);
  assert.not.ok(f.vault.tokenLive(record.accessor));
  assert.is(await f.kube.readSecret(NAMESPACE, "web-1-leasekeeper"), undefined);
  assert.not.ok(await f.deps.producer.renewPending(record.renewJobId), "no timer nor job left");
  assert.is(await f.deps.index.get(ref.uid), undefined);
  assert.equal(await revoke(f, ref), { outcome: "nothing-to-revoke" });
});

test("a pod the watch saw deleted is revoked without asking the API server for it", async ({ f }) => {
  const { ref, record } = await issuedPod(f, "web-9");
  f.kube.deletePod(NAMESPACE, "web-9");
  const podReads: string[] = [];
  const readPod = f.kube.readPod.bind(f.kube);
  f.kube.readPod = async (namespace, name) => {
    podReads.push(`${namespace}/${name}`);
    return readPod(namespace, name);
  };
  const watched = { cachedPod: () => undefined, seenDeleted: (uid: string) => uid === ref.uid };
  const outcome = await runProcessor<RevokeOutcome>(createRevokeProcessor({ ...f.deps, podCache: watched }), "revoke", {
    ...ref,
    source: "watch",
    reason: "pod deleted",
  });
  assert.equal(outcome, { outcome: "revoked", leases: 1, tokenRevoked: true, secretDeleted: true });
  assert.not.ok(f.vault.tokenLive(record.accessor));
  assert.equal(podReads, [], "no pod GET");
  // Without that knowledge the revoke asks (the pod may live under a stale event).
  const other = await issuedPod(f, "web-10");
  f.kube.deletePod(NAMESPACE, "web-10");
  podReads.length = 0; // the issue above read its pod
  await revoke(f, other.ref);
  assert.equal(podReads, [`${NAMESPACE}/web-10`]);
});

test("what a rotation left retiring (old token, old lease) is revoked with the pod", async ({ f }) => {
  const { ref } = await issuedPod(f, "web-2");
  await runProcessor(createRenewProcessor(f.deps), "renew", { ...ref, force: true }, `renew-${ref.uid}-1700000000000`);
  assert.is(f.vault.liveLeases().length, 2, "old and new lease live during the grace");
  f.kube.deletePod(NAMESPACE, "web-2");
  assert.equal(await revoke(f, ref), { outcome: "revoked", leases: 2, tokenRevoked: true, secretDeleted: true });
  assert.equal(f.vault.liveLeases(), []);
  assert.not.ok(f.vault.tokens.some((t) => f.vault.tokenLive(t.accessor)));
});

test("a live pod is left alone; forced by on-call it is revoked and tombstoned, so issue does not bring it back", async ({
  f,
}) => {
  const { ref } = await issuedPod(f, "web-3");
  assert.equal(await revoke(f, ref), { outcome: "pod-alive" });
  assert.is(f.vault.liveLeases().length, 1);
  assert.is((await revoke(f, ref, { source: "api", reason: "INC-42", force: true })).outcome, "revoked");
  assert.equal(f.vault.liveLeases(), []);
  assert.is((await f.deps.index.revokedMark(ref.uid))?.reason, "INC-42");
  const again = await runProcessor(createIssueProcessor(f.deps), "issue", { ...ref, source: "reconciler" });
  assert.equal(again, { outcome: "revoked-by-operator" });
  assert.equal(f.vault.liveLeases(), []);
});

test("index lost: the Secret leads to the pod token, trusted only when Vault says it is this namespace's", async ({
  f,
}) => {
  const { ref, record } = await issuedPod(f, "web-4");
  // A token of another namespace, named in this pod's Secret by someone who may edit Secrets here.
  f.vault.roles.set("app", { ...ROLE, serviceAccounts: [...ROLE.serviceAccounts, "other/app"] });
  const stranger = f.kube.addPod({
    metadata: { name: "x", namespace: "other" },
    spec: { serviceAccountName: "app", containers: [] },
  });
  const jwt = await f.kube.requestPodToken({
    namespace: "other",
    serviceAccount: "app",
    podName: "x",
    podUid: refOf(stranger).uid,
    audience: "vault",
    expirationSeconds: 600,
  });
  const foreign = await f.vault.kubernetesLogin("kubernetes", "app", jwt);
  const secret = await f.kube.readSecret(NAMESPACE, "web-4-leasekeeper");
  const retiring = JSON.stringify([{ kind: "accessor", id: foreign.accessor, revokeAt: 0 }]);
  await f.kube.replaceSecret(NAMESPACE, "web-4-leasekeeper", {
    ...secret,
    metadata: {
      ...secret?.metadata,
      annotations: { ...secret?.metadata?.annotations, "leasekeeper.io/retiring": retiring },
    },
  });
  assert.is(secret?.metadata?.annotations?.[ANNOTATION_ACCESSOR], record.accessor);

  await f.deps.index.delete(ref.uid);
  f.kube.deletePod(NAMESPACE, "web-4");
  assert.is((await revoke(f, ref)).outcome, "revoked");
  assert.not.ok(f.vault.tokenLive(record.accessor), "the pod's token (and so its lease) is revoked");
  assert.equal(f.vault.liveLeases(), []);
  assert.ok(f.vault.tokenLive(foreign.accessor), "another namespace's token is not revoked on a Secret's word");
  assert.is(await f.kube.readSecret(NAMESPACE, "web-4-leasekeeper"), undefined);
});

test("a job name the revoke queue does not know fails for good", async ({ f }) => {
  const err = await rejection(runProcessor(createRevokeProcessor(f.deps), "rotate", { uid: "u" }));
  assert.is(err.name, "UnrecoverableError");
  assert.match(err.message, "unknown revoke job name: rotate");
});

test.run();
