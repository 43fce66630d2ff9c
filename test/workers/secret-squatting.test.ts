/**
 * A user who can create pods must not be able to claim another pod's Secret name, and an existing
 * Secret that is not the pod's own (ownerReference to its UID) is never adopted: issue refuses it.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { V1Secret } from "@kubernetes/client-node";
import { createIssueProcessor } from "../../workers/issue.ts";
import { fakeJob, fakeWorld, optedPod, type FakeWorld } from "../fakes/world/worker-deps.ts";

async function issue(world: FakeWorld, pod: ReturnType<typeof optedPod>) {
  const stored = world.kube.putPod(pod);
  const ref = { uid: stored.metadata?.uid ?? "", namespace: pod.metadata.namespace, name: pod.metadata.name };
  try {
    return { ref, outcome: await createIssueProcessor(world.deps)(fakeJob({ ...ref, source: "watch" })) };
  } catch (err) {
    return { ref, error: err as Error };
  }
}
const failedEvent = (world: FakeWorld, name: string) =>
  world.kube.events.find((e) => e.pod.name === name && e.event.reason === "IssueFailed")?.event.message;

test("a pod naming another pod's default Secret is refused with a clear IssueFailed; the other pod issues normally", async () => {
  const world = fakeWorld();
  const squat = await issue(world, optedPod("evil", "apps", { "leasekeeper.io/secret-name": "web-leasekeeper" }));
  assert.is(
    squat.error?.name,
    "DelayedError",
    "the squatter's issue fails (and waits on a backoff until its pod changes)",
  );
  assert.match(
    failedEvent(world, "evil") ?? "",
    /^InvalidAnnotations: annotation leasekeeper\.io\/secret-name: "web-leasekeeper" is another pod's default Secret name/,
  );
  assert.is(world.kube.secrets.size, 0, "nothing was created under the victim's name");
  for (const name of ["web-creds", "web-lk-0123456789"]) {
    const other = await issue(world, optedPod(`evil-${name.length}`, "apps", { "leasekeeper.io/secret-name": name }));
    assert.ok(other.error, name);
  }
  const victim = await issue(world, optedPod("web", "apps"));
  assert.is((victim.outcome as { outcome: string }).outcome, "issued");
  assert.ok(world.kube.secrets.has("apps/web-leasekeeper"));
});

test("an existing Secret of that name not owned by the pod is refused, never adopted or overwritten", async () => {
  const world = fakeWorld();
  const theirs = world.vault.mint("apps");
  const pod = world.kube.putPod(optedPod("web", "apps"));
  const uid = pod.metadata?.uid ?? "";
  const cases: Array<[string, V1Secret["metadata"]]> = [
    [
      "labelled with the pod's UID, no ownerReference",
      { labels: { "leasekeeper.io/managed": "true", "leasekeeper.io/pod-uid": uid } },
    ],
    [
      "owned by another pod",
      {
        labels: { "leasekeeper.io/managed": "true", "leasekeeper.io/pod-uid": "someone" },
        ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "evil", uid: "someone" }],
      },
    ],
  ];
  for (const [why, metadata] of cases) {
    const squatted: V1Secret = {
      metadata: {
        name: "web-leasekeeper",
        namespace: "apps",
        ...metadata,
        annotations: { "leasekeeper.io/token-accessor": theirs.accessor },
      },
      data: { "creds.json": Buffer.from('{"username":"attacker"}').toString("base64") },
    };
    world.kube.putSecret(squatted);
    world.kube.events.length = 0;
    const { error } = await issue(world, optedPod("web", "apps"));
    assert.ok(error, why);
    assert.match(
      failedEvent(world, "web") ?? "",
      /^SecretNameTaken: Secret apps\/web-leasekeeper already exists and is not owned by this pod/,
      why,
    );
    const after = world.kube.secrets.get("apps/web-leasekeeper");
    assert.equal(after?.data, squatted.data, `${why}: content untouched`);
    assert.not.ok(theirs.revoked, `${why}: nothing it names was revoked`);
    assert.is(await world.index.get(uid), undefined, `${why}: no record left behind`);
  }
});

test.run();
