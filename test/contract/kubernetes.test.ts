/** Contract: core CRUD, selectors, Status bodies, patches, garbage input — real client-node 1.4 vs the emulator. */
import * as assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import {
  CoordinationV1Api,
  CoreV1Api,
  EventsV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
} from "@kubernetes/client-node";
import { startKubernetesEmulator, type KubernetesEmulator } from "../emulators/kubernetes/index.ts";
import { apiError, eventually, kubeConfigFor, podManifest, raw, sleep } from "../emulators/kubernetes/testing.ts";

const test = suite("kubernetes emulator: CRUD and errors");
let emu: KubernetesEmulator;
let core: CoreV1Api;
const ns = "default";

test.before(async () => {
  emu = await startKubernetesEmulator({ podGraceSeconds: 1 });
  core = kubeConfigFor(emu).makeApiClient(CoreV1Api);
});
test.after(async () => {
  await emu.close();
});

test("discovery, version and the default namespaces", async () => {
  const api = await raw(emu, "GET", "/api");
  assert.equal(api.status, 200);
  assert.deepEqual(JSON.parse(api.text).versions, ["v1"]);
  const v1 = JSON.parse((await raw(emu, "GET", "/api/v1")).text);
  const names = v1.resources.map((r: { name: string }) => r.name);
  for (const n of [
    "pods",
    "pods/status",
    "secrets",
    "serviceaccounts",
    "serviceaccounts/token",
    "events",
    "namespaces",
  ])
    assert.ok(names.includes(n), n);
  const groups = JSON.parse((await raw(emu, "GET", "/apis")).text).groups.map((g: { name: string }) => g.name);
  for (const g of [
    "coordination.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "admissionregistration.k8s.io",
    "events.k8s.io",
  ])
    assert.ok(groups.includes(g), g);
  assert.equal(JSON.parse((await raw(emu, "GET", "/version")).text).major, "1");
  const nsList = await core.listNamespace();
  const nsNames = nsList.items.map((n) => n.metadata?.name);
  assert.ok(nsNames.includes("default") && nsNames.includes("kube-system"));
});

test("writeKubeconfig output loads with KubeConfig.loadFromFile (token, namespace, http server)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "k8s-emu-kc-"));
  try {
    await emu.writeKubeconfig(join(dir, "config"), { namespace: "kube-system" });
    const kc = new KubeConfig();
    kc.loadFromFile(join(dir, "config"));
    assert.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, "kube-system");
    assert.equal(kc.getCurrentCluster()?.server, emu.url);
    const sa = await kc
      .makeApiClient(CoreV1Api)
      .readNamespacedServiceAccount({ name: "default", namespace: "kube-system" });
    assert.equal(sa.metadata?.name, "default");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("401 Status without a valid token", async () => {
  const bad = kubeConfigFor(emu, "not-a-token").makeApiClient(CoreV1Api);
  const { code } = await apiError(bad.listNamespacedPod({ namespace: ns }));
  assert.equal(code, 401);
  const none = await fetch(`${emu.url}/api/v1/pods`);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get("content-type"), "application/json");
  assert.equal(((await none.json()) as { reason?: string }).reason, "Unauthorized");
});

test("pod create with generateName runs by itself and gets a podIP", async () => {
  const created = await core.createNamespacedPod({
    namespace: ns,
    body: podManifest("gen-", { labels: { app: "web" } }),
  });
  const name = created.metadata?.name ?? "";
  assert.match(name, /^gen-[a-z0-9]{5}$/);
  assert.equal(created.status?.phase, "Pending");
  assert.ok(created.metadata?.uid);
  assert.match(String(created.metadata?.creationTimestamp?.toISOString()), /\.000Z$/);
  const running = await eventually(
    async () => {
      const p = await core.readNamespacedPod({ name, namespace: ns });
      return p.status?.phase === "Running" ? p : undefined;
    },
    3000,
    "pod Running",
  );
  assert.match(running.status?.podIP ?? "", /^10\.244\./);
  assert.equal(running.spec?.nodeName, "emulator-node");
  await core.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: 0 });
});

