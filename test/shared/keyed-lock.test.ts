import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { KeyedLock } from "../../shared/index/keyed-lock.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";

const lock = suite<{ server: RedisServer; redis: Redis }>("keyed lock");
lock.before(async (ctx) => {
  ctx.server = await startRedis();
  ctx.redis = new Redis(ctx.server.url);
});
lock.after(async (ctx) => {
  ctx.redis?.disconnect();
  await ctx.server?.stop();
});

lock("a second holder is refused while the first runs, even past the lock's TTL", async ({ redis }) => {
  const prefix = `{t-${randomUUID().slice(0, 6)}}`;
  const a = new KeyedLock(redis, prefix, 300);
  const b = new KeyedLock(redis, prefix, 300);
  let secondGot: boolean | undefined;
  const first = a.run("uid-1", async () => {
    await new Promise((r) => setTimeout(r, 1000)); // more than three TTLs
    secondGot = (await b.run("uid-1", async () => "x")).locked;
    return "done";
  });
  assert.equal(await first, { locked: true, value: "done" });
  assert.is(secondGot, false, "the lock was kept alive while its holder worked");
  assert.equal(await b.run("uid-1", async () => "after"), { locked: true, value: "after" }, "released at the end");
});

lock("a holder that stops extending loses the lock after the TTL", async ({ redis }) => {
  const prefix = `{t-${randomUUID().slice(0, 6)}}`;
  await redis.set(`${prefix}:lock:uid-2`, "someone-dead", "PX", 200);
  const l = new KeyedLock(redis, prefix, 200);
  assert.is((await l.run("uid-2", async () => 1)).locked, false);
  await new Promise((r) => setTimeout(r, 300));
  assert.is((await l.run("uid-2", async () => 1)).locked, true);
});

lock.run();
