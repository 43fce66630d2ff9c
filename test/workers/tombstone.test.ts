/**
 * An on-call revoke of a live pod leaves a tombstone: nothing re-issues, renews or rebuilds that
 * pod's credentials until the API server shows the pod (by UID) gone. Event payloads and Secrets
 * that merely name the UID cannot clear it.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { V1Secret } from "@kubernetes/client-node";
import type { IssueOutcome, RenewOutcome, RevokeOutcome } from "../../shared/jobs/job-types.ts";
import { createIssueProcessor } from "../../workers/issue.ts";
import { createReconciler } from "../../workers/reconciler.ts";
import { createRenewProcessor } from "../../workers/renew.ts";
import { createRevokeProcessor } from "../../workers/revoke.ts";
import { fakeJob, fakeWorld, optedPod, type FakeWorld } from "../fakes/world/worker-deps.ts";

async function issued(world: FakeWorld, name = "web", namespace = "apps") {
  const pod = world.kube.putPod(optedPod(name, namespace));
  const ref = { uid: pod.metadata?.uid ?? "", namespace, name };
  const out = (await createIssueProcessor(world.deps)(fakeJob({ ...ref, source: "watch" }))) as IssueOutcome;
  assert.is(out.outcome, "issued");
  return ref;
}
const revoke = (world: FakeWorld, data: Record<string, unknown>) =>
  createRevokeProcessor(world.deps)(
    fakeJob({ source: "cloudevent", reason: "pod deleted", ...data }, { name: "revoke" }),
  ) as Promise<RevokeOutcome>;
const issue = (world: FakeWorld, ref: { uid: string; namespace: string; name: string }) =>
  createIssueProcessor(world.deps)(fakeJob({ ...ref, source: "reconciler" })) as Promise<IssueOutcome>;

async function onCallRevoked(world: FakeWorld) {
  const ref = await issued(world);
  assert.is((await revoke(world, { ...ref, source: "api", reason: "on-call", force: true })).outcome, "revoked");
  assert.ok(world.index.marks.has(ref.uid), "tombstone written");
  return ref;
}

test("a forged DELETED (the victim's UID, a name that does not exist) neither clears the tombstone nor lets issue run again", async () => {
  const world = fakeWorld();
  const ref = await onCallRevoked(world);
  await revoke(world, { uid: ref.uid, namespace: ref.namespace, name: "ghost" });
  await revoke(world, { uid: ref.uid, namespace: "elsewhere", name: "ghost" });
  assert.ok(world.index.marks.has(ref.uid), "tombstone kept");
  assert.is((await issue(world, ref)).outcome, "revoked-by-operator");
  assert.is(world.vault.count("login"), 1, "no second login");
  // The pod really goes (the API server no longer has that UID): the tombstone has done its job.
  world.kube.pods.delete(`${ref.namespace}/${ref.name}`);
  await revoke(world, { uid: ref.uid, namespace: ref.namespace, name: ref.name });
  assert.not.ok(world.index.marks.has(ref.uid));
});

test("a DELETED naming a live pod's UID under another name revokes nothing", async () => {
  const world = fakeWorld();
  const ref = await issued(world);
  assert.is((await revoke(world, { uid: ref.uid, namespace: ref.namespace, name: "ghost" })).outcome, "pod-alive");
  assert.is(world.vault.count("revoke-"), 0);
  assert.ok(await world.index.get(ref.uid));
});

test("renewal checks the tombstone: no renewal or re-login, the pod's credentials are queued for revocation", async () => {
  const world = fakeWorld();
  const ref = await issued(world);
  const record = await world.index.get(ref.uid);
  // However a record came back (a rebuild, a race), the tombstone wins.
  await world.index.markRevoked(ref.uid, {
    at: Date.now(),
    source: "api",
    reason: "on-call",
    namespace: ref.namespace,
    name: ref.name,
  });
  const before = world.vault.calls.length;
  const out = (await createRenewProcessor(world.deps)(
    fakeJob({ ...ref, force: false }, { id: record?.renewJobId }),
  )) as RenewOutcome;
  assert.is(out.outcome, "revoked-by-operator");
  assert.equal(world.vault.calls.slice(before), [], "nothing renewed, no login");
  assert.ok(
    world.jobs.some(
      ([kind, data]) =>
        kind === "revoke" &&
        (data as { force?: boolean; uid: string }).force === true &&
        (data as { uid: string }).uid === ref.uid,
    ),
  );
});

test("the reconciler rebuilds nothing for a tombstoned pod, whatever Secret names its UID", async () => {
  const world = fakeWorld();
  const ref = await onCallRevoked(world);
  const attacker = world.vault.mint("evil");
  const forged = (namespace: string): V1Secret => ({
    metadata: {
      name: "x",
      namespace,
      labels: { "leasekeeper.io/managed": "true", "leasekeeper.io/pod-uid": ref.uid },
      annotations: {
        "leasekeeper.io/token-accessor": namespace === "evil" ? attacker.accessor : world.vault.mint("apps").accessor,
      },
      ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: ref.name, uid: ref.uid }],
    },
  });
  world.kube.putSecret(forged("evil")); // another namespace
  world.kube.putSecret(forged("apps")); // the pod's namespace, but the pod is tombstoned
  const logins = world.vault.count("login");
  await createReconciler(world.deps)();
  assert.is(await world.index.get(ref.uid), undefined, "no record rebuilt");
  const renewsAfter = world.jobs.filter(([kind]) => kind === "renew").length;
  // The original issue's renewal waited as a timer written with its record, dropped by the revoke.
  assert.is(renewsAfter, 0, "no renew job was ever queued for the tombstoned pod");
  assert.is(world.index.timers.size, 0, "nor does a renewal timer wait for it");
  for (const [kind, data] of world.jobs.filter(([k]) => k === "issue")) {
    assert.is((await issue(world, data as typeof ref)).outcome, "revoked-by-operator", kind);
  }
  assert.is(world.vault.count("login"), logins);
});

test.run();