test("pod waits in ContainerCreating until its Secret volume exists", async () => {
  await core.createNamespacedPod({
    namespace: ns,
    body: podManifest("vol-pod", { volumes: [{ name: "creds", secret: { secretName: "vol-pod-creds" } }] }),
  });
  await eventually(
    async () =>
      (await core.readNamespacedPod({ name: "vol-pod", namespace: ns })).status?.containerStatuses?.[0]?.state?.waiting
        ?.reason === "ContainerCreating",
    3000,
    "ContainerCreating",
  );
  await sleep(200);
  assert.equal((await core.readNamespacedPod({ name: "vol-pod", namespace: ns })).status?.phase, "Pending");
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: "vol-pod-creds" }, stringData: { a: "b" } },
  });
  await eventually(
    async () => (await core.readNamespacedPod({ name: "vol-pod", namespace: ns })).status?.phase === "Running",
    3000,
    "Running after secret",
  );
  await core.deleteNamespacedPod({ name: "vol-pod", namespace: ns, gracePeriodSeconds: 0 });
  await core.deleteNamespacedSecret({ name: "vol-pod-creds", namespace: ns });
});

test("label and field selectors on list; bad selectors are 400", async () => {
  const mk = (name: string, labels: Record<string, string>) =>
    core.createNamespacedPod({ namespace: ns, body: podManifest(name, { labels }) });
  await mk("sel-a", { tier: "web", env: "prod" });
  await mk("sel-b", { tier: "db", env: "dev" });
  await mk("sel-c", { tier: "web" });
  const names = async (labelSelector?: string, fieldSelector?: string) =>
    (await core.listNamespacedPod({ namespace: ns, labelSelector, fieldSelector })).items
      .map((p) => p.metadata?.name)
      .filter((n) => n?.startsWith("sel-"))
      .sort();
  assert.deepEqual(await names("tier=web"), ["sel-a", "sel-c"]);
  assert.deepEqual(await names("tier==db"), ["sel-b"]);
  assert.deepEqual(await names("tier!=web"), ["sel-b"]);
  assert.deepEqual(await names("env in (prod,dev)"), ["sel-a", "sel-b"]);
  assert.deepEqual(await names("env notin (prod),tier"), ["sel-b", "sel-c"]);
  assert.deepEqual(await names("env"), ["sel-a", "sel-b"]);
  assert.deepEqual(await names("!env"), ["sel-c"]);
  assert.deepEqual(await names(undefined, "metadata.name=sel-b"), ["sel-b"]);
  assert.deepEqual(await names("tier=web", "metadata.name!=sel-a,metadata.namespace=default"), ["sel-c"]);
  assert.deepEqual(await names(undefined, "spec.serviceAccountName=default,status.phase!=Failed"), [
    "sel-a",
    "sel-b",
    "sel-c",
  ]);
  await eventually(
    async () => (await names(undefined, "status.phase=Running,spec.nodeName=emulator-node")).length === 3,
    3000,
    "all running",
  );
  const all = await core.listPodForAllNamespaces({ labelSelector: "tier" });
  assert.ok(all.items.length >= 3);
  assert.ok(all.metadata?.resourceVersion);
  const rawList = JSON.parse((await raw(emu, "GET", "/api/v1/namespaces/default/pods")).text);
  assert.equal(rawList.kind, "PodList");
  assert.equal(rawList.items[0].kind, undefined, "list items carry no kind");
  const badLabel = await apiError(core.listNamespacedPod({ namespace: ns, labelSelector: "tier in (web" }));
  assert.equal(badLabel.code, 400);
  assert.equal(badLabel.status.reason, "BadRequest");
  const badField = await apiError(core.listNamespacedPod({ namespace: ns, fieldSelector: "spec.bogus=1" }));
  assert.equal(badField.code, 400);
  assert.equal(badField.status.message, "field label not supported: spec.bogus");
  const secretField = await core.listNamespacedSecret({ namespace: ns, fieldSelector: "type=Opaque" });
  assert.ok(Array.isArray(secretField.items));
  for (const n of ["sel-a", "sel-b", "sel-c"])
    await core.deleteNamespacedPod({ name: n, namespace: ns, gracePeriodSeconds: 0 });
});

