/** Contract: watch streams, deletion lifecycle, 410 handling, informers and garbage collection. */
import * as assert from "node:assert/strict";
import { suite } from "uvu";
import {
  CoreV1Api,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type KubernetesObject,
  type V1Pod,
} from "@kubernetes/client-node";
import { startKubernetesEmulator, type KubernetesEmulator } from "../emulators/kubernetes/index.ts";
import { eventually, kubeConfigFor, podManifest, sleep } from "../emulators/kubernetes/testing.ts";

const test = suite("kubernetes emulator: watch, deletion, GC");
let emu: KubernetesEmulator;
let core: CoreV1Api;
let watch: Watch;
const ns = "default";

interface Seen {
  type: string;
  name: string;
  rv: string;
  obj: KubernetesObject & {
    code?: number;
    reason?: string;
    metadata?: {
      deletionTimestamp?: string;
      deletionGracePeriodSeconds?: number;
      annotations?: Record<string, string>;
    };
  };
}

async function startWatch(
  path: string,
  query: Record<string, string | number | boolean | undefined>,
): Promise<{ events: Seen[]; ended: Promise<unknown>; stop: () => void }> {
  const events: Seen[] = [];
  let resolveEnd: (v: unknown) => void = () => undefined;
  const ended = new Promise((r) => {
    resolveEnd = r;
  });
  const ctrl = await watch.watch(
    path,
    query,
    (type, obj: Seen["obj"]) => {
      events.push({ type, name: obj.metadata?.name ?? "", rv: obj.metadata?.resourceVersion ?? "", obj });
    },
    (err) => resolveEnd(err ?? "clean"),
  );
  return { events, ended, stop: () => ctrl.abort() };
}

test.before(async () => {
  emu = await startKubernetesEmulator({ podGraceSeconds: 1, gcDelayMs: 50 });
  const kc = kubeConfigFor(emu);
  core = kc.makeApiClient(CoreV1Api);
  watch = new Watch(kc);
});
test.after(async () => {
  await emu.close();
});

test("watch from a list RV: events in order, one global RV, MODIFIED then DELETED on graceful delete", async () => {
  const list = await core.listNamespacedPod({ namespace: ns });
  const w = await startWatch("/api/v1/namespaces/default/pods", {
    resourceVersion: list.metadata?.resourceVersion,
    fieldSelector: "metadata.name=w1",
  });
  await core.createNamespacedPod({ namespace: ns, body: podManifest("w1") });
  await eventually(() => w.events.some((e) => (e.obj as V1Pod).status?.phase === "Running"), 3000, "Running event");
  await core.deleteNamespacedPod({ name: "w1", namespace: ns });
  await eventually(() => w.events.some((e) => e.type === "DELETED"), 4000, "DELETED");
  w.stop();
  const types = w.events.map((e) => e.type);
  assert.equal(types[0], "ADDED");
  const del = types.indexOf("DELETED");
  assert.equal(types[del - 1], "MODIFIED");
  const marked = w.events[del - 1]?.obj;
  assert.ok(marked?.metadata?.deletionTimestamp);
  assert.equal(marked?.metadata?.deletionGracePeriodSeconds, 1);
  const rvs = w.events.map((e) => Number(e.rv));
  assert.deepEqual(
    [...rvs].sort((a, b) => a - b),
    rvs,
    "RVs increase",
  );
  assert.ok(rvs[del]! > rvs[del - 1]!, "DELETED carries the deletion RV");
  assert.equal(w.events[del]?.obj.kind, "Pod");
});

test("grace 0 delete: MODIFIED with deletionGracePeriodSeconds 0 then DELETED; forceDeletePod: only DELETED", async () => {
  await core.createNamespacedPod({ namespace: ns, body: podManifest("g0", { nodeName: "n" }) });
  await core.createNamespacedPod({ namespace: ns, body: podManifest("g1", { nodeName: "n" }) });
  const rv = emu.control.currentResourceVersion();
  const w = await startWatch("/api/v1/namespaces/default/pods", { resourceVersion: rv, labelSelector: "" });
  const deleted = await core.deleteNamespacedPod({ name: "g0", namespace: ns, gracePeriodSeconds: 0 });
  assert.equal(deleted.metadata?.name, "g0");
  assert.ok(emu.control.forceDeletePod(ns, "g1"));
  await eventually(() => w.events.filter((e) => e.type === "DELETED").length === 2, 2000, "two DELETED");
  w.stop();
  const g0 = w.events.filter((e) => e.name === "g0").map((e) => e.type);
  const g1 = w.events.filter((e) => e.name === "g1").map((e) => e.type);
  assert.deepEqual(g0.slice(-2), ["MODIFIED", "DELETED"]);
  assert.equal(
    w.events.find((e) => e.name === "g0" && e.type === "MODIFIED")?.obj.metadata?.deletionGracePeriodSeconds,
    0,
  );
  assert.deepEqual(g1.slice(-1), ["DELETED"]);
  assert.ok(
    !w.events.some((e) => e.name === "g1" && e.obj.metadata?.deletionTimestamp !== undefined && e.type === "MODIFIED"),
  );
});

