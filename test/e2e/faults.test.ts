import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import vault from "node-vault";
import { canLogin, eventsToken, opted, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

const faults = suite<{ stack: Stack; seeded: Seeded; lk: Harness }>("faults");

faults.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, { LEASEKEEPER_WATCH_STALL_SECONDS: "5" });
});

faults.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

async function readSecret(stack: Stack, pod: string): Promise<V1Secret | undefined> {
  return stack.core.readNamespacedSecret({ namespace: "default", name: `${pod}-leasekeeper` }).catch(() => undefined);
}
const credsOf = (s: V1Secret) =>
  JSON.parse(Buffer.from(s.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
    username: string;
    password: string;
  };
const rootVault = (stack: Stack) =>
  vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
async function events(stack: Stack, uid: string) {
  return (await stack.core.listNamespacedEvent({ namespace: "default", fieldSelector: `involvedObject.uid=${uid}` }))
    .items;
}

faults("Vault sealed for a while: the issue job waits, then completes once unsealed", async ({ stack }) => {
  stack.vault.control.seal();
  await stack.core.createNamespacedPod({ namespace: "default", body: opted("sealed-1") });
  await new Promise((r) => setTimeout(r, 1500));
  assert.is(await readSecret(stack, "sealed-1"), undefined, "nothing issued while sealed");
  const loginsWhileSealed = stack.vault.control
    .requests()
    .filter((r) => r.path.startsWith("auth/kubernetes/login")).length;
  stack.vault.control.unseal();
  const secret = await waitFor("Secret after unseal", () => readSecret(stack, "sealed-1"), 10_000);
  assert.ok(await canLogin(stack, credsOf(secret)));
  assert.ok(loginsWhileSealed <= 10, `bounded polling while sealed (${loginsWhileSealed} login attempts)`);
  await stack.core.deleteNamespacedPod({ namespace: "default", name: "sealed-1" });
});

faults(
  "unknown role -> IssueFailed, a slow backoff (no storm); once the role exists in Vault the same pod is issued",
  async ({ stack, lk }) => {
    const pod = await stack.core.createNamespacedPod({
      namespace: "default",
      body: opted("badrole", { "leasekeeper.io/role": "late-role" }),
    });
    const uid = pod.metadata?.uid ?? "";
    await waitFor("IssueFailed", async () => (await events(stack, uid)).some((e) => e.reason === "IssueFailed"));
    await new Promise((r) => setTimeout(r, 1500));
    const refused = () =>
      stack.vault.control.requests().filter((r) => r.path === "auth/kubernetes/login" && r.status === 400).length;
    assert.ok(refused() <= 2, `no retry storm (${refused()} refused logins)`);
    const failed = (await events(stack, uid)).find((e) => e.reason === "IssueFailed");
    assert.match(failed?.message ?? "", /invalid role name/);
    // Not failed for good: the job waits, and says why.
    const job = await lk.runtime.deps.producer.queues.issue.getJob(`issue-${uid}`);
    assert.is(await job?.getState(), "delayed");
    assert.match(JSON.stringify(job?.progress), /"reason":"VaultInvalidRole"/);

    // The platform team creates the role (as setup.sh does for postgres): no pod is recreated.
    await rootVault(stack).write("auth/kubernetes/role/late-role", {
      bound_service_account_names: "postgres-vault",
      bound_service_account_namespaces: "default",
      token_policies: "postgres-app",
      audience: "vault",
    });
    const secret = await waitFor("Secret once the role exists", () => readSecret(stack, "badrole"), 30_000);
    assert.ok(await canLogin(stack, credsOf(secret)), "the credentials work");
    const now = await stack.core.readNamespacedPod({ namespace: "default", name: "badrole" });
    assert.is(now.metadata?.uid, uid, "the same pod");
    await stack.core.deleteNamespacedPod({ namespace: "default", name: "badrole" });
    await waitFor("badrole revoked", async () => !(await lk.runtime.deps.index.has(uid)), 15_000);
  },
);

faults(
  "the Kubernetes API fails TokenReview (503) while pods start: Vault's 403 is no verdict; all are issued after it",
  async ({ stack, lk }) => {
    // Vault's login calls TokenReview on the API server; while that answers 503, Vault answers 403.
    stack.kube.control.failNext({ method: "POST", pathPattern: "tokenreviews", status: 503, count: 1_000_000 });
    const names = ["kfault-1", "kfault-2", "kfault-3"];
    const uids = new Map<string, string>();
    try {
      for (const name of names) {
        const pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted(name) });
        uids.set(name, pod.metadata?.uid ?? "");
      }
      await waitFor(
        "logins refused during the fault",
        async () =>
          stack.vault.control.requests().filter((r) => r.path === "auth/kubernetes/login" && r.status === 403).length >=
          names.length,
      );
      await new Promise((r) => setTimeout(r, 2000));
      for (const name of names) assert.is(await readSecret(stack, name), undefined, `${name}: nothing while failing`);
    } finally {
      stack.kube.control.clearFailures();
    }
    const faultEnded = Date.now();
    for (const name of names) {
      const secret = await waitFor(`${name} Secret after the fault`, () => readSecret(stack, name), 30_000);
      assert.ok(await canLogin(stack, credsOf(secret)), `${name}: the credentials work`);
      const pod = await stack.core.readNamespacedPod({ namespace: "default", name });
      assert.is(pod.metadata?.uid, uids.get(name), `${name}: the same pod, not recreated`);
      const issueFailed = (await events(stack, uids.get(name) ?? "")).filter((e) => e.reason === "IssueFailed");
      assert.is(issueFailed.length, 0, `${name}: the 403 was not blamed on the pod (${issueFailed[0]?.message})`);
    }
    const tookMs = Date.now() - faultEnded;
    assert.ok(tookMs < 30_000, `issued within the bound after the fault (${tookMs} ms)`);
    for (const name of names) await stack.core.deleteNamespacedPod({ namespace: "default", name });
    await waitFor(
      "kfault pods revoked",
      async () => {
        for (const uid of uids.values()) if (await lk.runtime.deps.index.has(uid)) return false;
        return true;
      },
      15_000,
    );
  },
);