test("paging with limit/continue keeps the list resourceVersion; list option validation is 422", async () => {
  for (let i = 0; i < 5; i++)
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: `page-${i}` }, data: { i: String(i) } },
    });
  const first = await core.listNamespacedConfigMap({ namespace: ns, limit: 2 });
  assert.equal(first.items.length, 2);
  assert.ok(first.metadata?._continue);
  assert.equal(first.metadata?.remainingItemCount, 3);
  const second = await core.listNamespacedConfigMap({ namespace: ns, limit: 2, _continue: first.metadata?._continue });
  assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
  assert.deepEqual(
    second.items.map((c) => c.metadata?.name),
    ["page-2", "page-3"],
  );
  const third = await core.listNamespacedConfigMap({ namespace: ns, limit: 2, _continue: second.metadata?._continue });
  assert.equal(third.items.length, 1);
  assert.equal(third.metadata?._continue, undefined);
  const bad = await apiError(core.listNamespacedConfigMap({ namespace: ns, resourceVersionMatch: "NotOlderThan" }));
  assert.equal(bad.code, 422);
  assert.equal(bad.status.reason, "Invalid");
  assert.match(bad.status.message ?? "", /resourceVersionMatch is forbidden unless resourceVersion is provided/);
  for (let i = 0; i < 5; i++) await core.deleteNamespacedConfigMap({ name: `page-${i}`, namespace: ns });
});

test("pod status only changes through /status", async () => {
  await core.createNamespacedPod({ namespace: ns, body: podManifest("stat", { nodeName: "n1" }) });
  const before = await core.readNamespacedPod({ name: "stat", namespace: ns });
  const ignored = await core.replaceNamespacedPod({
    name: "stat",
    namespace: ns,
    body: { ...before, status: { phase: "Failed" } },
  });
  assert.notEqual(ignored.status?.phase, "Failed");
  const viaStatus = await core.patchNamespacedPodStatus(
    { name: "stat", namespace: ns, body: { status: { phase: "Succeeded", podIP: "10.1.2.3" } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  assert.equal(viaStatus.status?.phase, "Succeeded");
  assert.equal(viaStatus.status?.podIP, "10.1.2.3");
  const got = await core.readNamespacedPod({ name: "stat", namespace: ns });
  const replaced = await core.replaceNamespacedPodStatus({
    name: "stat",
    namespace: ns,
    body: { ...got, spec: { ...got.spec, containers: [] }, status: { ...got.status, phase: "Failed" } },
  });
  assert.equal(replaced.status?.phase, "Failed");
  assert.equal(replaced.spec?.containers.length, 1, "/status ignores spec");
  const changeSpec = await apiError(
    core.replaceNamespacedPod({
      name: "stat",
      namespace: ns,
      body: { ...replaced, spec: { ...replaced.spec, containers: [{ name: "x", image: "y" }] } },
    }),
  );
  assert.equal(changeSpec.code, 422);
  await core.deleteNamespacedPod({ name: "stat", namespace: ns });
  await eventually(
    async () =>
      (await core.listNamespacedPod({ namespace: ns, fieldSelector: "metadata.name=stat" })).items.length === 0,
    3000,
    "terminal pod deleted at once",
  );
});

test("secrets: stringData, Status bodies for 404/409, optimistic concurrency", async () => {
  const created = await core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: "s1" },
      stringData: { user: "alice" },
      data: { pw: Buffer.from("x").toString("base64") },
    },
  });
  assert.equal(created.data?.user, Buffer.from("alice").toString("base64"));
  assert.equal(created.stringData, undefined);
  assert.equal(created.type, "Opaque");
  const dup = await apiError(core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "s1" } } }));
  assert.equal(dup.code, 409);
  assert.deepEqual(dup.status, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: 'secrets "s1" already exists',
    reason: "AlreadyExists",
    details: { name: "s1", kind: "secrets" },
    code: 409,
  });
  const missing = await apiError(core.readNamespacedSecret({ name: "nope", namespace: ns }));
  assert.deepEqual(missing.status, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: 'secrets "nope" not found',
    reason: "NotFound",
    details: { name: "nope", kind: "secrets" },
    code: 404,
  });
  const updated = await core.replaceNamespacedSecret({
    name: "s1",
    namespace: ns,
    body: { ...created, data: { user: Buffer.from("bob").toString("base64") } },
  });
  assert.ok(Number(updated.metadata?.resourceVersion) > Number(created.metadata?.resourceVersion));
  const stale = await apiError(core.replaceNamespacedSecret({ name: "s1", namespace: ns, body: created }));
  assert.equal(stale.code, 409);
  assert.equal(stale.status.reason, "Conflict");
  assert.equal(
    stale.status.message,
    'Operation cannot be fulfilled on secrets "s1": the object has been modified; please apply your changes to the latest version and try again',
  );
  const putMissing = await apiError(
    core.replaceNamespacedSecret({ name: "ghost", namespace: ns, body: { metadata: { name: "ghost" } } }),
  );
  assert.equal(putMissing.code, 404);
  const del = await core.deleteNamespacedSecret({ name: "s1", namespace: ns });
  assert.equal((del as { status?: string }).status, "Success");
  assert.equal((del as { details?: { kind?: string } }).details?.kind, "secrets");
});

