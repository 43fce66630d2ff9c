/** The pod index's per-namespace sets: lookups by namespace and name, kept in step by put/delete, small. */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { PodIndex } from "../../shared/index/pod-index.ts";
import { record } from "../functions/http/api-fixture.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";

const t = suite<{ server: RedisServer; redis: Redis }>("pod index by namespace");

t.before(async (ctx) => {
  ctx.server = await startRedis();
  ctx.redis = new Redis(ctx.server.url);
});
t.after(async (ctx) => {
  ctx.redis?.disconnect();
  await ctx.server?.stop();
});

const names = (records: Array<{ name: string }>) => records.map((r) => r.name).sort();

t("delete is one round trip and drops the member of a record in the earlier format too", async ({ redis }) => {
  const prefix = `{t-${randomUUID().slice(0, 6)}}`;
  const index = new PodIndex(redis, prefix);
  const current = record("shop", "api-1");
  await index.put(current);
  // As a format-2 record was stored: the UID, then namespace and name.
  const oldUid = randomUUID();
  await redis.set(`${prefix}:index:pod:${oldUid}`, JSON.stringify([2, oldUid, "shop", "api-0"]));
  await redis.zadd(`${prefix}:index:ns:shop`, 0, `api-0/${oldUid}`);
  const monitor = await redis.monitor();
  const commands: string[] = [];
  monitor.on("monitor", (_time: string, args: string[]) => commands.push(String(args[0]).toLowerCase()));
  await index.delete(oldUid);
  await index.delete(current.uid);
  await index.delete(randomUUID()); // nothing there: nothing to do
  await redis.echo("end");
  for (let i = 0; i < 100 && !commands.includes("echo"); i++) await new Promise((r) => setTimeout(r, 20));
  monitor.disconnect();
  // Commands a script runs show in MONITOR too; the client sent one EVAL per delete.
  assert.equal(
    commands.filter((c) => !["get", "del", "zrem"].includes(c)),
    ["eval", "eval", "eval", "echo"],
  );
  assert.equal(await redis.zrange(`${prefix}:index:ns:shop`, "0", "-1"), []);
  assert.is(await index.get(current.uid), undefined);
});

t("inNamespace and byName see only their pods; delete drops the member in the same step", async ({ redis }) => {
  const index = new PodIndex(redis, `{t-${randomUUID().slice(0, 6)}}`);
  const web = record("shop", "web-1");
  const web10 = record("shop", "web-10");
  const webDash = record("shop", "web-1-a");
  const other = record("other", "web-1");
  for (const r of [web, web10, webDash, other]) await index.put(r);
  assert.equal(names(await index.inNamespace("shop")), ["web-1", "web-1-a", "web-10"]);
  assert.equal(names(await index.inNamespace("nobody")), []);
  assert.equal(
    (await index.byName("shop", "web-1")).map((r) => r.uid),
    [web.uid],
  );
  assert.equal(
    (await index.byName("other", "web-1")).map((r) => r.uid),
    [other.uid],
  );
  assert.equal(await index.byName("shop", "web"), []);
  // A replaced pod: same name, new UID, both held until the old one is revoked.
  const replaced = record("shop", "web-1");
  await index.put(replaced);
  assert.equal((await index.byName("shop", "web-1")).map((r) => r.uid).sort(), [web.uid, replaced.uid].sort());
  await index.put({ ...web, rotations: 3 });
  assert.is((await index.byName("shop", "web-1")).length, 2, "put again keeps one member per pod");
  await index.delete(web.uid);
  assert.equal(
    (await index.byName("shop", "web-1")).map((r) => r.uid),
    [replaced.uid],
  );
  assert.equal(names(await index.inNamespace("shop")), ["web-1", "web-1-a", "web-10"]);
  await index.delete("no-such-uid");
  assert.is((await index.all()).length, 4, "all() unchanged for the reconciler");
});

t("a member whose record vanished is skipped and removed; all() is the union of the namespaces", async ({ redis }) => {
  const prefix = `{t-${randomUUID().slice(0, 6)}}`;
  const index = new PodIndex(redis, prefix);
  await index.put(record("shop", "a"));
  await index.put(record("shop", "b"));
  await index.put(record("ops", "c"));
  await redis.zadd(`${prefix}:index:ns:shop`, 0, "ghost/0000");
  assert.equal(names(await index.inNamespace("shop")), ["a", "b"]);
  assert.is(await redis.zscore(`${prefix}:index:ns:shop`, "ghost/0000"), null);
  assert.equal(names(await index.all()).sort(), ["a", "b", "c"]);
  assert.is((await index.uids()).length, 3);
});

t("costs little per pod: the namespace set adds well under 200 bytes per pod", async ({ redis }) => {
  const prefix = `{t-${randomUUID().slice(0, 6)}}`;
  const index = new PodIndex(redis, prefix);
  for (let i = 0; i < 500; i++) await index.put(record("bench", `web-7d9f8c5b6d-${String(i).padStart(5, "0")}`));
  const bytes = Number(await redis.call("MEMORY", "USAGE", `${prefix}:index:ns:bench`, "SAMPLES", "0"));
  assert.ok(bytes / 500 < 200, `${bytes / 500} bytes per pod`);
});

t.run();
