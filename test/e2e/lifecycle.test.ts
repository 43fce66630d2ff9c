import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, opted, redisDump, roleExists, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

const e2e = suite<{ stack: Stack; seeded: Seeded; lk: Harness }>("lifecycle");

e2e.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded);
});

e2e.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

async function secretOf(stack: Stack, pod: string): Promise<V1Secret | undefined> {
  try {
    return await stack.core.readNamespacedSecret({ namespace: "default", name: `${pod}-leasekeeper` });
  } catch {
    return undefined;
  }
}

function creds(secret: V1Secret): { username: string; password: string } {
  const raw = Buffer.from(secret.data?.["creds.json"] ?? "", "base64").toString("utf8");
  return JSON.parse(raw) as { username: string; password: string };
}

e2e("create -> Secret with a working password; delete -> role dropped, lease and token revoked, Secret gone", async ({ stack, lk }) => {
  const pod: V1Pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted("app-1") });
  const uid = pod.metadata?.uid ?? "";
  const secret = await waitFor("the pod's Secret", () => secretOf(stack, "app-1"));
  assert.is(secret.metadata?.labels?.["leasekeeper.io/pod-uid"], uid);
  assert.equal(secret.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [["Pod", "app-1", uid]]);
  const accessor = secret.metadata?.annotations?.["leasekeeper.io/token-accessor"] ?? "";
  const leaseIds = (JSON.parse(secret.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]") as Array<{ id: string }>).map((l) => l.id);
  assert.is(leaseIds.length, 1);
  assert.match(leaseIds[0] ?? "", /^database\/creds\/postgres-role\//);
  const c = creds(secret);
  assert.ok(await canLogin(stack, c), "issued password logs in");

  // The lease belongs to the pod's own token, not to leasekeeper's.
  const lease = stack.vault.control.leases().find((l) => l.id === leaseIds[0]);
  const podToken = stack.vault.control.tokens().find((t) => t.accessor === accessor);
  assert.ok(lease && podToken);
  assert.is(lease?.tokenAccessor, accessor);
  assert.is(podToken?.role, "postgres");
  assert.ok(podToken?.policies.includes("postgres-app"));

  const events = await stack.core.listNamespacedEvent({ namespace: "default", fieldSelector: `involvedObject.uid=${uid}` });
  assert.ok(events.items.some((e) => e.reason === "CredentialsIssued"), "CredentialsIssued event");

  await stack.core.deleteNamespacedPod({ namespace: "default", name: "app-1" });
  await waitFor("the database role to be dropped", async () => !(await roleExists(stack, c.username)));
  assert.not.ok(await canLogin(stack, c), "revoked password no longer logs in");
  await waitFor("lease and token revoked", async () => {
    const l = stack.vault.control.leases().find((x) => x.id === leaseIds[0]);
    const t = stack.vault.control.tokens().find((x) => x.accessor === accessor);
    return (l === undefined || l.revoked) && (t === undefined || t.revoked);
  });
  await waitFor("the Secret gone", async () => (await secretOf(stack, "app-1")) === undefined);
  await waitFor("the index entry dropped", async () => !(await lk.runtime.deps.index.has(uid)));
});

e2e("a pod that reaches Succeeded is revoked although the object stays", async ({ stack }) => {
  const pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted("job-1") });
  const uid = pod.metadata?.uid ?? "";
  const secret = await waitFor("the job pod's Secret", () => secretOf(stack, "job-1"));
  const c = creds(secret);
  assert.ok(await canLogin(stack, c));
  stack.kube.control.setPodPhase("default", "job-1", "Succeeded");
  await waitFor("role dropped after Succeeded", async () => !(await roleExists(stack, c.username)));
  await waitFor("Secret deleted", async () => (await secretOf(stack, "job-1")) === undefined);
  const still = await stack.core.readNamespacedPod({ namespace: "default", name: "job-1" });
  assert.is(still.metadata?.uid, uid, "the pod object stays");
  const events = await stack.core.listNamespacedEvent({ namespace: "default", fieldSelector: `involvedObject.uid=${uid}` });
  assert.ok(events.items.some((e) => e.reason === "CredentialsRevoked"));
});

e2e("a pod that is not opted in gets nothing", async ({ stack, lk }) => {
  const plain = await stack.core.createNamespacedPod({
    namespace: "default",
    body: { metadata: { name: "plain" }, spec: { serviceAccountName: "postgres-vault", containers: [{ name: "a", image: "busybox" }] } },
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.is(await secretOf(stack, "plain"), undefined);
  assert.not.ok(await lk.runtime.deps.index.has(plain.metadata?.uid ?? ""));
});

e2e("no secret value in logs, Redis (jobs, results, index), Events or metrics", async ({ stack, seeded, lk }) => {
  const pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted("scan-1", { "leasekeeper.io/secret-kv": "secret/data/db-pass" }) });
  const secret = await waitFor("scan pod Secret", () => secretOf(stack, "scan-1"));
  const c = creds(secret);
  const podToken = stack.vault.control.tokens().find((t) => t.accessor === secret.metadata?.annotations?.["leasekeeper.io/token-accessor"]);
  assert.ok(podToken);
  const kv = Buffer.from(secret.data?.kv ?? "", "base64").toString("utf8");
  assert.ok(kv.includes(seeded.kvPassword), "kv file holds the KV secret");

  await stack.core.deleteNamespacedPod({ namespace: "default", name: "scan-1" });
  await waitFor("scan pod revoked", async () => !(await lk.runtime.deps.index.has(pod.metadata?.uid ?? "")));

  const secrets = [c.password, seeded.kvPassword, podToken?.id ?? "", seeded.controllerToken, stack.vault.rootToken];
  const events = JSON.stringify((await stack.core.listEventForAllNamespaces({})).items);
  const metrics = await lk.runtime.metrics.registry.metrics();
  const redis = await redisDump(stack.redis.url);
  const logs = lk.logs.join("");
  assert.ok(logs.length > 0 && redis.length > 0 && events.length > 2);
  for (const value of secrets) {
    assert.ok(value.length >= 8, "scan value is meaningful");
    for (const [where, text] of [["logs", logs], ["redis", redis], ["events", events], ["metrics", metrics]] as const) {
      assert.not.ok(text.includes(value), `a secret value leaked into ${where}`);
    }
  }
});

e2e.run();