test("secrets: merge, strategic and JSON patch; patch errors", async () => {
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: "p1", labels: { a: "1" } }, stringData: { k1: "v1", k2: "v2" } },
  });
  const merged = await core.patchNamespacedSecret(
    { name: "p1", namespace: ns, body: { data: { k1: null }, metadata: { labels: { b: "2" } } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  assert.deepEqual(Object.keys(merged.data ?? {}), ["k2"]);
  assert.deepEqual(merged.metadata?.labels, { a: "1", b: "2" });
  const strategic = await core.patchNamespacedSecret(
    { name: "p1", namespace: ns, body: { stringData: { k3: "v3" } } },
    setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
  );
  assert.equal(Buffer.from(strategic.data?.k3 ?? "", "base64").toString(), "v3");
  const jsonPatched = await core.patchNamespacedSecret({
    name: "p1",
    namespace: ns,
    body: [
      { op: "test", path: "/metadata/resourceVersion", value: strategic.metadata?.resourceVersion },
      { op: "add", path: "/metadata/annotations", value: { "x/y": "z" } },
    ],
  });
  assert.equal(jsonPatched.metadata?.annotations?.["x/y"], "z");
  const failedTest = await apiError(
    core.patchNamespacedSecret({
      name: "p1",
      namespace: ns,
      body: [{ op: "test", path: "/metadata/resourceVersion", value: "1" }],
    }),
  );
  assert.equal(failedTest.code, 422);
  const mergeShapedAsJsonPatch = await apiError(
    core.patchNamespacedSecret({ name: "p1", namespace: ns, body: { data: { k1: null } } }),
  );
  assert.equal(mergeShapedAsJsonPatch.code, 400);
  const staleMerge = await apiError(
    core.patchNamespacedSecret(
      { name: "p1", namespace: ns, body: { metadata: { resourceVersion: "2" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    ),
  );
  assert.equal(staleMerge.code, 409);
  const unsupported = await raw(emu, "PATCH", "/api/v1/namespaces/default/secrets/p1", "{}", {
    "Content-Type": "text/plain",
  });
  assert.equal(unsupported.status, 415);
  const noManager = await raw(
    emu,
    "PATCH",
    "/api/v1/namespaces/default/secrets/p9",
    JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "p9" } }),
    { "Content-Type": "application/apply-patch+yaml" },
  );
  assert.equal(noManager.status, 422);
  const applied = await raw(
    emu,
    "PATCH",
    "/api/v1/namespaces/default/secrets/p9?fieldManager=test",
    JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "p9" }, stringData: { a: "b" } }),
    { "Content-Type": "application/apply-patch+yaml" },
  );
  assert.equal(applied.status, 201);
  await core.deleteNamespacedSecret({ name: "p1", namespace: ns });
  await core.deleteNamespacedSecret({ name: "p9", namespace: ns });
});

