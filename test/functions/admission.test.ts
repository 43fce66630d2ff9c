import { test } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { admissionRoute } from "../../functions/http/admission-route.ts";
import { createLogger } from "../../shared/observability/log.ts";

const log = createLogger("silent", new Writable({ write: (_c, _e, done) => done() }));
const settings = {
  defaultAuthPath: "kubernetes",
  vaultAnnotations: true,
  staticSecretRenderIntervalSeconds: 300,
  namespaces: [] as string[],
};
const app = admissionRoute({ settings, log });

async function review(object: unknown, extra: Record<string, unknown> = {}) {
  const res = await app.request("/", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: { uid: "u-1", kind: { kind: "Pod" }, operation: "CREATE", namespace: "default", object, ...extra },
    }),
  });
  const body = (await res.json()) as {
    apiVersion: string;
    kind: string;
    response: {
      uid: string;
      allowed: boolean;
      patch?: string;
      patchType?: string;
      status?: { message: string };
      warnings?: string[];
    };
  };
  const patch = body.response.patch
    ? (JSON.parse(Buffer.from(body.response.patch, "base64").toString("utf8")) as Array<{
        op: string;
        path: string;
        value: unknown;
      }>)
    : undefined;
  return { status: res.status, body, patch };
}

const vaultPod = (annotations: Record<string, string>, spec: Record<string, unknown> = {}) => ({
  metadata: {
    generateName: "web-5d8-",
    annotations: { "vault.hashicorp.com/agent-inject": "true", "vault.hashicorp.com/role": "web", ...annotations },
  },
  spec: {
    containers: [
      { name: "app", image: "a" },
      { name: "side", image: "b", volumeMounts: [{ name: "x", mountPath: "/x" }] },
    ],
    ...spec,
  },
});

test("echoes the uid; a pod that is not opted in passes without a patch", async () => {
  const r = await review({ metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } });
  assert.is(r.status, 200);
  assert.equal(r.body, {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    response: { uid: "u-1", allowed: true },
  });
  const update = await review(vaultPod({ "vault.hashicorp.com/agent-inject-secret-a": "kv/data/a" }), {
    operation: "UPDATE",
  });
  assert.is(update.patch, undefined);
});

test("an opted-in pod from a generateName: random Secret name, one volume with only its files at 0440, mounts in every container", async () => {
  const r = await review(
    vaultPod({
      "vault.hashicorp.com/agent-inject-secret-db": "database/creds/r",
      "vault.hashicorp.com/agent-inject-secret-cfg": "secret/data/cfg",
    }),
  );
  assert.is(r.body.response.patchType, "JSONPatch");
  const ops = r.patch ?? [];
  const name = ops.find((o) => o.path === "/metadata/annotations/leasekeeper.io~1secret-name")?.value as string;
  assert.match(name, /^web-5d8-lk-[0-9a-f]{10}$/);
  assert.ok(
    ops.some(
      (o) => o.path === "/metadata/annotations/vault.hashicorp.com~1agent-inject-status" && o.value === "injected",
    ),
  );
  assert.equal(ops.find((o) => o.path === "/spec/volumes")?.value, [
    {
      name: "leasekeeper-secrets",
      secret: {
        secretName: name,
        defaultMode: 0o440,
        items: [
          { key: "cfg", path: "cfg" },
          { key: "db", path: "db" },
        ],
      },
    },
  ]);
  assert.equal(ops.find((o) => o.path === "/spec/containers/0/volumeMounts")?.value, [
    { name: "leasekeeper-secrets", mountPath: "/vault/secrets", readOnly: true },
  ]);
  assert.equal(ops.find((o) => o.path === "/spec/containers/1/volumeMounts/-")?.value, {
    name: "leasekeeper-secrets",
    mountPath: "/vault/secrets",
    readOnly: true,
  });
  assert.not.ok(
    ops.some((o) => o.path.startsWith("/spec/containers/-") || o.path.startsWith("/spec/initContainers")),
    "never adds a container",
  );
  const second = await review(vaultPod({ "vault.hashicorp.com/agent-inject-secret-db": "database/creds/r" }));
  assert.is.not(second.patch?.[0]?.value, name, "each pod gets its own name");
});

