import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Redis } from "ioredis";
import type { V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, randomIndexKey, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, eventsToken, opted, roleExists, startLeasekeeper, waitFor } from "./harness.ts";

/** Missed events are harmless: the reconciler repairs what happened while leasekeeper was away or Redis was lost. */
const recovery = suite<{ stack: Stack; seeded: Seeded }>("recovery");

recovery.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
});

recovery.after(async (ctx) => {
  await ctx.stack?.close();
});

const secretName = (pod: string) => `${pod}-leasekeeper`;
async function readSecret(stack: Stack, pod: string): Promise<V1Secret | undefined> {
  return stack.core.readNamespacedSecret({ namespace: "default", name: secretName(pod) }).catch(() => undefined);
}
function credsOf(secret: V1Secret): { username: string; password: string } {
  return JSON.parse(Buffer.from(secret.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
    username: string;
    password: string;
  };
}

recovery(
  "stopped while pods come and go: orphans revoked, missing credentials issued at start",
  async ({ stack, seeded }) => {
    const key = randomIndexKey();
    let lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_INDEX_KEY: key });
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("stay") });
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("leave") });
    const stay = credsOf(await waitFor("stay Secret", () => readSecret(stack, "stay")));
    const leave = credsOf(await waitFor("leave Secret", () => readSecret(stack, "leave")));
    await lk.stop();

    // While leasekeeper is down: one pod is force-deleted (the GC deletes its Secret, which the
    // leasekeeper.io/revoke finalizer holds, marked), one is created.
    stack.kube.control.forceDeletePod("default", "leave");
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("arrive") });
    await waitFor("leave's Secret marked for deletion", async () =>
      Boolean((await readSecret(stack, "leave"))?.metadata?.deletionTimestamp),
    );
    assert.ok(await roleExists(stack, leave.username), "the orphan still exists while leasekeeper is down");

    lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_INDEX_KEY: key });
    try {
      await waitFor("orphan role dropped", async () => !(await roleExists(stack, leave.username)));
      await waitFor("leave's Secret released and gone", async () => (await readSecret(stack, "leave")) === undefined);
      const arrive = credsOf(await waitFor("arrive Secret", () => readSecret(stack, "arrive")));
      assert.ok(await canLogin(stack, arrive));
      assert.ok(await canLogin(stack, stay), "the pod that stayed keeps its credentials");
      assert.is(credsOf((await readSecret(stack, "stay")) as V1Secret).username, stay.username, "no needless re-issue");
    } finally {
      await lk.stop();
      for (const name of ["stay", "arrive"]) stack.kube.control.forceDeletePod("default", name);
    }
  },
);

recovery(
  "Redis flushed while pods live: index rebuilt from the Secrets, old credentials retired, no orphan",
  async ({ stack, seeded }) => {
    const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_ROTATION_GRACE_SECONDS: "1" });
    try {
      for (const name of ["r1", "r2"])
        await stack.core.createNamespacedPod({ namespace: "default", body: opted(name) });
      const before = await Promise.all(
        ["r1", "r2"].map(async (n) => credsOf(await waitFor(`${n} Secret`, () => readSecret(stack, n)))),
      );
      const uids = await Promise.all(
        ["r1", "r2"].map(
          async (n) => (await stack.core.readNamespacedPod({ namespace: "default", name: n })).metadata?.uid ?? "",
        ),
      );

      const redis = new Redis(stack.redis.url);
      await redis.flushall();
      redis.disconnect();
      await lk.runtime.reconcileNow();

      for (const uid of uids)
        await waitFor("index rebuilt", async () => (await lk.runtime.deps.index.get(uid))?.state === "issued");
      const after = await Promise.all(["r1", "r2"].map(async (n) => credsOf((await readSecret(stack, n)) as V1Secret)));
      for (const [i, creds] of after.entries()) {
        assert.ok(await canLogin(stack, creds), "fresh credentials work");
        const old = before[i];
        if (old && old.username !== creds.username) {
          await waitFor(
            `old role ${old.username} retired`,
            async () => !(await roleExists(stack, old.username)),
            10_000,
          );
        }
      }
      // Every lease Vault still holds belongs to a live pod's current Secret: nothing orphaned.
      const current = new Set<string>();
      for (const n of ["r1", "r2"]) {
        const s = await readSecret(stack, n);
        for (const l of JSON.parse(s?.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]") as Array<{
          id: string;
        }>)
          current.add(l.id);
      }
      await waitFor(
        "only current leases alive",
        async () =>
          stack.vault.control
            .leases()
            .filter((l) => !l.revoked)
            .every((l) => current.has(l.id)),
        10_000,
      );

      // Deleting them now still revokes everything (the rebuilt index holds the new accessors).
      for (const n of ["r1", "r2"]) await stack.core.deleteNamespacedPod({ namespace: "default", name: n });
      await waitFor("all leases revoked", async () => stack.vault.control.leases().every((l) => l.revoked), 10_000);
    } finally {
      await lk.stop();
    }
  },
);