test("watch without RV sends synthetic ADDEDs; filtered watch sends DELETED when an object stops matching", async () => {
  await core.createNamespacedPod({
    namespace: ns,
    body: podManifest("f1", { labels: { keep: "yes" }, nodeName: "n" }),
  });
  const w = await startWatch("/api/v1/pods", { labelSelector: "keep=yes" });
  await eventually(() => w.events.some((e) => e.name === "f1" && e.type === "ADDED"), 2000, "initial ADDED");
  await core.patchNamespacedPod({
    name: "f1",
    namespace: ns,
    body: [{ op: "replace", path: "/metadata/labels/keep", value: "no" }],
  });
  await eventually(
    () => w.events.some((e) => e.name === "f1" && e.type === "DELETED"),
    2000,
    "DELETED on leaving the selector",
  );
  const gone = w.events.find((e) => e.type === "DELETED");
  assert.equal(
    (gone?.obj.metadata as { labels?: Record<string, string> })?.labels?.keep,
    "yes",
    "carries the previous, matching state",
  );
  await core.patchNamespacedPod({
    name: "f1",
    namespace: ns,
    body: [{ op: "replace", path: "/metadata/labels/keep", value: "yes" }],
  });
  await eventually(
    () => w.events.filter((e) => e.name === "f1" && e.type === "ADDED").length === 2,
    2000,
    "ADDED on entering",
  );
  w.stop();
  await core.deleteNamespacedPod({ name: "f1", namespace: ns, gracePeriodSeconds: 0 });
});

test("timeoutSeconds ends the stream cleanly; bookmarks only when allowed; sendInitialEvents end bookmark", async () => {
  const started = Date.now();
  const w = await startWatch("/api/v1/namespaces/default/secrets", {
    timeoutSeconds: 1,
    allowWatchBookmarks: true,
    resourceVersion: emu.control.currentResourceVersion(),
  });
  emu.control.sendBookmarks();
  assert.equal(await w.ended, "clean");
  assert.ok(Date.now() - started >= 900 && Date.now() - started < 3000);
  assert.equal(w.events[0]?.type, "BOOKMARK");
  assert.equal(w.events[0]?.obj.kind, "Secret");
  const noBm = await startWatch("/api/v1/namespaces/default/secrets", {
    timeoutSeconds: 1,
    resourceVersion: emu.control.currentResourceVersion(),
  });
  emu.control.sendBookmarks();
  await noBm.ended;
  assert.equal(noBm.events.length, 0);
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "init-1" } } });
  const init = await startWatch("/api/v1/namespaces/default/secrets", {
    sendInitialEvents: true,
    resourceVersionMatch: "NotOlderThan",
    allowWatchBookmarks: true,
    timeoutSeconds: 1,
  });
  await init.ended;
  const last = init.events[init.events.length - 1];
  assert.equal(last?.type, "BOOKMARK");
  assert.equal(last?.obj.metadata?.annotations?.["k8s.io/initial-events-end"], "true");
  assert.ok(init.events.some((e) => e.type === "ADDED" && e.name === "init-1"));
  await core.deleteNamespacedSecret({ name: "init-1", namespace: ns });
});

test("too-old RV after compact → ERROR 410 Expired event, then the stream closes", async () => {
  const old = emu.control.currentResourceVersion();
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "c1" } } });
  emu.control.compact();
  const w = await startWatch("/api/v1/namespaces/default/secrets", { resourceVersion: old });
  assert.equal(await w.ended, "clean");
  assert.equal(w.events.length, 1);
  assert.equal(w.events[0]?.type, "ERROR");
  assert.equal(w.events[0]?.obj.code, 410);
  assert.equal(w.events[0]?.obj.reason, "Expired");
  assert.match(String((w.events[0]?.obj as { message?: string }).message), /^too old resource version: \d+ \(\d+\)$/);
  await core.deleteNamespacedSecret({ name: "c1", namespace: ns });
});

