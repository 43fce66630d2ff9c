import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomUUID } from "node:crypto";
import { Worker } from "bullmq";
import { JobProducer } from "../../shared/jobs/producer.ts";
import { QUEUE } from "../../shared/jobs/job-types.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";

const producer = suite<{ redis: RedisServer }>("producer");

producer.before(async (ctx) => {
  ctx.redis = await startRedis();
});
producer.after(async (ctx) => {
  await ctx.redis?.stop();
});

const make = (url: string) => ({ connection: { url }, prefix: `{t-${randomUUID().slice(0, 8)}}`, attempts: 3 });

producer("duplicate events collapse into one job per pod and intent", async ({ redis }) => {
  const p = new JobProducer(make(redis.url));
  try {
    const ref = { uid: "u-1", namespace: "default", name: "web" };
    const a = await p.issue({ ...ref, source: "watch" });
    const b = await p.issue({ ...ref, source: "cloudevent" });
    const c = await p.revoke({ ...ref, source: "watch", reason: "pod deleted" });
    const d = await p.revoke({ ...ref, source: "reconciler", reason: "pod gone" });
    assert.is(a.id, b.id);
    assert.is(c.id, d.id);
    assert.equal(
      [a.created, b.created, c.created, d.created],
      [true, false, true, false],
      "the second add of each collapsed",
    );
    assert.is(await p.queues.issue.count(), 1);
    assert.is(await p.queues.revoke.count(), 1);
    const job = await p.queues.issue.getJob(a.id);
    assert.equal(
      Object.keys(job?.data ?? {}).sort(),
      ["name", "namespace", "source", "uid"],
      "payload holds references only",
    );
  } finally {
    await p.close();
  }
});

producer("renewals that pile up run nearest expiry first", async ({ redis }) => {
  const opts = make(redis.url);
  const p = new JobProducer(opts);
  const order: string[] = [];
  try {
    const now = Date.now();
    const expiries: Array<[string, number]> = [
      ["late", 3600_000],
      ["soon", 20_000],
      ["middle", 600_000],
      ["soonest", 5_000],
    ];
    for (const [name, inMs] of expiries)
      await p.renew({ uid: name, namespace: "default", name, force: false }, 1, 0, now + inMs);
    const worker = new Worker(
      QUEUE.renew,
      async (job) => {
        order.push(String(job.data.uid));
      },
      { connection: { url: redis.url, maxRetriesPerRequest: null }, prefix: opts.prefix, concurrency: 1 },
    );
    const deadline = Date.now() + 5000;
    while (order.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await worker.close();
    assert.equal(order, ["soonest", "soon", "middle", "late"]);
  } finally {
    await p.close();
  }
});

producer.run();
