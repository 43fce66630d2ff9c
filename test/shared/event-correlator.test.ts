/** Events are correlated as client-go's recorder does: duplicates patch a count, similar ones aggregate, spam is dropped. */
import * as assert from "node:assert/strict";
import { suite } from "uvu";
import { CoreV1Api, type CoreV1Event } from "@kubernetes/client-node";
import { EventCorrelator } from "../../shared/kube/event-correlator.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { startKubernetesEmulator, type KubernetesEmulator } from "../emulators/kubernetes/index.ts";
import { kubeConfigFor } from "../emulators/kubernetes/testing.ts";

const test = suite("event correlator");

const event = (name: string, reason: string, message: string): CoreV1Event => ({
  metadata: { generateName: `${name}.`, namespace: "apps" },
  involvedObject: { kind: "Pod", apiVersion: "v1", namespace: "apps", name, uid: `uid-${name}` },
  reason,
  message,
  type: "Normal",
  source: { component: "leasekeeper" },
  count: 1,
});

test("the same event again is a patch of count and lastTimestamp on the recorded one", () => {
  let now = 1_000_000;
  const c = new EventCorrelator(() => now);
  const first = c.correlate(event("web", "CredentialsIssued", "issued 1 file"));
  assert.equal(first.kind, "create");
  if (first.kind !== "create") return;
  c.recorded(first.key, {
    ...first.event,
    metadata: { name: "web.abc", namespace: "apps" },
    firstTimestamp: new Date(now),
  });
  now += 5000;
  const again = c.correlate(event("web", "CredentialsIssued", "issued 1 file"));
  assert.equal(again.kind, "patch");
  if (again.kind !== "patch") return;
  assert.deepEqual([again.name, again.patch.count, again.patch.lastTimestamp.getTime()], ["web.abc", 2, now]);
  // Another pod, or another message, is an event of its own.
  assert.equal(c.correlate(event("api", "CredentialsIssued", "issued 1 file")).kind, "create");
  assert.equal(c.correlate(event("web", "CredentialsIssued", "issued 2 files")).kind, "create");
});

test("10 similar events (message differs) within 10 minutes aggregate into one combined event", () => {
  let now = 0;
  const c = new EventCorrelator(() => now);
  const kinds = [];
  for (let i = 1; i <= 12; i++) {
    now += 1000;
    const next = c.correlate(event("web", "IssueFailed", `attempt ${i}`));
    kinds.push(next.kind === "skip" ? "skip" : next.event.message?.startsWith("(combined") ? "combined" : "plain");
    if (next.kind !== "skip") c.recorded(next.key, { ...next.event, metadata: { name: `e${i}` } });
  }
  assert.deepEqual(kinds, [...Array(9).fill("plain"), "combined", "combined", "combined"]);
  // After the 10th, the combined event is patched (one object, a growing count).
  now += 1000;
  const later = c.correlate(event("web", "IssueFailed", "attempt 13"));
  assert.equal(later.kind, "patch");
  // Ten quiet minutes later messages are plain again.
  now += 601_000;
  const fresh = c.correlate(event("web", "IssueFailed", "attempt 14"));
  assert.ok(fresh.kind === "create" && fresh.event.message === "attempt 14");
});

test("a source may burst 25 events about one object, then 1 per 5 minutes", () => {
  let now = 0;
  const c = new EventCorrelator(() => now);
  const sent = Array.from({ length: 30 }, (_, i) => c.correlate(event("web", `R${i}`, "m")).kind !== "skip");
  assert.equal(sent.filter(Boolean).length, 25);
  assert.equal(c.correlate(event("other", "R", "m")).kind, "create", "another object has its own budget");
  now += 299_000;
  assert.equal(c.correlate(event("web", "R99", "m")).kind, "skip");
  now += 2_000;
  assert.equal(c.correlate(event("web", "R100", "m")).kind, "create");
});

test("through the real client: one Event per distinct occurrence, its count patched on repeats", async () => {
  const emu: KubernetesEmulator = await startKubernetesEmulator({ autoRunPods: false });
  try {
    const kube = createKubeClient(kubeConfigFor(emu));
    const core = kubeConfigFor(emu).makeApiClient(CoreV1Api);
    const pod = { namespace: "default", name: "web", uid: "uid-web" };
    const before = emu.control.requests.length;
    for (let i = 0; i < 3; i++)
      await kube.recordEvent(pod, { reason: "CredentialsRenewed", message: "renewed 1 lease", type: "Warning" });
    await kube.recordEvent(pod, { reason: "CredentialsRotated", message: "rotated creds.json", type: "Normal" });
    const events = (await core.listNamespacedEvent({ namespace: "default" })).items.filter(
      (e) => e.involvedObject.name === "web",
    );
    assert.deepEqual(events.map((e) => [e.reason, e.count]).sort(), [
      ["CredentialsRenewed", 3],
      ["CredentialsRotated", 1],
    ]);
    const calls = emu.control.requests.slice(before).filter((r) => r.path.includes("/events") && r.method !== "GET");
    assert.deepEqual(
      calls.map((r) => [r.method, r.status]),
      [
        ["POST", 201],
        ["PATCH", 200],
        ["PATCH", 200],
        ["POST", 201],
      ],
    );
    // The recorded Event is gone (TTL): the next repeat creates it again.
    const renewed = events.find((e) => e.reason === "CredentialsRenewed");
    await core.deleteNamespacedEvent({ namespace: "default", name: renewed?.metadata?.name ?? "" });
    await kube.recordEvent(pod, { reason: "CredentialsRenewed", message: "renewed 1 lease", type: "Warning" });
    const again = (await core.listNamespacedEvent({ namespace: "default" })).items.filter(
      (e) => e.reason === "CredentialsRenewed",
    );
    assert.deepEqual(
      again.map((e) => e.count),
      [4],
    );
  } finally {
    await emu.close();
  }
});

test.run();
