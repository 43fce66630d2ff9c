/**
 * Renewal timers and the pump that queues them (shared/jobs/renew-timers.ts, workers/renew-pump.ts),
 * against a private Redis: a timer written with the pod's index record becomes a renew job when it
 * is due and not before, prioritised by the record's earliest expiry; two pumps never claim one
 * timer twice; a timer claimed by a pump that died before queueing its job fires again after the
 * claim; a timer whose record moved on is dropped without a job.
 */
import * as assert from "uvu/assert";
import { suite } from "uvu";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { PodIndex } from "../../shared/index/pod-index.ts";
import { JobProducer } from "../../shared/jobs/producer.ts";
import { jobId } from "../../shared/jobs/job-types.ts";
import { renewTimersKey } from "../../shared/jobs/renew-timers.ts";
import { createLogger } from "../../shared/observability/log.ts";
import { startRenewPump } from "../../workers/renew-pump.ts";
import { podRecord } from "../fakes/pod-record.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";

interface Ctx {
  redis: RedisServer;
  client: Redis;
  producer: JobProducer;
  index: PodIndex;
}
const test = suite<Ctx>("renewal timers and pump");
test.before(async (ctx) => {
  ctx.redis = await startRedis();
});
test.after(async (ctx) => ctx.redis?.stop());
test.before.each((ctx) => {
  const prefix = `{p-${randomBytes(4).toString("hex")}}`;
  ctx.client = new Redis(ctx.redis.url, { enableAutoPipelining: true });
  ctx.index = new PodIndex(ctx.client, prefix);
  ctx.producer = new JobProducer({
    connection: { url: ctx.redis.url, maxRetriesPerRequest: null },
    prefix,
    attempts: 3,
  });
});
test.after.each(async (ctx) => {
  await ctx.producer.close();
  ctx.client.disconnect();
});

const log = createLogger("error");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uid = () => `${randomBytes(4).toString("hex")}-aaaa-bbbb-cccc-${randomBytes(6).toString("hex")}`;

/** A fast pump over the context's queue and index (claims of `claimMs`). */
function pump(ctx: Pick<Ctx, "producer" | "index">, claimMs = 5000) {
  return startRenewPump(
    { producer: ctx.producer, index: ctx.index, log },
    { intervalMs: 100, minGapMs: 10, batch: 10, claimMs },
  );
}

/** A bare timer, as a record's write leaves it (PodIndex.put), with no record behind it. */
async function bareTimer(ctx: Ctx, id: string, dueAt: number) {
  await ctx.client.zadd(renewTimersKey(ctx.producer.queues.renew.opts.prefix ?? ""), dueAt, id);
}

/** An issued pod whose renewal `seq` waits as a timer due at `dueAt`; its token expires at `expiresAt`. */
async function scheduled(ctx: Ctx, seq: number, dueAt: number, expiresAt = Date.now() + 600_000) {
  const record = podRecord({
    uid: uid(),
    namespace: "shop",
    name: `web-${seq}`,
    tokenExpiresAt: expiresAt,
    issuedAt: Date.now(),
    renewSeq: seq,
    renewJobId: "",
  });
  record.renewJobId = jobId.renew(record.uid, seq);
  await ctx.index.put(record, { renewTimerDueAt: dueAt });
  return record;
}

test("a timer is queued as a renew job once due, and not before, prioritised by the earliest expiry", async (ctx) => {
  const { producer } = ctx;
  const record = await scheduled(ctx, 7, Date.now() + 600, Date.now() + 120_000);
  const id = record.renewJobId ?? "";
  const stop = pump(ctx);
  try {
    await sleep(300);
    assert.is(await producer.queues.renew.getJob(id), undefined, "not queued before it is due");
    assert.ok(await producer.renewPending(id), "pending as a timer");
    await sleep(700);
    const job = await producer.queues.renew.getJob(id);
    assert.ok(job, "queued once due");
    assert.equal(job?.data, { uid: record.uid, namespace: "shop", name: "web-7" });
    const priority = job?.opts.priority ?? 0;
    assert.ok(priority >= 118 && priority <= 120, `priority = seconds to the earliest expiry (${priority})`);
    assert.is(await producer.renewTimers.has(id), false, "the timer is released once its job is queued");
    assert.ok(await producer.renewPending(id), "pending as a job");
  } finally {
    await stop();
  }
});

