import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { V1Secret } from "@kubernetes/client-node";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { canLogin, opted, roleExists, startLeasekeeper, waitFor, type Harness } from "./harness.ts";

/**
 * Faults against short TTLs (database lease and pod token 30 s, rotation grace 10 s): a Vault
 * answering 502 to renewals, an API server answering 503, a lookup-accessor answering 503. The
 * renewal retries before the expiry and the lease never lapses; renewal goes on without the API
 * server; a revoke does not wait on lookups to drop the database user.
 */
const faults = suite<{ stack: Stack; seeded: Seeded; lk: Harness }>("faults against the expiry deadline");

const TTL_MS = 30_000;

faults.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack, {
    dbDefaultTtl: "30s",
    dbMaxTtl: "1h",
    tokenTtl: "30s",
    tokenMaxTtl: "1h",
  });
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, {
    LEASEKEEPER_ROTATION_GRACE_SECONDS: "10",
    LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600",
  });
});

faults.after(async (ctx) => {
  ctx.stack?.vault.control.clearFaults();
  ctx.stack?.kube.control.clearFailures();
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

const readSecret = (stack: Stack, pod: string): Promise<V1Secret | undefined> =>
  stack.core.readNamespacedSecret({ namespace: "default", name: `${pod}-leasekeeper` }).catch(() => undefined);
const credsOf = (s: V1Secret) =>
  JSON.parse(Buffer.from(s.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
    username: string;
    password: string;
  };
const leaseIdOf = (s: V1Secret) =>
  (JSON.parse(s.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]") as Array<{ id: string }>)[0]?.id ?? "";
const leaseOf = (stack: Stack, id: string) => stack.vault.control.leases().find((l) => l.id === id);
const renewals = (stack: Stack, since: number) =>
  stack.vault.control.requests().filter((r) => r.path === "sys/leases/renew" && r.at >= since);

async function issued(stack: Stack, name: string): Promise<{ secret: V1Secret; leaseId: string }> {
  await stack.core.createNamespacedPod({ namespace: "default", body: opted(name) });
  const secret = await waitFor(`${name} Secret`, () => readSecret(stack, name));
  return { secret, leaseId: leaseIdOf(secret) };
}

faults(
  "Vault answers 502 to five lease renewals in a row: retried before the expiry, the lease never lapses",
  async ({ stack }) => {
    const { secret, leaseId } = await issued(stack, "bad-gateway");
    const since = Date.now();
    stack.vault.control.failNext("sys/leases/renew", 5, 502, "bad gateway");
    let alive = true;
    const ok = await waitFor(
      "a renewal that got through",
      async () => {
        const lease = leaseOf(stack, leaseId);
        if (!lease || lease.revoked || lease.expireTime.getTime() <= Date.now()) alive = false;
        return renewals(stack, since).find((r) => r.status === 200);
      },
      TTL_MS + 5000,
      100,
    );
    const failed = renewals(stack, since).filter((r) => r.status === 502);
    assert.is(failed.length, 5, "five renewals answered 502");
    assert.ok(alive, "the lease never expired meanwhile");
    const lease = leaseOf(stack, leaseId);
    assert.ok(lease && lease.expireTime.getTime() - ok.at >= TTL_MS - 1000, "the same lease, renewed for a full TTL");
    assert.ok(await canLogin(stack, credsOf(secret)), "the pod's database user still works");
    await stack.core.deleteNamespacedPod({ namespace: "default", name: "bad-gateway" });
  },
);

faults("the API server answers 503 to every pod read: token and lease are renewed anyway", async ({ stack }) => {
  const { secret, leaseId } = await issued(stack, "kube-down");
  const since = Date.now();
  const mark = stack.kube.control.requests.length;
  stack.kube.control.failNext({ method: "GET", pathPattern: /\/pods\/kube-down$/, status: 503, count: 1000 });
  try {
    const ok = await waitFor(
      "a lease renewal",
      async () => renewals(stack, since).find((r) => r.status === 200),
      TTL_MS,
      100,
    );
    // With the watcher in this process the renew job takes the pod from the watch cache and needs
    // no read at all; a worker without it (split deployment) reads the API server and renews from
    // the index when that fails (test/workers/renew-deadline.test.ts). Either way no pod GET succeeded.
    const served = stack.kube.control.requests
      .slice(mark)
      .filter((r) => r.path.endsWith("/pods/kube-down") && r.method === "GET" && r.status === 200);
    assert.equal(served, [], "no pod read got through");
    const lease = leaseOf(stack, leaseId);
    assert.ok(lease && !lease.revoked && lease.expireTime.getTime() - ok.at >= TTL_MS - 1000, "renewed in full");
    assert.ok(
      stack.vault.control
        .requests()
        .some((r) => r.path === "auth/token/renew-self" && r.status === 200 && r.at >= since),
      "and the pod token",
    );
    assert.ok(await canLogin(stack, credsOf(secret)));
  } finally {
    stack.kube.control.clearFailures();
  }
  await stack.core.deleteNamespacedPod({ namespace: "default", name: "kube-down" });
});

faults("lookup-accessor answers 503: the pod's database user is dropped at once by the revoke", async ({ stack }) => {
  const { secret, leaseId } = await issued(stack, "lookup-down");
  const { username } = credsOf(secret);
  assert.ok(await roleExists(stack, username));
  stack.vault.control.failNext("auth/token/lookup-accessor", 6, 503, "upstream unavailable");
  try {
    await stack.core.deleteNamespacedPod({ namespace: "default", name: "lookup-down" });
    await waitFor(
      "the Secret deleted by the revoke",
      async () => (await readSecret(stack, "lookup-down")) === undefined,
    );
    assert.not.ok(await roleExists(stack, username), "the database user is gone when the revoke is done");
    const lease = leaseOf(stack, leaseId);
    assert.ok(lease?.revokedAt && lease.revokedAt < lease.expireTime, "revoked, long before its TTL would end");
  } finally {
    stack.vault.control.clearFaults();
  }
});

faults.run();
