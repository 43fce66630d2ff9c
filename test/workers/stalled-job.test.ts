/**
 * A worker process killed mid-job (SIGKILL, holding the job and the pod's lock) on a real Redis:
 * with the shipped job-lock, stalled-check and pod-lock settings another worker takes the job
 * over and finishes it well inside a 30 s pod token TTL, instead of after a minute or more.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import * as assert from "uvu/assert";
import { suite } from "uvu";
import type { Worker } from "bullmq";
import { loadConfig } from "../../shared/config/config.ts";
import { startWorkers } from "../../workers/queue-workers.ts";
import { scheduleRenew } from "../../workers/schedule.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";
import { DB, ROLE, issuedPod, workerFixture, type WorkerFixture } from "../fakes/worker-fixture.ts";

const TOKEN_TTL_MS = 30_000;

const test = suite<{ redis: RedisServer; f: WorkerFixture; child?: ChildProcess; workers: Worker[] }>(
  "a worker killed mid-job",
);
test.before(async (ctx) => {
  ctx.redis = await startRedis();
  ctx.workers = [];
});
test.after(async (ctx) => {
  ctx.child?.kill("SIGKILL");
  await Promise.all(ctx.workers.map((w) => w.close(true)));
  await ctx.f?.close();
  await ctx.redis?.stop();
});

test("its job is taken over by a live worker and finishes before the pod token's TTL runs out", async (ctx) => {
  const f = (ctx.f = workerFixture(ctx.redis.url, { rotationGraceSeconds: 10 }));
  f.vault.roles.set("app", { ...ROLE, tokenTtlSeconds: TOKEN_TTL_MS / 1000, tokenMaxTtlSeconds: 3600 });
  f.vault.secrets.set("database/creds/app", { ...DB, lease: { ttlSeconds: 30, maxTtlSeconds: 3600, renewable: true } });
  const { ref, record } = await issuedPod(f, "web-1");
  // The renewal is due (two thirds of the TTL) and queued to run now.
  f.advance(20_000);
  await scheduleRenew(f.deps, record, { kind: "now" });
  const jobId = (await f.record(ref.uid)).renewJobId;
  const prefix = f.deps.producer.queues.renew.opts.prefix ?? "";

  const child = (ctx.child = spawn(
    process.execPath,
    ["--import", "tsx", "test/workers/fixtures/dying-worker.ts", ctx.redis.url, prefix, "renew"],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  ));
  const holding = await new Promise<unknown>((resolve, reject) => {
    child.once("message", (m) => resolve((m as { holding?: unknown }).holding));
    child.once("exit", (code) => reject(new Error(`the worker process exited (${code}) before taking the job`)));
  });
  assert.is(holding, jobId, "the dying worker holds the renew job (and the pod's lock)");
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  const killedAt = Date.now();

  // The live workers run with the same shipped settings.
  const config = loadConfig({ LEASEKEEPER_INDEX_KEY: randomBytes(32).toString("base64") });
  ctx.workers = startWorkers(f.deps, {
    ...config,
    connection: { url: ctx.redis.url, maxRetriesPerRequest: null },
    prefix,
  });
  let after = await f.record(ref.uid);
  while (after.renewJobId === jobId && Date.now() - killedAt < TOKEN_TTL_MS) {
    await sleep(200);
    after = await f.record(ref.uid);
  }
  const tookMs = Date.now() - killedAt;
  assert.is.not(after.renewJobId, jobId, `the job was not finished within the token TTL (${tookMs} ms)`);
  assert.is(after.renewedAt, f.deps.now(), "renewed by the live worker");
  assert.ok(f.vault.tokenLive(record.accessor), "the pod's token is still the one it had");
  const lease = f.vault.leases.find((l) => l.id === record.leases.find((r) => r.id !== "")?.id);
  assert.is(lease?.expiresAt, f.deps.now() + 30_000, "and its lease was renewed");
});

test.run();
