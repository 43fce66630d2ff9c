/**
 * After a Redis loss the reconciler rebuilds records from the per-pod Secrets. A Secret is only
 * believed for the pod it belongs to (same namespace, ownerReference to the pod's UID), and what
 * its annotations list is bounded, so one forged Secret cannot multiply Vault calls.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import type { V1Secret } from "@kubernetes/client-node";
import type { IssueOutcome } from "../../shared/jobs/job-types.ts";
import { createIssueProcessor } from "../../workers/issue.ts";
import { createReconciler } from "../../workers/reconciler.ts";
import { fakeJob, fakeWorld, optedPod, type FakeWorld } from "../fakes/world/worker-deps.ts";

async function issuedThenIndexLost(world: FakeWorld) {
  const pod = world.kube.putPod(optedPod("web", "apps"));
  const ref = { uid: pod.metadata?.uid ?? "", namespace: "apps", name: "web" };
  assert.is(
    ((await createIssueProcessor(world.deps)(fakeJob({ ...ref, source: "watch" }))) as IssueOutcome).outcome,
    "issued",
  );
  const accessor = (await world.index.get(ref.uid))?.accessor ?? "";
  world.index.records.clear(); // Redis lost
  return { ref, accessor };
}

test("one Secret listing 5,501 retiring accessors costs at most 17 Vault lookups; the extra ids are ignored and not logged", async () => {
  const world = fakeWorld();
  const { ref, accessor } = await issuedThenIndexLost(world);
  const secret = world.kube.secrets.get("apps/web-leasekeeper") as V1Secret;
  // Short ids, so the annotation stays within the API server's 256 KiB for all annotations.
  const forgedIds = [
    ...new Set(Array.from({ length: 6000 }, () => `z${randomBytes(3).toString("hex").slice(0, 5)}`)),
  ].slice(0, 5501);
  const retiring = JSON.stringify(forgedIds.map((id) => ({ kind: "accessor", id, revokeAt: 0 })));
  world.kube.putSecret({
    ...secret,
    metadata: {
      ...secret.metadata,
      annotations: { ...secret.metadata?.annotations, "leasekeeper.io/retiring": retiring },
    },
  });
  const before = world.vault.count("lookup");
  await createReconciler(world.deps)();
  const lookups = world.vault.count("lookup") - before;
  assert.ok(lookups <= 17, `${lookups} lookups for one Secret`);
  const record = await world.index.get(ref.uid);
  assert.is(record?.accessor, accessor, "the pod's own token is still recovered");
  const logs = world.logs.join("");
  assert.match(logs, /"ignored":5485/);
  assert.not.ok(
    forgedIds.slice(16).some((id) => logs.includes(id)),
    "no id in the logs",
  );
});

test("a Secret in another namespace naming a live pod's UID is not used to rebuild that pod's record", async () => {
  const world = fakeWorld();
  const { ref, accessor } = await issuedThenIndexLost(world);
  const theirs = world.vault.mint("evil");
  const forged: V1Secret = {
    metadata: {
      name: "web-leasekeeper",
      namespace: "evil",
      labels: { "leasekeeper.io/managed": "true", "leasekeeper.io/pod-uid": ref.uid },
      annotations: { "leasekeeper.io/token-accessor": theirs.accessor },
      ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "web", uid: ref.uid }],
    },
  };
  world.kube.putSecret(forged);
  // Only the forged one is visible first: nothing is rebuilt from it.
  const own = world.kube.secrets.get("apps/web-leasekeeper") as V1Secret;
  world.kube.secrets.delete("apps/web-leasekeeper");
  await createReconciler(world.deps)();
  assert.is(await world.index.get(ref.uid), undefined, "no record from another namespace's Secret");
  assert.match(world.logs.join(""), /a Secret names a pod it does not belong to/);
  // With the pod's own Secret back, the record is rebuilt from that one only.
  world.kube.putSecret(own);
  await createReconciler(world.deps)();
  const record = await world.index.get(ref.uid);
  assert.is(record?.accessor, accessor);
  assert.not.ok(JSON.stringify(record).includes(theirs.accessor));
});

test.run();
