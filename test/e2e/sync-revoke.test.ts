import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Redis } from "ioredis";
import vault from "node-vault";
import type { V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, opted, roleExists, startLeasekeeper, waitFor } from "./harness.ts";

/**
 * Revoking a token revokes its leases only lazily (Vault's expiration manager gets to them
 * later); sys/leases/revoke with sync is synchronous. leasekeeper keeps every lease id where a
 * revoke can use it — in the index as soon as Vault created the lease, and in the Secret's
 * annotations with a tag only it can make — so revocation is synchronous even after a Redis loss
 * or a crash between reading a secret and writing the Secret. The emulator shows the difference:
 * a synchronous revoke leaves the lease's expiry as it was, a lazy one moves it to "now".
 */
const sync = suite<{ stack: Stack; seeded: Seeded }>("synchronous revocation");

sync.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
});
sync.after(async (ctx) => {
  await ctx.stack?.close();
});

const read = (stack: Stack, pod: string) =>
  stack.core.readNamespacedSecret({ namespace: "default", name: `${pod}-leasekeeper` }).catch(() => undefined);
const credsOf = (s: V1Secret) =>
  JSON.parse(Buffer.from(s.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
    username: string;
    password: string;
  };
const leaseIdsOf = (s: V1Secret) =>
  JSON.parse(s.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]") as Array<{ id: string; tag?: string }>;
/** Revoked by sys/leases/revoke (its expiry untouched), not lazily with its token (expiry moved to the revocation). */
const revokedSynchronously = (stack: Stack, id: string) => {
  const lease = stack.vault.control.leases().find((l) => l.id === id);
  return lease !== undefined && lease.revokedAt !== null && lease.revokedAt.getTime() < lease.expireTime.getTime();
};

sync(
  "Redis lost, then the pod succeeds: its leases are revoked synchronously from the Secret's tagged ids",
  async ({ stack, seeded }) => {
    const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" });
    try {
      await stack.core.createNamespacedPod({ namespace: "default", body: opted("done-1") });
      const secret = await waitFor("Secret", () => read(stack, "done-1"));
      const [lease] = leaseIdsOf(secret);
      assert.ok(lease?.tag, "the lease id is tagged in the Secret");
      const redis = new Redis(stack.redis.url);
      await redis.flushall();
      redis.disconnect();
      stack.kube.control.setPodPhase("default", "done-1", "Succeeded");
      await waitFor("Secret deleted by the revoke", async () => (await read(stack, "done-1")) === undefined);
      assert.not.ok(
        await roleExists(stack, credsOf(secret).username),
        "the database user is gone when the revoke is done",
      );
      assert.ok(revokedSynchronously(stack, lease?.id ?? ""), "by sys/leases/revoke, not lazily with the token");
    } finally {
      await lk.stop();
    }
  },
);

sync("a lease id whose tag does not verify is not revoked", async ({ stack, seeded }) => {
  const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" });
  try {
    // Another pod's lease, listed (with a made-up tag, and with the other pod's own tag) in this pod's Secret.
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("other") });
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("forger") });
    const other = await waitFor("other Secret", () => read(stack, "other"));
    const forger = await waitFor("forger Secret", () => read(stack, "forger"));
    const [victim] = leaseIdsOf(other);
    const forged = [...leaseIdsOf(forger), { ...victim, tag: "AAAAAAAAAAAAAAAAAAAAAA" }, { ...victim }];
    forger.metadata = {
      ...forger.metadata,
      annotations: { ...forger.metadata?.annotations, "leasekeeper.io/lease-ids": JSON.stringify(forged) },
    };
    await stack.core.replaceNamespacedSecret({ namespace: "default", name: "forger-leasekeeper", body: forger });
    const redis = new Redis(stack.redis.url);
    await redis.flushall();
    redis.disconnect();
    stack.kube.control.setPodPhase("default", "forger", "Succeeded");
    await waitFor("forger revoked", async () => (await read(stack, "forger")) === undefined);
    assert.ok(await canLogin(stack, credsOf(other)), "the other pod's credentials still work");
    assert.not.ok(stack.vault.control.leases().find((l) => l.id === victim?.id)?.revoked, "its lease was not revoked");
    assert.ok(lk.logs.join("").includes("whose tag does not verify"));
  } finally {
    await lk.stop();
    for (const name of ["other", "forger"]) stack.kube.control.forceDeletePod("default", name);
  }
});

