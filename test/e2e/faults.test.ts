import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
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

faults("unknown role -> IssueFailed once, no retry storm", async ({ stack }) => {
  const pod = await stack.core.createNamespacedPod({
    namespace: "default",
    body: opted("badrole", { "leasekeeper.io/role": "nope" }),
  });
  const uid = pod.metadata?.uid ?? "";
  await waitFor("IssueFailed", async () => (await events(stack, uid)).some((e) => e.reason === "IssueFailed"));
  await new Promise((r) => setTimeout(r, 1500));
  const logins = stack.vault.control
    .requests()
    .filter((r) => r.path === "auth/kubernetes/login" && r.status === 400).length;
  assert.ok(logins <= 2, `no retry storm (${logins} refused logins)`);
  const failed = (await events(stack, uid)).find((e) => e.reason === "IssueFailed");
  assert.match(failed?.message ?? "", /invalid role name/);
});

faults("a path the pod's policy does not allow -> IssueFailed (403), nothing left behind", async ({ stack, lk }) => {
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
});

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