test("secrets: base64, key names, size and immutability are validated", async () => {
  const badB64 = await apiError(
    core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "b1" }, data: { k: "not base64!" } } }),
  );
  assert.equal(badB64.code, 400);
  assert.match(badB64.status.message ?? "", /illegal base64 data/);
  const badKey = await apiError(
    core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "b2" }, stringData: { "bad key": "x" } } }),
  );
  assert.equal(badKey.code, 422);
  assert.equal(badKey.status.details?.kind, "Secret");
  assert.equal(badKey.status.details?.causes?.[0]?.field, "data[bad key]");
  const big = await apiError(
    core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "b3" }, data: { k: Buffer.alloc(1048577).toString("base64") } },
    }),
  );
  assert.equal(big.code, 422);
  assert.equal(big.status.message, 'Secret "b3" is invalid: data: Too long: may not be more than 1048576 bytes');
  const imm = await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: "b4" }, immutable: true, stringData: { a: "1" } },
  });
  const change = await apiError(
    core.replaceNamespacedSecret({ name: "b4", namespace: ns, body: { ...imm, data: { a: "Mg==" } } }),
  );
  assert.equal(change.code, 422);
  assert.equal(
    change.status.message,
    'Secret "b4" is invalid: data: Forbidden: field is immutable when `immutable` is set',
  );
  const relabel = await core.replaceNamespacedSecret({
    name: "b4",
    namespace: ns,
    body: { ...imm, metadata: { ...imm.metadata, labels: { ok: "yes" } } },
  });
  assert.equal(relabel.metadata?.labels?.ok, "yes");
  await core.deleteNamespacedSecret({ name: "b4", namespace: ns });
});

test("garbage input gives the right Status, never a crash", async () => {
  const badJson = await raw(emu, "POST", "/api/v1/namespaces/default/secrets", "{not json");
  assert.equal(badJson.status, 400);
  assert.equal(badJson.json().reason, "BadRequest");
  const wrongKind = await raw(
    emu,
    "POST",
    "/api/v1/namespaces/default/pods",
    JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "x" } }),
  );
  assert.equal(wrongKind.status, 400);
  const noName = await apiError(core.createNamespacedSecret({ namespace: ns, body: { metadata: {} } }));
  assert.equal(noName.code, 422);
  assert.equal(
    noName.status.message,
    'Secret "" is invalid: metadata.name: Required value: name or generateName is required',
  );
  assert.equal(noName.status.details?.causes?.[0]?.reason, "FieldValueRequired");
  const badName = await apiError(
    core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "Bad_Name" } } }),
  );
  assert.equal(badName.code, 422);
  const unknown = await raw(emu, "GET", "/api/v1/namespaces/default/widgets");
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json().message, "the server could not find the requested resource");
  const unknownGroup = await raw(emu, "GET", "/apis/example.com/v1/things");
  assert.equal(unknownGroup.status, 404);
  const huge = await raw(emu, "POST", "/api/v1/namespaces/default/secrets", Buffer.alloc(4 * 1024 * 1024, 0x20));
  assert.equal(huge.status, 413);
  const noNs = await apiError(
    core.createNamespacedSecret({ namespace: "no-such-ns", body: { metadata: { name: "x" } } }),
  );
  assert.equal(noNs.code, 404);
  assert.equal(noNs.status.message, 'namespaces "no-such-ns" not found');
  const noContainers = await apiError(
    core.createNamespacedPod({ namespace: ns, body: { metadata: { name: "empty" }, spec: { containers: [] } } }),
  );
  assert.equal(noContainers.code, 422);
  const noSa = await apiError(
    core.createNamespacedPod({ namespace: ns, body: podManifest("nosa", { serviceAccountName: "ghost" }) }),
  );
  assert.equal(noSa.code, 403);
  const arrayBody = await raw(emu, "POST", "/api/v1/namespaces/default/secrets", "[1,2]");
  assert.equal(arrayBody.status, 400);
  const badRv = await raw(emu, "GET", "/api/v1/pods?resourceVersion=abc");
  assert.equal(badRv.status, 400);
  const badMethod = await raw(emu, "PUT", "/api/v1/namespaces/default/secrets", "{}");
  assert.equal(badMethod.status, 405);
  assert.deepEqual(emu.control.internalErrors, []);
});