test("a timer whose record names another renewal (or is gone) is dropped without a job", async (ctx) => {
  const { producer } = ctx;
  const record = await scheduled(ctx, 2, Date.now() - 1);
  const stale = jobId.renew(record.uid, 1);
  await bareTimer(ctx, stale, Date.now() - 1);
  const orphan = jobId.renew(uid(), 1);
  await bareTimer(ctx, orphan, Date.now() - 1);
  const stop = pump(ctx);
  try {
    await sleep(400);
    assert.ok(await producer.queues.renew.getJob(record.renewJobId ?? ""), "the current renewal is queued");
    assert.is(await producer.queues.renew.getJob(stale), undefined);
    assert.is(await producer.queues.renew.getJob(orphan), undefined);
    assert.is(await producer.renewTimers.size(), 0, "every claimed timer released");
  } finally {
    await stop();
  }
});

test("two pumps claim disjoint timers: each due timer is claimed once", async (ctx) => {
  const { producer } = ctx;
  const ids = Array.from({ length: 50 }, (_, i) => jobId.renew(uid(), i + 1));
  for (const id of ids) await bareTimer(ctx, id, Date.now() - 1);
  const now = Date.now();
  const [a, b] = await Promise.all([
    producer.renewTimers.claim(now, 30, 30_000),
    producer.renewTimers.claim(now, 30, 30_000),
  ]);
  const claimed = [...a.ids, ...b.ids];
  assert.is(claimed.length, 50);
  assert.is(new Set(claimed).size, 50, "no timer claimed twice");
});

test("a timer claimed by a pump that died before queueing its job fires again after the claim", async (ctx) => {
  const { producer } = ctx;
  const record = await scheduled(ctx, 1, Date.now() - 1);
  const id = record.renewJobId ?? "";
  const dead = await producer.renewTimers.claim(Date.now(), 10, 500);
  assert.equal(dead.ids, [id]);
  // The pump that claimed it is gone; nothing is queued and the timer waits out the claim.
  const stop = pump(ctx, 500);
  try {
    await sleep(200);
    assert.is(await producer.queues.renew.getJob(id), undefined, "still claimed");
    await sleep(700);
    assert.ok(await producer.queues.renew.getJob(id), "queued after the claim ran out");
  } finally {
    await stop();
  }
});

test("a timer long past due that no pump queued is not counted as pending (the reconciler reschedules it)", async (ctx) => {
  const { producer } = ctx;
  const id = jobId.renew(uid(), 1);
  await bareTimer(ctx, id, Date.now() - 60_000);
  assert.not.ok(await producer.renewPending(id, 20_000));
  await bareTimer(ctx, id, Date.now() - 5_000);
  assert.ok(await producer.renewPending(id, 20_000));
});

test("revoking drops the timer with the record; a renewal already queued as a job is cancelled", async (ctx) => {
  const { producer, index } = ctx;
  const record = await scheduled(ctx, 3, Date.now() + 60_000);
  const id = record.renewJobId ?? "";
  assert.ok(await index.delete(record.uid, id), "the timer went with the record");
  assert.not.ok(await producer.renewPending(id));
  await producer.queueDueRenewals([{ id, namespace: "shop", name: "web-3", expiresAt: undefined }]);
  assert.ok(await producer.renewPending(id));
  await producer.cancelRenew(id);
  assert.not.ok(await producer.renewPending(id));
});

test("stopping does not wait on Redis that does not answer", async (ctx) => {
  // A port nothing listens on: BullMQ's connection queues the claim until Redis is back.
  const producer = new JobProducer({
    connection: { host: "127.0.0.1", port: 1, maxRetriesPerRequest: null, retryStrategy: () => 1000 },
    prefix: "{p-down}",
    attempts: 3,
  });
  producer.queues.renew.on("error", () => undefined);
  const stop = pump({ producer, index: ctx.index });
  await sleep(300);
  const started = Date.now();
  await stop();
  assert.ok(Date.now() - started < 3000, `stopped in ${Date.now() - started} ms`);
  await producer.close().catch(() => undefined);
});

test.run();
