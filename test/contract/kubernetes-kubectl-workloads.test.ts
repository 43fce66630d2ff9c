/** Contract: Deployments with kubectl — create, rollout status, scale, rollout restart, delete; logs and exec. */
import * as assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { suite } from "uvu";
import type { KubeObject } from "../emulators/kubernetes/index.ts";
import { eventually } from "../emulators/kubernetes/testing.ts";
import { KUBECTL, startKubectlSession, type KubectlSession } from "../helpers/kubectl.ts";

const test = suite("kubernetes emulator: kubectl and the Deployment controller");
let k: KubectlSession;

test.before(async () => {
  k = await startKubectlSession();
});
test.after(async () => {
  await k.close();
});

const replicaSets = (app: string): KubeObject[] =>
  k.emu.control.list("apps/replicasets", "default").filter((rs) => rs.metadata.labels?.app === app);
const livePods = (app: string): KubeObject[] =>
  k.emu.control
    .list("pods", "default")
    .filter((p) => p.metadata.labels?.app === app && p.metadata.deletionTimestamp === undefined);
const rolloutStatus = (name: string, timeout = "15s") =>
  k.run("rollout", "status", `deployment/${name}`, `--timeout=${timeout}`);

if (KUBECTL === "") {
  console.log(
    "kubectl workload tests skipped: kubectl is not on PATH (bash scripts/install-system-deps.sh installs it)",
  );
  test.skip("kubectl workloads", () => undefined);
} else {
  test("create deployment: a ReplicaSet with pod-template-hash, owned pods, status that `rollout status` accepts", async () => {
    await k.ok("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2");
    const done = await rolloutStatus("web");
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /deployment "web" successfully rolled out/);
    const d = k.emu.control.get("apps/deployments", "default", "web");
    const [rs, ...more] = replicaSets("web");
    assert.equal(more.length, 0);
    const hash = rs?.metadata.labels?.["pod-template-hash"] ?? "";
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(rs?.metadata.name, `web-${hash}`);
    assert.deepEqual(rs?.spec.selector.matchLabels, { app: "web", "pod-template-hash": hash });
    assert.equal(rs?.metadata.annotations?.["deployment.kubernetes.io/revision"], "1");
    assert.deepEqual(
      rs?.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
      [["Deployment", "web", d?.metadata.uid, true]],
    );
    const pods = livePods("web");
    assert.equal(pods.length, 2);
    for (const p of pods) {
      assert.equal(p.metadata.generateName, `web-${hash}-`);
      assert.ok(p.metadata.name?.startsWith(`web-${hash}-`));
      assert.deepEqual(
        p.metadata.ownerReferences?.map((r) => [r.kind, r.uid, r.controller]),
        [["ReplicaSet", rs?.metadata.uid, true]],
      );
      assert.equal(p.metadata.labels?.["pod-template-hash"], hash);
    }
    assert.equal(d?.metadata.generation, d?.status.observedGeneration);
    assert.deepEqual(
      [d?.status.replicas, d?.status.readyReplicas, d?.status.updatedReplicas, d?.status.availableReplicas],
      [2, 2, 2, 2],
    );
    const all = await k.ok("get", "all");
    assert.match(all, /deployment\.apps\/web\s+2\/2\s+2\s+2\s/);
    assert.match(all, new RegExp(`replicaset\\.apps/web-${hash}\\s+2\\s+2\\s+2\\s`));
  });

  test("kubectl scale up, down and to zero (scale subresource); rollout status follows", async () => {
    assert.match(await k.ok("scale", "deployment/web", "--replicas=4"), /deployment.apps\/web scaled/);
    assert.equal((await rolloutStatus("web")).code, 0);
    assert.equal(livePods("web").length, 4);
    await k.ok("scale", "deployment/web", "--replicas=1");
    await eventually(() => livePods("web").length === 1, 5000, "scale down to 1");
    assert.equal(k.emu.control.get("apps/deployments", "default", "web")?.status.replicas, 1);
    const scale = JSON.parse(await k.ok("get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale"));
    assert.deepEqual(
      [scale.kind, scale.apiVersion, scale.spec.replicas, scale.status.selector],
      ["Scale", "autoscaling/v1", 1, "app=web"],
    );
    await k.ok("scale", "deployment/web", "--replicas=0");
    await eventually(() => livePods("web").length === 0, 5000, "scale to 0");
    await k.ok("scale", "deployment/web", "--replicas=2");
    assert.equal((await rolloutStatus("web")).code, 0);
  });

  test("rollout restart: a new ReplicaSet from the annotated template, the old one scaled to 0, revision 2", async () => {
    const before = replicaSets("web")[0]?.metadata.name;
    assert.match(await k.ok("rollout", "restart", "deployment/web"), /deployment.apps\/web restarted/);
    const done = await rolloutStatus("web");
    assert.equal(done.code, 0, done.stderr);
    const sets = replicaSets("web");
    assert.equal(sets.length, 2);
    const fresh = sets.find((rs) => rs.metadata.name !== before);
    assert.ok(fresh?.spec.template.metadata.annotations?.["kubectl.kubernetes.io/restartedAt"]);
    assert.equal(fresh?.metadata.annotations?.["deployment.kubernetes.io/revision"], "2");
    assert.equal(sets.find((rs) => rs.metadata.name === before)?.spec.replicas, 0);
    await eventually(
      () =>
        livePods("web").length === 2 &&
        livePods("web").every((p) => p.metadata.name?.startsWith(`${fresh?.metadata.name ?? "?"}-`)),
      5000,
      "only new pods",
    );
    assert.match(await k.ok("rollout", "history", "deployment/web"), /1\s+<none>\s+2\s+<none>/);
  });

  test("rollout status waits while pods cannot start, and completes when they can", async () => {
    await writeFile(
      join(k.dir, "deploy.yaml"),
      [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata: {name: api}",
        "spec:",
        "  selector: {matchLabels: {app: api}}",
        "  template:",
        "    metadata: {labels: {app: api}}",
        "    spec:",
        "      containers: [{name: api, image: busybox:1.36}]",
        "      volumes: [{name: cfg, secret: {secretName: api-config}}]",
        "",
      ].join("\n"),
    );
    await k.ok("apply", "-f", join(k.dir, "deploy.yaml"));
    const waiting = await rolloutStatus("api", "2s");
    assert.notEqual(waiting.code, 0);
    assert.match(
      waiting.stdout,
      /Waiting for deployment "api" rollout to finish: 0 of 1 updated replicas are available/,
    );
    assert.match(await k.ok("get", "deployment", "api"), /api\s+0\/1\s+1\s+0\s/);
    await k.ok("create", "secret", "generic", "api-config", "--from-literal=a=b");
    assert.equal((await rolloutStatus("api")).code, 0);
  });

  test("delete deployment: its ReplicaSets and pods are garbage-collected", async () => {
    assert.match(await k.ok("delete", "deployment", "web"), /deployment.apps "web" deleted/);
    await eventually(
      () =>
        replicaSets("web").length === 0 &&
        k.emu.control.list("pods", "default").every((p) => p.metadata.labels?.app !== "web"),
      8000,
      "dependents gone",
    );
  });

  test("logs and exec: a clear 503 'no container runtime in the sandbox', not NotFound", async () => {
    await k.ok("run", "shell", "--image=busybox:1.36");
    const logs = await k.run("logs", "shell");
    assert.notEqual(logs.code, 0);
    assert.match(logs.stderr, /Error from server \(ServiceUnavailable\): no container runtime in the sandbox/);
    const exec = await k.run("exec", "shell", "--", "ls");
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /ServiceUnavailable.*no container runtime in the sandbox/);
    const missing = await k.run("logs", "nope");
    assert.match(missing.stderr, /pods "nope" not found/);
  });
}

test.run();