test("failNext: 429 plain text with Retry-After, 503 Status; pause holds requests", async () => {
  emu.control.failNext({ pathPattern: "/secrets", status: 429, retryAfterSeconds: 3 });
  const throttled = await raw(emu, "GET", "/api/v1/namespaces/default/secrets");
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get("retry-after"), "3");
  assert.equal(throttled.text.trim(), "Too many requests, please try again later.");
  const viaClient = emu.control;
  viaClient.failNext({ method: "GET", pathPattern: /\/configmaps/, status: 503, count: 2 });
  assert.equal((await apiError(core.listNamespacedConfigMap({ namespace: ns }))).code, 503);
  assert.equal((await apiError(core.listNamespacedConfigMap({ namespace: ns }))).status.reason, "ServiceUnavailable");
  await core.listNamespacedConfigMap({ namespace: ns });
  emu.control.pause();
  let done = false;
  const pending = core.listNamespacedConfigMap({ namespace: ns }).then(() => {
    done = true;
  });
  await sleep(150);
  assert.equal(done, false);
  emu.control.resume();
  await pending;
  assert.equal(done, true);
});

test("leases: MicroTime needs six fractional digits; PUT with a stale RV conflicts", async () => {
  const coord = kubeConfigFor(emu).makeApiClient(CoordinationV1Api);
  const now = new V1MicroTime();
  const lease = await coord.createNamespacedLease({
    namespace: ns,
    body: {
      metadata: { name: "leader" },
      spec: { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: now, renewTime: now },
    },
  });
  assert.match(String(lease.spec?.renewTime), /\.\d{6}Z$/);
  const threeDigits = await apiError(
    coord.createNamespacedLease({
      namespace: ns,
      body: { metadata: { name: "bad" }, spec: { renewTime: new Date() as V1MicroTime } },
    }),
  );
  assert.equal(threeDigits.code, 400);
  assert.match(threeDigits.status.message ?? "", /as "2006-01-02T15:04:05.000000Z07:00"/);
  const a = await coord.replaceNamespacedLease({
    name: "leader",
    namespace: ns,
    body: { ...lease, spec: { ...lease.spec, holderIdentity: "b" } },
  });
  assert.equal(a.spec?.holderIdentity, "b");
  const lost = await apiError(
    coord.replaceNamespacedLease({
      name: "leader",
      namespace: ns,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: "c" } },
    }),
  );
  assert.equal(lost.code, 409);
  await coord.deleteNamespacedLease({ name: "leader", namespace: ns });
});

test("events: core v1 CRUD with field selectors, events.k8s.io/v1 create", async () => {
  const ev = await core.createNamespacedEvent({
    namespace: ns,
    body: {
      metadata: { generateName: "pod-x." },
      involvedObject: { kind: "Pod", name: "pod-x", namespace: ns },
      reason: "CredentialsIssued",
      message: "ok",
      type: "Normal",
      source: { component: "leasekeeper" },
    },
  });
  const found = await core.listNamespacedEvent({
    namespace: ns,
    fieldSelector: "involvedObject.name=pod-x,reason=CredentialsIssued",
  });
  assert.deepEqual(
    found.items.map((e) => e.metadata?.name),
    [ev.metadata?.name],
  );
  const events = kubeConfigFor(emu).makeApiClient(EventsV1Api);
  const v1 = await events.createNamespacedEvent({
    namespace: ns,
    body: {
      metadata: { name: "ev2" },
      eventTime: new V1MicroTime(),
      reportingController: "leasekeeper.io/controller",
      reportingInstance: "i-1",
      action: "Issue",
      reason: "CredentialsIssued",
      type: "Normal",
      regarding: { kind: "Pod", name: "pod-x", namespace: ns },
    },
  });
  assert.equal(v1.metadata?.name, "ev2");
  const missing = await apiError(
    events.createNamespacedEvent({
      namespace: ns,
      body: {
        metadata: { name: "ev3" },
        eventTime: new V1MicroTime(),
        reportingController: "x",
        reportingInstance: "y",
        action: "a",
        reason: "",
        type: "Normal",
      },
    }),
  );
  assert.equal(missing.code, 422);
  await core.deleteNamespacedEvent({ name: ev.metadata?.name ?? "", namespace: ns });
});

test.run();