test("informer: re-lists after 410, resumes after dropWatches", async () => {
  const informer = makeInformer(kubeConfigFor(emu), "/api/v1/namespaces/default/configmaps", () =>
    core.listNamespacedConfigMap({ namespace: ns }),
  );
  const adds: string[] = [];
  const deletes: string[] = [];
  let errors = 0;
  let stopped = false;
  informer.on("add", (o) => adds.push(o.metadata?.name ?? ""));
  informer.on("delete", (o) => deletes.push(o.metadata?.name ?? ""));
  informer.on("error", () => {
    errors++;
    if (!stopped) setTimeout(() => void (stopped ? undefined : informer.start()), 20);
  });
  try {
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "i1" } } });
    await informer.start();
    await eventually(() => adds.includes("i1"), 2000, "initial add");
    // Abrupt drop: the 1.4 client reports an error; restarting resumes from its RV and catches up.
    emu.control.dropWatches();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "i2" } } });
    await eventually(() => adds.includes("i2"), 3000, "add after drop");
    assert.ok(errors >= 1);
    // Clean drop + compaction while requests are held: the reconnect gets 410 and the informer re-lists.
    emu.control.pause();
    emu.control.dropWatches({ clean: true });
    emu.control.remove("configmaps", ns, "i1");
    emu.control.put("configmaps", { metadata: { name: "i3", namespace: ns } });
    emu.control.compact();
    emu.control.resume();
    await eventually(() => adds.includes("i3") && deletes.includes("i1"), 3000, "relist after 410");
    assert.deepEqual(
      informer
        .list(ns)
        .map((o) => o.metadata?.name)
        .sort(),
      ["i2", "i3"],
    );
    const relists = emu.control.requests.filter(
      (r) => r.path.startsWith("/api/v1/namespaces/default/configmaps") && !r.path.includes("watch="),
    ).length;
    assert.ok(relists >= 2, "listFn called again");
  } finally {
    stopped = true;
    await informer.stop();
  }
  for (const n of ["i2", "i3"]) await core.deleteNamespacedConfigMap({ name: n, namespace: ns });
});

test("owned Secret is garbage-collected (with a DELETED event) after its owner pod is gone", async () => {
  const pod = await core.createNamespacedPod({ namespace: ns, body: podManifest("owner", { nodeName: "n" }) });
  const ownerRef = {
    apiVersion: "v1",
    kind: "Pod",
    name: "owner",
    uid: pod.metadata?.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: "owned", ownerReferences: [ownerRef] }, stringData: { a: "b" } },
  });
  const w = await startWatch("/api/v1/namespaces/default/secrets", {
    resourceVersion: emu.control.currentResourceVersion(),
  });
  await sleep(150);
  assert.ok(await core.readNamespacedSecret({ name: "owned", namespace: ns }), "survives while the owner exists");
  await core.deleteNamespacedPod({ name: "owner", namespace: ns });
  await sleep(300);
  assert.ok(
    await core.readNamespacedSecret({ name: "owned", namespace: ns }),
    "not collected during the pod's grace period",
  );
  await eventually(() => w.events.some((e) => e.type === "DELETED" && e.name === "owned"), 4000, "GC DELETED");
  w.stop();
  const twoControllers = await core
    .createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "bad-owners", ownerReferences: [ownerRef, { ...ownerRef, uid: "other" }] } },
    })
    .catch((e: { code: number }) => e.code);
  assert.equal(twoControllers, 422);
});

test("a finalizer holds a garbage-collected Secret (deletionTimestamp, listed, MODIFIED) until a patch removes it", async () => {
  const pod = await core.createNamespacedPod({ namespace: ns, body: podManifest("holder", { nodeName: "n" }) });
  const ownerRef = { apiVersion: "v1", kind: "Pod", name: "holder", uid: pod.metadata?.uid ?? "" };
  await core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: "held", ownerReferences: [ownerRef], finalizers: ["example.com/revoke"] },
      stringData: { a: "b" },
    },
  });
  const w = await startWatch("/api/v1/namespaces/default/secrets", {
    resourceVersion: emu.control.currentResourceVersion(),
  });
  await core.deleteNamespacedPod({ name: "holder", namespace: ns, gracePeriodSeconds: 0 });
  await eventually(
    () => w.events.some((e) => e.type === "MODIFIED" && e.name === "held" && e.obj.metadata?.deletionTimestamp),
    4000,
    "GC marks the Secret",
  );
  await sleep(300);
  const held = await core.readNamespacedSecret({ name: "held", namespace: ns });
  assert.ok(held.metadata?.deletionTimestamp, "kept, marked for deletion");
  const listed = await core.listNamespacedSecret({ namespace: ns });
  assert.ok(listed.items.some((x) => x.metadata?.name === "held" && x.metadata.deletionTimestamp));
  assert.ok(!w.events.some((e) => e.type === "DELETED" && e.name === "held"));
  const added = await core
    .patchNamespacedSecret(
      { name: "held", namespace: ns, body: [{ op: "add", path: "/metadata/finalizers/-", value: "x.io/new" }] },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    )
    .catch((e: { code: number }) => e.code);
  assert.equal(added, 422, "no new finalizer on an object being deleted");
  await core.patchNamespacedSecret(
    {
      name: "held",
      namespace: ns,
      body: [
        { op: "test", path: "/metadata/finalizers/0", value: "example.com/revoke" },
        { op: "remove", path: "/metadata/finalizers/0" },
      ],
    },
    setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
  );
  await eventually(() => w.events.some((e) => e.type === "DELETED" && e.name === "held"), 2000, "DELETED");
  w.stop();
  const gone = await core.readNamespacedSecret({ name: "held", namespace: ns }).catch((e: { code: number }) => e.code);
  assert.equal(gone, 404);
});

test.run();