recovery(
  "Redis flushed, then a pod event arrives before the reconciler: re-issued over the existing Secret, old credentials retired",
  async ({ stack, seeded }) => {
    const lk = await startLeasekeeper(stack, seeded, {
      LEASEKEEPER_ROTATION_GRACE_SECONDS: "1",
      LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600",
    });
    try {
      const pod = await stack.core.createNamespacedPod({ namespace: "default", body: opted("ev1") });
      const old = credsOf(await waitFor("ev1 Secret", () => readSecret(stack, "ev1")));
      const redis = new Redis(stack.redis.url);
      await redis.flushall();
      redis.disconnect();
      // Events for a pod within 2 s of its issue enqueue collapse in the router; this one comes later.
      await new Promise((r) => setTimeout(r, 2500));
      const res = await fetch(`${lk.runtime.httpUrl}/v1/events/kubernetes`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${eventsToken(stack)}`,
          "content-type": "application/json",
          "ce-specversion": "1.0",
          "ce-id": "r-1",
          "ce-source": "test",
          "ce-type": "dev.knative.apiserver.resource.update",
        },
        body: JSON.stringify({ ...pod, apiVersion: "v1", kind: "Pod" }),
      });
      assert.is(res.status, 202);
      const fresh = await waitFor("new credentials in the same Secret", async () => {
        const s = await readSecret(stack, "ev1");
        const c = s ? credsOf(s) : undefined;
        return c && c.username !== old.username ? c : undefined;
      });
      assert.ok(await canLogin(stack, fresh));
      await waitFor("old role retired", async () => !(await roleExists(stack, old.username)), 10_000);
      await stack.core.deleteNamespacedPod({ namespace: "default", name: "ev1" });
      await waitFor("revoked", async () => !(await roleExists(stack, fresh.username)));
    } finally {
      await lk.stop();
    }
  },
);

recovery(
  "Redis lost and the pod deleted before any reconcile: the finalizer keeps the Secret until its credentials are revoked",
  async ({ stack, seeded }) => {
    const env = { LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" };
    let lk = await startLeasekeeper(stack, seeded, env);
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("lost") });
    const issued = await waitFor("lost Secret", () => readSecret(stack, "lost"));
    const creds = credsOf(issued);
    const accessor = issued.metadata?.annotations?.["leasekeeper.io/token-accessor"] ?? "";
    assert.equal(issued.metadata?.finalizers, ["leasekeeper.io/revoke"]);
    await lk.stop();

    // Redis loses everything; the pod goes at once: no index record, no DELETED event ever handled.
    const redis = new Redis(stack.redis.url);
    await redis.flushall();
    redis.disconnect();
    stack.kube.control.forceDeletePod("default", "lost");
    await waitFor("the GC's deletion holds on the finalizer", async () =>
      Boolean((await readSecret(stack, "lost"))?.metadata?.deletionTimestamp),
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(await readSecret(stack, "lost"), "the Secret outlives the pod while nothing has revoked");
    assert.ok(await canLogin(stack, creds), "not revoked yet: leasekeeper is down");

    lk = await startLeasekeeper(stack, seeded, env);
    try {
      // The start-up reconcile pass finds the Secret pending deletion with its pod gone.
      await waitFor("role dropped", async () => !(await roleExists(stack, creds.username)), 15_000);
      assert.not.ok(await canLogin(stack, creds));
      const token = stack.vault.control.tokens().find((t) => t.accessor === accessor);
      assert.ok(token?.revoked, "the pod token is revoked");
      await waitFor("Secret released and gone", async () => (await readSecret(stack, "lost")) === undefined);
    } finally {
      await lk.stop();
    }
  },
);

recovery.run();
