import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Redis } from "ioredis";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { startRedisCluster, startSentinel } from "../helpers/redis-topologies.ts";
import { opted, roleExists, startLeasekeeper, waitFor } from "./harness.ts";

/** leasekeeper against Redis behind Sentinel and against a Redis Cluster: issue and revoke work, keys land where expected. */
const topo = suite<{ stack: Stack; seeded: Seeded }>("redis topologies");

topo.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
});
topo.after(async (ctx) => {
  await ctx.stack?.close();
});

async function lifecycle(stack: Stack, name: string): Promise<void> {
  await stack.core.createNamespacedPod({ namespace: "default", body: opted(name) });
  const secret = await waitFor(`${name} Secret`, () =>
    stack.core.readNamespacedSecret({ namespace: "default", name: `${name}-leasekeeper` }).catch(() => undefined),
  );
  const creds = JSON.parse(Buffer.from(secret.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
    username: string;
  };
  await stack.core.deleteNamespacedPod({ namespace: "default", name });
  await waitFor(`${name} revoked`, async () => !(await roleExists(stack, creds.username)));
}

topo("Sentinel: the master is discovered through the Sentinel", async ({ stack, seeded }) => {
  const sentinel = await startSentinel(stack.redis.port, "lkmaster");
  const lk = await startLeasekeeper(stack, seeded, {
    LEASEKEEPER_REDIS_URL: "redis://unused.invalid:6379",
    LEASEKEEPER_REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`,
    LEASEKEEPER_REDIS_SENTINEL_NAME: "lkmaster",
  });
  try {
    await lifecycle(stack, "sentinel-1");
    const master = new Redis(stack.redis.url);
    const queueKeys = await master.keys("{leasekeeper}:issue:*");
    master.disconnect();
    assert.ok(queueKeys.length > 0, "BullMQ wrote to the master the Sentinel named");
  } finally {
    await lk.stop();
    await sentinel.stop();
  }
});

topo("Cluster: queues and the pod index share the {leasekeeper} slot", async ({ stack, seeded }) => {
  const cluster = await startRedisCluster();
  const lk = await startLeasekeeper(stack, seeded, {
    LEASEKEEPER_REDIS_URL: "redis://unused.invalid:6379",
    LEASEKEEPER_REDIS_CLUSTER_NODES: `127.0.0.1:${cluster.port}`,
  });
  try {
    await lifecycle(stack, "cluster-1");
    const node = new Redis(cluster.port);
    const keys = await node.keys("*");
    const slots = new Set(await Promise.all(keys.map(async (k) => Number(await node.call("CLUSTER", "KEYSLOT", k)))));
    node.disconnect();
    assert.ok(
      keys.some((k) => k.startsWith("{leasekeeper}:index:")),
      "index written to the cluster",
    );
    assert.is(slots.size, 1, "every key in one hash slot");
  } finally {
    await lk.stop();
    await cluster.stop();
  }
});

topo.run();
