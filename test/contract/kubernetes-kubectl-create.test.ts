/** Contract: kubectl's imperative `create` commands, which send protobuf bodies, against the emulator. */
import * as assert from "node:assert/strict";
import protobuf from "protobufjs";
import { suite } from "uvu";
import { raw } from "../emulators/kubernetes/testing.ts";
import { KUBECTL, startKubectlSession, type KubectlSession } from "../helpers/kubectl.ts";

const test = suite("kubernetes emulator: kubectl create (protobuf bodies)");
let k: KubectlSession;

test.before(async () => {
  k = await startKubectlSession();
});
test.after(async () => {
  await k.close();
});

const jwtClaims = (token: string) => JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));

/** A protobuf body: magic, then runtime.Unknown{typeMeta{apiVersion, kind}, raw} (protobuf.go). */
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const typeMeta = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .string(apiVersion)
    .uint32((2 << 3) | 2)
    .string(kind)
    .finish();
  const unknown = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .bytes(typeMeta)
    .uint32((2 << 3) | 2)
    .bytes(raw)
    .finish();
  return Buffer.concat([Buffer.from("k8s\0", "latin1"), unknown]);
}

if (KUBECTL === "") {
  console.log("kubectl create tests skipped: kubectl is not on PATH (bash scripts/install-system-deps.sh installs it)");
  test.skip("kubectl create", () => undefined);
} else {
  test("create secret generic: data and type arrive intact", async () => {
    assert.match(
      await k.ok("create", "secret", "generic", "db-creds", "--from-literal=user=alice", "--from-literal=pass=s3cr=t"),
      /secret\/db-creds created/,
    );
    const s = k.emu.control.get("secrets", "default", "db-creds");
    assert.ok(s !== undefined);
    assert.equal(s.type, "Opaque");
    assert.equal(Buffer.from(s.data.user, "base64").toString(), "alice");
    assert.equal(Buffer.from(s.data.pass, "base64").toString(), "s3cr=t");
    assert.equal(s.metadata.generateName, undefined, 'empty proto strings are not stored as ""');
    const typed = await k.ok(
      "create",
      "secret",
      "generic",
      "tls-like",
      "--type=kubernetes.io/basic-auth",
      "--from-literal=username=u",
      "--from-literal=password=p",
    );
    assert.match(typed, /created/);
    assert.equal(k.emu.control.get("secrets", "default", "tls-like")?.type, "kubernetes.io/basic-auth");
  });

  test("create configmap, namespace (gets its default ServiceAccount), serviceaccount", async () => {
    assert.match(
      await k.ok("create", "configmap", "settings", "--from-literal=mode=fast"),
      /configmap\/settings created/,
    );
    assert.deepEqual(k.emu.control.get("configmaps", "default", "settings")?.data, { mode: "fast" });
    assert.match(await k.ok("create", "namespace", "team-a"), /namespace\/team-a created/);
    const ns = k.emu.control.get("namespaces", "", "team-a");
    assert.equal(ns?.metadata.labels?.["kubernetes.io/metadata.name"], "team-a");
    assert.equal(ns?.status?.phase, "Active");
    assert.ok(k.emu.control.get("serviceaccounts", "team-a", "default"));
    assert.match(await k.ok("create", "serviceaccount", "builder", "-n", "team-a"), /serviceaccount\/builder created/);
    assert.ok(k.emu.control.get("serviceaccounts", "team-a", "builder"));
    const again = await k.run("create", "namespace", "team-a");
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /AlreadyExists.*namespaces "team-a" already exists/);
  });

  test("create token (TokenRequest subresource): audience and duration are honoured", async () => {
    await k.ok("create", "serviceaccount", "ci");
    const token = (await k.ok("create", "token", "ci", "--audience=vault", "--duration=20m")).trim();
    const claims = jwtClaims(token);
    assert.equal(claims.sub, "system:serviceaccount:default:ci");
    assert.deepEqual(claims.aud, ["vault"]);
    assert.equal(claims.exp - claims.iat, 1200);
    const review = await raw(
      k.emu,
      "POST",
      "/apis/authentication.k8s.io/v1/tokenreviews",
      JSON.stringify({ spec: { token, audiences: ["vault"] } }),
    );
    assert.equal(JSON.parse(review.text).status.authenticated, true);
    const tooShort = await k.run("create", "token", "ci", "--duration=5m");
    assert.notEqual(tooShort.code, 0);
    assert.match(tooShort.stderr, /may not specify a duration less than 10 minutes/);
    const missing = await k.run("create", "token", "nobody");
    assert.match(missing.stderr, /serviceaccounts "nobody" not found/);
  });

  test("create deployment: replicas (also 0), selector, template labels and container port", async () => {
    assert.match(
      await k.ok("create", "deployment", "web", "--image=nginx:1.27", "--replicas=3", "--port=8080"),
      /deployment.apps\/web created/,
    );
    const d = k.emu.control.get("apps/deployments", "default", "web");
    assert.equal(d?.spec.replicas, 3);
    assert.deepEqual(d?.spec.selector, { matchLabels: { app: "web" } });
    assert.deepEqual(d?.spec.template.metadata.labels, { app: "web" });
    assert.equal(d?.spec.template.metadata.creationTimestamp, null, "an empty metav1.Time decodes to null, as in JSON");
    const [c, ...others] = d?.spec.template.spec.containers ?? [];
    assert.equal(others.length, 0);
    assert.deepEqual(
      [c.name, c.image, c.ports, c.resources],
      ["nginx", "nginx:1.27", [{ containerPort: 8080, protocol: "TCP" }], {}],
    );
    await k.ok("create", "deployment", "idle", "--image=busybox", "--replicas=0");
    assert.equal(
      k.emu.control.get("apps/deployments", "default", "idle")?.spec.replicas,
      0,
      "a pointer field's zero is kept",
    );
  });

  test("protobuf bodies the subset does not model are refused, never silently trimmed", async () => {
    const volumes = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(new Uint8Array())
      .finish(); // PodSpec.volumes = 1
    const pod = protobuf.Writer.create()
      .uint32((2 << 3) | 2)
      .bytes(volumes)
      .finish(); // Pod.spec = 2
    const headers = { "Content-Type": "application/vnd.kubernetes.protobuf" };
    const refused = await raw(k.emu, "POST", "/api/v1/namespaces/default/pods", envelope("v1", "Pod", pod), headers);
    assert.equal(refused.status, 415);
    assert.match(refused.json().message ?? "", /field 1 of k8s\.io\.api\.core\.v1\.PodSpec/);
    const lease = await raw(
      k.emu,
      "POST",
      "/apis/coordination.k8s.io/v1/namespaces/default/leases",
      envelope("coordination.k8s.io/v1", "Lease", new Uint8Array()),
      headers,
    );
    assert.equal(lease.status, 415);
    const garbage = await raw(k.emu, "POST", "/api/v1/namespaces/default/secrets", Buffer.from("{}"), headers);
    assert.equal(garbage.status, 400);
    assert.match(garbage.json().message ?? "", /does not appear to be a protobuf message/);
  });
}

test.run();
