/**
 * Renewal timers and the pump that queues them (shared/jobs/renew-timers.ts, workers/renew-pump.ts),
 * against a private Redis: a timer becomes a renew job carrying only the pod UID when it is due and
 * not before, two pumps never queue one timer twice, and a timer claimed by a pump that died before
 * queueing its job fires again after the claim.
 */
import * as assert from "uvu/assert";
import { suite } from "uvu";
import { randomBytes } from "node:crypto";
import { JobProducer } from "../../shared/jobs/producer.ts";
import { jobId } from "../../shared/jobs/job-types.ts";
import { createLogger } from "../../shared/observability/log.ts";
import { startRenewPump } from "../../workers/renew-pump.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";

const test = suite<{ redis: RedisServer; producer: JobProducer }>("renewal timers and pump");
test.before(async (ctx) => {
  ctx.redis = await startRedis();
});
test.after(async (ctx) => ctx.redis?.stop());
test.before.each((ctx) => {
  const prefix = `{p-${randomBytes(4).toString("hex")}}`;
  ctx.producer = new JobProducer({
    connection: { url: ctx.redis.url, maxRetriesPerRequest: null },
    prefix,
    attempts: 3,
  });
});
test.after.each(async (ctx) => ctx.producer.close());

const log = createLogger("error");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uid = () => `${randomBytes(4).toString("hex")}-aaaa-bbbb-cccc-${randomBytes(6).toString("hex")}`;

test("a timer is queued as a renew job carrying only the pod UID once due, and not before", async ({ producer }) => {
  const pod = uid();
  const id = jobId.renew(pod, 7);
  await producer.renewTimers.set(id, Date.now() + 600);
  const stop = startRenewPump({ producer, log }, { intervalMs: 100, batch: 10, claimMs: 30_000 });
  try {
    await sleep(300);
    assert.is(await producer.queues.renew.getJob(id), undefined, "not queued before it is due");
    assert.ok(await producer.renewPending(id), "pending as a timer");
    await sleep(700);
    const job = await producer.queues.renew.getJob(id);
    assert.ok(job, "queued once due");
    assert.equal(job?.data, { uid: pod });
    assert.is(await producer.renewTimers.has(id), false, "the timer is released once its job is queued");
    assert.ok(await producer.renewPending(id), "pending as a job");
  } finally {
    await stop();
  }
});

test("two pumps claim disjoint timers: each due timer is queued once", async ({ producer }) => {
  const ids = Array.from({ length: 50 }, (_, i) => jobId.renew(uid(), i + 1));
  for (const id of ids) await producer.renewTimers.set(id, Date.now() - 1);
  const now = Date.now();
  const [a, b] = await Promise.all([
    producer.renewTimers.claim(now, 30, 30_000),
    producer.renewTimers.claim(now, 30, 30_000),
  ]);
  const claimed = [...a.ids, ...b.ids];
  assert.is(claimed.length, 50);
  assert.is(new Set(claimed).size, 50, "no timer claimed twice");
});

test("a timer claimed by a pump that died before queueing its job fires again after the claim", async ({
  producer,
}) => {
  const id = jobId.renew(uid(), 1);
  await producer.renewTimers.set(id, Date.now() - 1);
  const dead = await producer.renewTimers.claim(Date.now(), 10, 500);
  assert.equal(dead.ids, [id]);
  // The pump that claimed it is gone; nothing is queued and the timer waits out the claim.
  const stop = startRenewPump({ producer, log }, { intervalMs: 100, batch: 10, claimMs: 500 });
  try {
    await sleep(200);
    assert.is(await producer.queues.renew.getJob(id), undefined, "still claimed");
    await sleep(700);
    assert.ok(await producer.queues.renew.getJob(id), "queued after the claim ran out");
  } finally {
    await stop();
  }
});

test("cancelling a renewal removes its timer; a job already queued under its id is removed too", async ({
  producer,
}) => {
  const id = jobId.renew(uid(), 3);
  await producer.renewTimers.set(id, Date.now() + 60_000);
  await producer.cancelRenew(id);
  assert.not.ok(await producer.renewPending(id));
  await producer.queueDueRenewals([id]);
  assert.ok(await producer.renewPending(id));
  await producer.cancelRenew(id);
  assert.not.ok(await producer.renewPending(id));
});

test("stopping does not wait on Redis that does not answer", async () => {
  // A port nothing listens on: BullMQ's connection queues the claim until Redis is back.
  const producer = new JobProducer({
    connection: { host: "127.0.0.1", port: 1, maxRetriesPerRequest: null, retryStrategy: () => 1000 },
    prefix: "{p-down}",
    attempts: 3,
  });
  producer.queues.renew.on("error", () => undefined);
  const stop = startRenewPump({ producer, log }, { intervalMs: 100, batch: 10, claimMs: 30_000 });
  await sleep(300);
  const started = Date.now();
  await stop();
  assert.ok(Date.now() - started < 3000, `stopped in ${Date.now() - started} ms`);
  await producer.close().catch(() => undefined);
});

test.run();