sync(
  "the issue fails between reading a secret and writing the Secret: the retry revokes that lease synchronously",
  async ({ stack, seeded }) => {
    const lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" });
    try {
      const before = new Set(stack.vault.control.leases().map((l) => l.id));
      // The first Secret create fails (as if leasekeeper died right after reading from Vault).
      stack.kube.control.failNext({ method: "POST", pathPattern: "/api/v1/namespaces/default/secrets", status: 500 });
      await stack.core.createNamespacedPod({ namespace: "default", body: opted("crashy") });
      const secret = await waitFor("Secret after the retry", () => read(stack, "crashy"));
      const mine = stack.vault.control.leases().filter((l) => !before.has(l.id));
      assert.is(mine.length, 2, "one lease per attempt");
      const [current] = leaseIdsOf(secret);
      const abandoned = mine.find((l) => l.id !== current?.id);
      assert.ok(
        abandoned && revokedSynchronously(stack, abandoned.id),
        "the first attempt's lease was revoked with sys/leases/revoke",
      );
      assert.ok(await canLogin(stack, credsOf(secret)));
      await stack.core.deleteNamespacedPod({ namespace: "default", name: "crashy" });
      await waitFor("revoked", async () => revokedSynchronously(stack, current?.id ?? ""));
    } finally {
      await lk.stop();
    }
  },
);

sync(
  "measured here: token revoke → database user dropped lazily; sys/leases/revoke → gone on return",
  async ({ stack }) => {
    const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
    const lazy: number[] = [];
    const synchronous: number[] = [];
    let stillThereOnReturn = 0;
    for (let i = 0; i < 10; i++) {
      const child = (await root.write("auth/token/create", { policies: ["postgres-app"], ttl: "10m" })) as {
        auth: { client_token: string; accessor: string };
      };
      const asChild = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: child.auth.client_token });
      const a = (await asChild.read("database/creds/postgres-role")) as { data: { username: string } };
      let started = Date.now();
      await root.write("auth/token/revoke-accessor", { accessor: child.auth.accessor });
      if (await roleExists(stack, a.data.username)) stillThereOnReturn++;
      await waitFor("dropped", async () => !(await roleExists(stack, a.data.username)), 5000, 5);
      lazy.push(Date.now() - started);
      const b = (await asChild.read("database/creds/postgres-role").catch(() => undefined)) as
        { lease_id: string; data: { username: string } } | undefined;
      assert.is(b, undefined, "the revoked token reads nothing");
      const other = (await root.read("database/creds/postgres-role")) as {
        lease_id: string;
        data: { username: string };
      };
      started = Date.now();
      await root.write("sys/leases/revoke", { lease_id: other.lease_id, sync: true });
      synchronous.push(Date.now() - started);
      assert.not.ok(await roleExists(stack, other.data.username), "gone when sys/leases/revoke returns");
    }
    const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
    // How often the user outlives the token revoke call depends on scheduling (vault/expiration.go
    // queues the leases): a figure to report, not a guarantee to assert. What is guaranteed is above:
    // the revoked token reads nothing, the user goes, and sys/leases/revoke returns only once it has.
    console.log(
      `    token revoke → role dropped (lazy): median ${median(lazy)} ms, max ${Math.max(...lazy)} ms, user still there on return ${stillThereOnReturn}/10; sys/leases/revoke sync call: median ${median(synchronous)} ms (user gone on return)`,
    );
  },
);

sync.run();
