/**
 * Contract: metadata-only answers (Accept `as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`), through
 * leasekeeper's real client (shared/kube/kube-client.ts over @kubernetes/client-node) and as the wire
 * shows them, against the emulator's model of apiserver handlers/response.go.
 */
import * as assert from "node:assert/strict";
import { suite } from "uvu";
import { CoreV1Api } from "@kubernetes/client-node";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { LABEL_MANAGED, LABEL_POD_UID } from "../../shared/kube/labels.ts";
import { startKubernetesEmulator, type KubernetesEmulator } from "../emulators/kubernetes/index.ts";
import { kubeConfigFor } from "../emulators/kubernetes/testing.ts";

const test = suite("kubernetes emulator: PartialObjectMetadata");
let emu: KubernetesEmulator;
let core: CoreV1Api;
const ns = "default";
const META_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const META = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

const get = (path: string, accept: string) =>
  fetch(`${emu.url}${path}`, { headers: { Authorization: `Bearer ${emu.adminToken}`, Accept: accept } });

test.before(async () => {
  emu = await startKubernetesEmulator({ autoRunPods: false });
  core = kubeConfigFor(emu).makeApiClient(CoreV1Api);
  for (const [name, uid] of [
    ["managed-a", "uid-a"],
    ["managed-b", "uid-b"],
  ] as const)
    await core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: {
          name,
          labels: { [LABEL_MANAGED]: "true", [LABEL_POD_UID]: uid },
          annotations: { "leasekeeper.io/accessor": `acc-${uid}` },
        },
        stringData: { "creds.json": `{"password":"${name}-secret"}` },
      },
    });
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: "unmanaged" }, stringData: { x: "y" } },
  });
});
test.after(async () => {
  await emu.close();
});

test("listManagedSecrets asks for metadata only and gets labels and annotations, never data", async () => {
  const kube = createKubeClient(kubeConfigFor(emu));
  const before = emu.control.requests.length;
  const listed = await kube.listManagedSecrets([ns]);
  const sent = emu.control.requests.slice(before).filter((r) => r.path.startsWith(`/api/v1/namespaces/${ns}/secrets`));
  assert.equal(sent.length, 1);
  assert.match(sent[0]?.accept ?? "", /^application\/json;as=PartialObjectMetadataList;g=meta\.k8s\.io;v=v1,/);
  assert.deepEqual(
    listed.map((s) => [
      s.metadata.name,
      s.metadata.labels?.[LABEL_POD_UID],
      s.metadata.annotations?.["leasekeeper.io/accessor"],
    ]),
    [
      ["managed-a", "uid-a", "acc-uid-a"],
      ["managed-b", "uid-b", "acc-uid-b"],
    ],
  );
  assert.ok(listed.every((s) => Object.keys(s).join() === "metadata"));
  assert.equal(JSON.stringify(listed).includes("secret\\"), false);
  assert.equal(JSON.stringify(listed).includes(Buffer.from('{"password"').toString("base64").slice(0, 8)), false);
  // All namespaces, and one pod UID: the same request shape.
  assert.deepEqual(
    (await kube.listManagedSecrets([], "uid-b")).map((s) => s.metadata.name),
    ["managed-b"],
  );
});

test("wire: the list is a PartialObjectMetadataList of PartialObjectMetadata items with the list's resourceVersion", async () => {
  const res = await get(
    `/api/v1/namespaces/${ns}/secrets?labelSelector=${LABEL_MANAGED}%3Dtrue`,
    `${META_LIST},application/json`,
  );
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    kind: string;
    apiVersion: string;
    metadata: { resourceVersion?: string };
    items: { kind: string; apiVersion: string; metadata: { name: string }; data?: unknown }[];
  };
  assert.equal(body.kind, "PartialObjectMetadataList");
  assert.equal(body.apiVersion, "meta.k8s.io/v1");
  assert.ok(body.metadata.resourceVersion);
  assert.deepEqual(
    body.items.map((i) => [i.kind, i.apiVersion, i.metadata.name, i.data]),
    [
      ["PartialObjectMetadata", "meta.k8s.io/v1", "managed-a", undefined],
      ["PartialObjectMetadata", "meta.k8s.io/v1", "managed-b", undefined],
    ],
  );
  // Plain JSON is unchanged.
  const plain = (await (await get(`/api/v1/namespaces/${ns}/secrets`, "application/json")).json()) as { kind: string };
  assert.equal(plain.kind, "SecretList");
});

test("wire: 406 for a singular target on a list, a list target on one object, or only unknown conversions", async () => {
  const onList = await get(`/api/v1/namespaces/${ns}/secrets`, META);
  assert.equal(onList.status, 406);
  assert.match(
    ((await onList.json()) as { message: string }).message,
    /requested PartialObjectMetadata, but the requested object is a list/,
  );
  const onObject = await get(`/api/v1/namespaces/${ns}/secrets/managed-a`, META_LIST);
  assert.equal(onObject.status, 406);
  const unknown = await get(
    `/api/v1/namespaces/${ns}/secrets`,
    "application/json;as=PartialObjectMetadataList;g=example.com;v=v1",
  );
  assert.equal(unknown.status, 406);
  const one = (await (await get(`/api/v1/namespaces/${ns}/secrets/managed-a`, META)).json()) as {
    kind: string;
    data?: unknown;
    metadata: { name: string };
  };
  assert.deepEqual([one.kind, one.metadata.name, one.data], ["PartialObjectMetadata", "managed-a", undefined]);
});

test("wire: a watch asking as=PartialObjectMetadata streams metadata-only objects", async () => {
  const list = (await (await get(`/api/v1/namespaces/${ns}/secrets`, META_LIST)).json()) as {
    metadata: { resourceVersion: string };
  };
  const ctrl = new AbortController();
  const res = await fetch(
    `${emu.url}/api/v1/namespaces/${ns}/secrets?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
    {
      headers: { Authorization: `Bearer ${emu.adminToken}`, Accept: `${META},application/json` },
      signal: ctrl.signal,
    },
  );
  assert.equal(res.status, 200);
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "watched" }, stringData: { k: "v" } } });
  const reader = res.body!.getReader();
  let text = "";
  while (!text.includes("\n")) text += new TextDecoder().decode((await reader.read()).value);
  ctrl.abort();
  const event = JSON.parse(text.slice(0, text.indexOf("\n"))) as {
    type: string;
    object: { kind: string; metadata: { name: string }; data?: unknown };
  };
  assert.deepEqual(
    [event.type, event.object.kind, event.object.metadata.name, event.object.data],
    ["ADDED", "PartialObjectMetadata", "watched", undefined],
  );
});

test.run();
