/** The pod cache keeps only what leasekeeper reads: every reader answers the same for a trimmed pod. */
import * as assert from "node:assert/strict";
import { suite } from "uvu";
import { CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { trimPod } from "../../../functions/watch/pod-cache.ts";
import { PodWatcher } from "../../../functions/watch/pod-watcher.ts";
import { podServiceAccount } from "../../../shared/kube/pod-secret.ts";
import { createLogger } from "../../../shared/observability/log.ts";
import { createMetrics } from "../../../shared/observability/metrics.ts";
import type { PodEventRouter, PodEventType } from "../../../shared/pods/pod-events.ts";
import { isTerminal, podRef } from "../../../shared/pods/pod-state.ts";
import { readPodContract, wantsCredentials } from "../../../shared/pods/read-contract.ts";
import { startKubernetesEmulator, type KubernetesEmulator } from "../../emulators/kubernetes/index.ts";
import { eventually, kubeConfigFor, podManifest } from "../../emulators/kubernetes/testing.ts";

const test = suite("pod cache transform");
let emu: KubernetesEmulator;
let core: CoreV1Api;
/** A live owner, so the garbage collector leaves the test pods alone. */
let ownerUid = "";
const ns = "default";
const own = { defaultAuthPath: "kubernetes", vaultAnnotations: false, staticSecretRenderIntervalSeconds: 300 };
const injector = { ...own, vaultAnnotations: true };

/** Everything leasekeeper derives from a watched or cached pod. */
const reading = (pod: V1Pod) => ({
  ref: podRef(pod),
  terminal: isTerminal(pod),
  terminating: pod.metadata?.deletionTimestamp !== undefined,
  wants: [wantsCredentials(pod, own), wantsCredentials(pod, injector)],
  contract: [readPodContract(pod, own), readPodContract(pod, injector)],
  serviceAccount: podServiceAccount(pod),
  labels: pod.metadata?.labels,
  owners: pod.metadata?.ownerReferences,
  resourceVersion: pod.metadata?.resourceVersion,
  created: pod.metadata?.creationTimestamp?.getTime(),
});

function manifest(name: string): V1Pod {
  const pod = podManifest(name, { labels: { app: "web" }, serviceAccountName: "default" });
  pod.metadata = {
    ...pod.metadata,
    annotations: {
      "leasekeeper.io/role": "web",
      "leasekeeper.io/secret-creds.json": "database/creds/web",
      "vault.hashicorp.com/agent-inject": "true",
      "vault.hashicorp.com/role": "web",
      "vault.hashicorp.com/agent-inject-secret-db": "database/creds/web",
    },
    ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: ownerUid, controller: true }],
  };
  return pod;
}

test.before(async () => {
  emu = await startKubernetesEmulator({ podGraceSeconds: 30 });
  core = kubeConfigFor(emu).makeApiClient(CoreV1Api);
  const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "owner" } } });
  ownerUid = owner.metadata?.uid ?? "";
});
test.after(async () => {
  await emu.close();
});

test("trimPod keeps every field the readers use and drops spec, status and managedFields", async () => {
  await core.createNamespacedPod({ namespace: ns, body: manifest("trim-a") });
  emu.control.setPodPhase(ns, "trim-a", "Running");
  const full = await core.readNamespacedPod({ namespace: ns, name: "trim-a" });
  assert.ok(full.spec?.containers.length && full.status?.containerStatuses?.length, "a full pod to start from");
  // As a real API server sends it (server-side apply bookkeeping on every object).
  full.metadata = {
    ...full.metadata,
    managedFields: [
      { manager: "kubectl", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: {} },
    ],
  };
  const trimmed = trimPod(full);
  assert.deepEqual(reading(trimmed), reading(full));
  assert.equal(reading(trimmed).contract[0]?.kind, "request");
  assert.deepEqual(trimmed.spec, { serviceAccountName: "default", containers: [] });
  assert.deepEqual(trimmed.status, { phase: "Running" });
  assert.equal(trimmed.metadata?.managedFields, undefined);
  assert.ok(JSON.stringify(trimmed).length < JSON.stringify(full).length / 2);
  // Terminal and terminating pods read the same, too.
  for (const phase of ["Succeeded", "Failed"] as const) {
    const done: V1Pod = { ...full, status: { ...full.status, phase } };
    assert.deepEqual(reading(trimPod(done)), reading(done));
  }
  const deleting: V1Pod = { ...full, metadata: { ...full.metadata, deletionTimestamp: new Date() } };
  assert.deepEqual(reading(trimPod(deleting)), reading(deleting));
});

test("the watcher's cache and the events it routes hold trimmed pods (listed and watched)", async () => {
  const seen: { type: PodEventType; pod: V1Pod }[] = [];
  const router = {
    route: async (type: PodEventType, pod: V1Pod) => {
      seen.push({ type, pod });
      return { action: "ignored", why: "not-opted-in" } as const;
    },
  } as unknown as PodEventRouter;
  const watcher = new PodWatcher(kubeConfigFor(emu), router, createLogger("silent"), createMetrics(), {
    namespaces: [ns],
    stallMs: 0,
  });
  await watcher.start();
  try {
    await eventually(() => watcher.synced);
    const listed = watcher.cachedPods()?.find((p) => p.metadata?.name === "trim-a");
    // List items carry no apiVersion/kind (the list does); the rest is the trimmed pod.
    const {
      apiVersion: _v,
      kind: _k,
      ...expected
    } = trimPod(await core.readNamespacedPod({ namespace: ns, name: "trim-a" }));
    assert.deepEqual(listed, expected);
    await core.createNamespacedPod({ namespace: ns, body: manifest("trim-b") });
    emu.control.setPodPhase(ns, "trim-a", "Succeeded");
    await core.deleteNamespacedPod({ namespace: ns, name: "trim-b" });
    const ended = await eventually(() =>
      seen.find((e) => e.pod.metadata?.name === "trim-a" && e.pod.status?.phase === "Succeeded"),
    );
    assert.ok(isTerminal(ended.pod));
    const terminating = await eventually(() =>
      seen.find((e) => e.pod.metadata?.name === "trim-b" && e.pod.metadata?.deletionTimestamp !== undefined),
    );
    for (const { pod } of seen) {
      assert.equal(pod.metadata?.managedFields, undefined);
      assert.deepEqual(pod.spec?.containers ?? [], []);
    }
    assert.ok(terminating.pod.metadata?.resourceVersion);
    const cached = watcher.cachedPods() ?? [];
    assert.ok(cached.every((p) => Object.keys(p.status ?? {}).every((k) => k === "phase")));
  } finally {
    await watcher.stop();
  }
});

test.run();
