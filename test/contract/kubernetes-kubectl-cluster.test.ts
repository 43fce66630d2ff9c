/** Contract: a new user's look around with kubectl — nodes, services, `get all`, cluster-info, pod and event tables. */
import * as assert from "node:assert/strict";
import { suite } from "uvu";
import { vaultServerPod } from "../helpers/vault-pod.ts";
import { eventually } from "../emulators/kubernetes/testing.ts";
import { KUBECTL, startKubectlSession, type KubectlSession } from "../helpers/kubectl.ts";

const test = suite("kubernetes emulator: kubectl get nodes/services/all, cluster-info, tables");
let k: KubectlSession;

test.before(async () => {
  k = await startKubectlSession();
});
test.after(async () => {
  await k.close();
});

/** Splits kubectl's table output into rows of cells (columns are separated by 2+ spaces). */
const rows = (out: string): string[][] =>
  out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));

if (KUBECTL === "") {
  console.log(
    "kubectl cluster tests skipped: kubectl is not on PATH (bash scripts/install-system-deps.sh installs it)",
  );
  test.skip("kubectl cluster", () => undefined);
} else {
  test("get nodes: one Ready control-plane node, wide columns", async () => {
    const [header, node, ...more] = rows(await k.ok("get", "nodes"));
    assert.deepEqual(header, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert.equal(more.length, 0);
    assert.equal(node?.[0], "emulator-node");
    assert.equal(node?.[1], "Ready");
    assert.equal(node?.[2], "control-plane");
    assert.equal(node?.[4], "v1.32.0");
    const wide = rows(await k.ok("get", "nodes", "-o", "wide"));
    assert.deepEqual(wide[0], [
      "NAME",
      "STATUS",
      "ROLES",
      "AGE",
      "VERSION",
      "INTERNAL-IP",
      "EXTERNAL-IP",
      "OS-IMAGE",
      "KERNEL-VERSION",
      "CONTAINER-RUNTIME",
    ]);
    assert.equal(wide[1]?.[5], "10.0.0.10");
    assert.match(await k.ok("run", "probe", "--image=busybox:1.36"), /pod\/probe created/);
    const scheduled = await eventually(() => k.emu.control.get("pods", "default", "probe")?.spec.nodeName);
    assert.equal(scheduled, "emulator-node", "pods are bound to the node `get nodes` shows");
  });

  test("services: the kubernetes Service, create service clusterip/nodeport with allocated IPs and ports", async () => {
    const [header, svc] = rows(await k.ok("get", "services"));
    assert.deepEqual(header, ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    assert.deepEqual(svc?.slice(0, 5), ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP"]);
    assert.match(await k.ok("create", "service", "clusterip", "web", "--tcp=80:8080"), /service\/web created/);
    const web = k.emu.control.get("services", "default", "web");
    assert.match(web?.spec.clusterIP ?? "", /^10\.96\.\d+\.\d+$/);
    assert.deepEqual(web?.spec.ports, [{ name: "80-8080", port: 80, protocol: "TCP", targetPort: 8080 }]);
    await k.ok("create", "service", "nodeport", "np", "--tcp=80");
    const np = rows(await k.ok("get", "svc", "np", "-o", "wide"))[1];
    assert.equal(np?.[1], "NodePort");
    assert.match(np?.[4] ?? "", /^80:3\d{4}\/TCP$/);
    assert.equal(np?.[6], "app=np");
  });

  test("get all lists pods and services (kubectl resolves the `all` category); cluster-info names the control plane and CoreDNS", async () => {
    const all = await k.ok("get", "all");
    assert.match(all, /pod\/probe\s+1\/1\s+Running/);
    assert.match(all, /service\/kubernetes\s+ClusterIP/);
    const allNs = await k.ok("get", "all", "-A");
    assert.match(allNs, /kube-system\s+service\/kube-dns\s+ClusterIP\s+10\.96\.0\.10/);
    const info = await k.ok("cluster-info");
    assert.match(info, new RegExp(`Kubernetes control plane is running at ${k.emu.url.replace(/\./g, "\\.")}`));
    assert.match(info, /CoreDNS is running at .*\/api\/v1\/namespaces\/kube-system\/services\/kube-dns:dns\/proxy/);
  });

  test("pod table: NAME READY STATUS RESTARTS AGE, restartCount shown, with the time of the last restart", async () => {
    k.emu.control.put("namespaces", { metadata: { name: "vault" } });
    k.emu.control.put("pods", vaultServerPod({ restarts: 2, ready: false }));
    const [header, vault] = rows(await k.ok("get", "pods", "-n", "vault"));
    assert.deepEqual(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert.deepEqual(
      vault?.slice(0, 4),
      ["vault-0", "0/1", "Running", "2"],
      "the Vault restart model's restartCount is shown",
    );
    await eventually(() => k.emu.control.get("pods", "default", "probe")?.status?.phase === "Running");
    k.emu.control.restartContainer("default", "probe");
    const probe = rows(await k.ok("get", "pod", "probe"))[1];
    assert.equal(probe?.[2], "Running");
    assert.match(probe?.[3] ?? "", /^1 \(\d+s ago\)$/);
    const wide = rows(await k.ok("get", "pod", "probe", "-o", "wide"));
    assert.deepEqual(wide[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]);
    assert.equal(wide[1]?.[6], "emulator-node");
  });

  test("event table: LAST SEEN TYPE REASON OBJECT MESSAGE", async () => {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    k.emu.control.put("events", {
      metadata: { name: "probe.1", namespace: "default" },
      involvedObject: { kind: "Pod", name: "probe", namespace: "default" },
      reason: "BackOff",
      message: "Back-off restarting failed container",
      type: "Warning",
      source: { component: "kubelet" },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 3,
    });
    const [header, ev] = rows(await k.ok("get", "events"));
    assert.deepEqual(header, ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    assert.deepEqual(ev?.slice(1), ["Warning", "BackOff", "pod/probe", "Back-off restarting failed container"]);
    assert.match(ev?.[0] ?? "", /^\d+s$/);
  });
}

test.run();