faults(
  "a path the pod's policy does not allow -> IssueFailed (403), nothing left behind, retried later",
  async ({ stack, lk }) => {
    const pod = await stack.core.createNamespacedPod({
      namespace: "default",
      body: opted("denied", { "leasekeeper.io/secret-creds.json": "database/creds/other-role" }),
    });
    const uid = pod.metadata?.uid ?? "";
    await waitFor("IssueFailed", async () => (await events(stack, uid)).some((e) => e.reason === "IssueFailed"));
    const failed = (await events(stack, uid)).find((e) => e.reason === "IssueFailed");
    assert.match(failed?.message ?? "", /permission denied/);
    assert.not.ok(await lk.runtime.deps.index.has(uid), "no index entry for a failed issue");
    // The token it logged in with was revoked: every live pod token belongs to an indexed pod.
    const indexed = new Set((await lk.runtime.deps.index.all()).map((r) => r.accessor));
    const stray = stack.vault.control
      .tokens()
      .filter((t) => !t.revoked && t.role === "postgres" && !indexed.has(t.accessor));
    assert.is(stray.length, 0, "no stray pod token");
    // Not failed for good: it waits on a backoff until the policy allows the path or the pod changes.
    assert.is(await (await lk.runtime.deps.producer.queues.issue.getJob(`issue-${uid}`))?.getState(), "delayed");
    await stack.core.deleteNamespacedPod({ namespace: "default", name: "denied" });
    await waitFor("denied pod gone", async () =>
      (await stack.core.listNamespacedPod({ namespace: "default" })).items.every((p) => p.metadata?.name !== "denied"),
    );
  },
);

faults(
  "watch dropped, history compacted (410), duplicate events: exactly one credential set per pod",
  async ({ stack, lk }) => {
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("w1") });
    await waitFor("w1 Secret", () => readSecret(stack, "w1"));
    stack.kube.control.dropWatches();
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("w2") });
    stack.kube.control.compact();
    stack.kube.control.dropWatches({ clean: true });
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("w3") });
    for (const n of ["w2", "w3"]) await waitFor(`${n} Secret`, () => readSecret(stack, n), 15_000);

    // Duplicate and out-of-order deliveries through the CloudEvents endpoint change nothing.
    const w1 = await stack.core.readNamespacedPod({ namespace: "default", name: "w1" });
    const token = eventsToken(stack);
    const send = (type: string) =>
      fetch(`${lk.runtime.httpUrl}/v1/events/kubernetes`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "ce-specversion": "1.0",
          "ce-id": crypto.randomUUID(),
          "ce-source": "test",
          "ce-type": `dev.knative.apiserver.resource.${type}`,
        },
        body: JSON.stringify({ ...w1, apiVersion: "v1", kind: "Pod" }),
      });
    for (const type of ["update", "add", "add", "update"]) assert.is((await send(type)).status, 202);
    await new Promise((r) => setTimeout(r, 1000));
    for (const n of ["w1", "w2", "w3"]) {
      const uid = (await stack.core.readNamespacedPod({ namespace: "default", name: n })).metadata?.uid ?? "";
      const record = await lk.runtime.deps.index.get(uid);
      assert.ok(record, `${n} indexed`);
      const liveLeases = stack.vault.control.leases().filter((l) => !l.revoked && l.tokenAccessor === record?.accessor);
      assert.is(liveLeases.length, 1, `${n} has exactly one live lease`);
    }
    const liveTokens = stack.vault.control.tokens().filter((t) => !t.revoked && t.role === "postgres");
    assert.is(liveTokens.length, 3, "exactly one live Vault token per pod");
    for (const n of ["w1", "w2", "w3"]) await stack.core.deleteNamespacedPod({ namespace: "default", name: n });
    await waitFor("all revoked", async () => stack.vault.control.leases().every((l) => l.revoked), 15_000);
  },
);

faults.run();