test("agent-inject-containers picks the containers; a clash or an unknown container is refused", async () => {
  const r = await review(
    vaultPod({
      "vault.hashicorp.com/agent-inject-secret-db": "database/creds/r",
      "vault.hashicorp.com/agent-inject-containers": "side",
    }),
  );
  assert.not.ok(r.patch?.some((o) => o.path.startsWith("/spec/containers/0/")));
  assert.ok(r.patch?.some((o) => o.path === "/spec/containers/1/volumeMounts/-"));
  const unknown = await review(
    vaultPod({
      "vault.hashicorp.com/agent-inject-secret-db": "database/creds/r",
      "vault.hashicorp.com/agent-inject-containers": "nope",
    }),
  );
  assert.is(unknown.body.response.allowed, false);
  assert.match(unknown.body.response.status?.message ?? "", /agent-inject-containers names container "nope"/);
  const clash = await review(
    vaultPod({
      "vault.hashicorp.com/agent-inject-secret-db": "database/creds/r",
      "vault.hashicorp.com/secret-volume-path": "/x",
    }),
  );
  assert.match(clash.body.response.status?.message ?? "", /container "side" already mounts volume "x" at \/x/);
});

test("a template outside the subset is refused with allowed:false naming annotation and construct", async () => {
  const r = await review(
    vaultPod({
      "vault.hashicorp.com/agent-inject-secret-db": "database/creds/r",
      "vault.hashicorp.com/agent-inject-template-db":
        '{{ with secret "database/creds/r" }}{{ .Data.password | sha256Hex }}{{ end }}',
    }),
  );
  assert.is(r.body.response.uid, "u-1");
  assert.is(r.body.response.allowed, false);
  assert.match(
    r.body.response.status?.message ?? "",
    /^annotation vault\.hashicorp\.com\/agent-inject-template-db: line 1: function "sha256Hex" is outside/,
  );
  assert.is(r.patch, undefined);
});

test("leasekeeper.io pods get the volume too; ignored sidecar annotations come back as a warning; bad reviews are 400", async () => {
  const own = await review({
    metadata: {
      name: "p1",
      annotations: { "leasekeeper.io/role": "r", "leasekeeper.io/secret-creds.json": "database/creds/r" },
    },
    spec: { containers: [{ name: "c", image: "i" }] },
  });
  assert.equal(own.patch?.find((o) => o.path === "/spec/volumes")?.value, [
    {
      name: "leasekeeper-secrets",
      secret: {
        secretName: own.patch?.[0]?.value,
        defaultMode: 0o440,
        items: [{ key: "creds.json", path: "creds.json" }],
      },
    },
  ]);
  const warned = await review(
    vaultPod({
      "vault.hashicorp.com/agent-inject-secret-db": "database/creds/r",
      "vault.hashicorp.com/agent-limits-cpu": "250m",
    }),
  );
  assert.match(warned.body.response.warnings?.[0] ?? "", /ignores vault\.hashicorp\.com\/agent-limits-cpu/);
  const bad = await app.request("/", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
  assert.is(bad.status, 400);
  const off = admissionRoute({ settings: { ...settings, vaultAnnotations: false }, log });
  const res = await off.request("/", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "u",
        kind: { kind: "Pod" },
        operation: "CREATE",
        object: vaultPod({ "vault.hashicorp.com/agent-inject-secret-db": "database/creds/r" }),
      },
    }),
  });
  assert.equal(
    ((await res.json()) as { response: unknown }).response,
    { uid: "u", allowed: true },
    "LEASEKEEPER_VAULT_ANNOTATIONS=false leaves injector pods alone",
  );
});

test.run();
