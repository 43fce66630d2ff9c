import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { CoreV1Event, V1Pod, V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, opted, redisDump, roleExists, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

const e2e = suite<{ stack: Stack; seeded: Seeded; lk: Harness }>("lifecycle");

e2e.before(async (ctx) => {
  // kubectl reaches the plain-http emulator without credentials (client-go sends none over http).
  ctx.stack = await startStack({ podGraceSeconds: 0, kubeAnonymous: true });
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

/** `kubectl get events` as a user would run it (the real kubectl, from PATH; async: the emulator runs in this process). */
async function kubectlEvents(stack: Stack, namespace: string): Promise<string> {
  return (
    await promisify(execFile)(
      "kubectl",
      [
        "--kubeconfig",
        stack.kubeconfigPath,
        "get",
        "events",
        "-n",
        namespace,
        "-o",
        "custom-columns=OBJECT:.involvedObject.kind,NAME:.involvedObject.name,REASON:.reason,MESSAGE:.message",
      ],
      { encoding: "utf8", timeout: 20_000 },
    )
  ).stdout;
}

async function revokedEvents(stack: Stack, namespace: string): Promise<CoreV1Event[]> {
  return (await stack.core.listNamespacedEvent({ namespace })).items.filter((e) => e.reason === "CredentialsRevoked");
}

function creds(secret: V1Secret): { username: string; password: string } {
  const raw = Buffer.from(secret.data?.["creds.json"] ?? "", "base64").toString("utf8");
  return JSON.parse(raw) as { username: string; password: string };
}

e2e(
  "create -> Secret with a working password; delete -> role dropped, lease and token revoked, Secret gone",
  async ({ stack, lk }) => {
    const pod: V1Pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted("app-1") });
    const uid = pod.metadata?.uid ?? "";
    const secret = await waitFor("the pod's Secret", () => secretOf(stack, "app-1"));
    assert.is(secret.metadata?.labels?.["leasekeeper.io/pod-uid"], uid);
    assert.equal(
      secret.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid]),
      [["Pod", "app-1", uid]],
    );
    const accessor = secret.metadata?.annotations?.["leasekeeper.io/token-accessor"] ?? "";
    const leaseIds = (
      JSON.parse(secret.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]") as Array<{ id: string }>
    ).map((l) => l.id);
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

    const events = await stack.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.uid=${uid}`,
    });
    assert.ok(
      events.items.some((e) => e.reason === "CredentialsIssued"),
      "CredentialsIssued event",
    );

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

    // The pod is gone, so the Event is on its namespace and names the pod; kubectl shows it.
    const revoked = await waitFor("a CredentialsRevoked Event", async () =>
      (await revokedEvents(stack, "default")).find((e) => e.message?.includes("app-1")),
    );
    assert.equal(
      [revoked.involvedObject.kind, revoked.involvedObject.name, revoked.type],
      ["Namespace", "default", "Normal"],
    );
    assert.match(
      revoked.message ?? "",
      new RegExp(
        `^Revoked 1 lease\\(s\\) and the Vault token of pod app-1 \\(uid ${uid}\\), which is gone \\(pod deleted\\)$`,
      ),
    );
    assert.match(
      await kubectlEvents(stack, "default"),
      /Namespace\s+default\s+CredentialsRevoked\s+Revoked 1 lease\(s\) and the Vault token of pod app-1 /,
    );
  },
);

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
  // The pod still exists: the Event is on the pod.
  const events = await stack.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.uid=${uid}`,
  });
  const revoked = events.items.find((e) => e.reason === "CredentialsRevoked");
  assert.is(revoked?.involvedObject.kind, "Pod");
  assert.is(revoked?.message, "Revoked 1 lease(s) and the Vault token of the pod (pod Succeeded)");
  assert.match(
    await kubectlEvents(stack, "default"),
    /Pod\s+job-1\s+CredentialsRevoked\s+Revoked 1 lease\(s\) and the Vault token of the pod/,
  );
});

e2e("a KV v2 secret named without data/ fails with IssueFailed naming the data/ path", async ({ stack }) => {
  const pod = await stack.core.createNamespacedPod({
    namespace: "default",
    body: opted("kv-1", { "leasekeeper.io/secret-creds.json": "secret/db-pass" }),
  });
  const failed = await waitFor("IssueFailed", async () =>
    (
      await stack.core.listNamespacedEvent({
        namespace: "default",
        fieldSelector: `involvedObject.uid=${pod.metadata?.uid}`,
      })
    ).items.find((e) => e.reason === "IssueFailed"),
  );
  assert.is(failed.type, "Warning");
  assert.match(
    failed.message ?? "",
    /^VaultPermissionDenied: vault: read secret\/db-pass: permission denied .*; if secret\/ is a KV v2 mount, read secret\/data\/db-pass /,
  );
  await stack.core.deleteNamespacedPod({ namespace: "default", name: "kv-1" });
});

e2e("a pod that is not opted in gets nothing", async ({ stack, lk }) => {
  const plain = await stack.core.createNamespacedPod({
    namespace: "default",
    body: {
      metadata: { name: "plain" },
      spec: { serviceAccountName: "postgres-vault", containers: [{ name: "a", image: "busybox" }] },
    },
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.is(await secretOf(stack, "plain"), undefined);
  assert.not.ok(await lk.runtime.deps.index.has(plain.metadata?.uid ?? ""));
});

e2e("no secret value in logs, Redis (jobs, results, index), Events or metrics", async ({ stack, seeded, lk }) => {
  const pod = await stack.core.createNamespacedPod({
    namespace: "default",
    body: opted("scan-1", { "leasekeeper.io/secret-kv": "secret/data/db-pass" }),
  });
  const secret = await waitFor("scan pod Secret", () => secretOf(stack, "scan-1"));
  const c = creds(secret);
  const podToken = stack.vault.control
    .tokens()
    .find((t) => t.accessor === secret.metadata?.annotations?.["leasekeeper.io/token-accessor"]);
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
    for (const [where, text] of [
      ["logs", logs],
      ["redis", redis],
      ["events", events],
      ["metrics", metrics],
    ] as const) {
      assert.not.ok(text.includes(value), `a secret value leaked into ${where}`);
    }
  }
});

e2e.run();
