/**
 * Renewal against short TTLs (token and database lease 30 s, grace 10 s), with the in-memory fakes:
 * transient failures are retried before the earliest expiry for as long as it takes, an API server
 * outage does not stop renewals, and what a rotation replaced retires the grace after the Secret write.
 */
import * as assert from "uvu/assert";
import { suite } from "uvu";
import { earliestExpiry } from "../../shared/index/pod-record.ts";
import type { RenewJob, RenewOutcome } from "../../shared/jobs/job-types.ts";
import type { PodRef } from "../../shared/pods/pod-state.ts";
import { createRenewProcessor } from "../../workers/renew.ts";
import { RETRY_SAFETY_MS } from "../../workers/schedule.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";
import {
  DB,
  ROLE,
  issuedPod,
  queuedRetires,
  runProcessor,
  scheduledRenewal,
  workerFixture,
  type WorkerFixture,
} from "../fakes/worker-fixture.ts";

const TTL_MS = 30_000;
const GRACE_SECONDS = 10;

const test = suite<{ redis: RedisServer; f: WorkerFixture }>("renewal against the expiry deadline");
test.before(async (ctx) => {
  ctx.redis = await startRedis();
});
test.after(async (ctx) => ctx.redis?.stop());
test.before.each((ctx) => {
  ctx.f = workerFixture(ctx.redis.url, { rotationGraceSeconds: GRACE_SECONDS });
  ctx.f.vault.roles.set("app", { ...ROLE, tokenTtlSeconds: TTL_MS / 1000, tokenMaxTtlSeconds: 3600 });
  ctx.f.vault.secrets.set("database/creds/app", {
    ...DB,
    lease: { ttlSeconds: TTL_MS / 1000, maxTtlSeconds: 3600, renewable: true },
  });
});
test.after.each(async (ctx) => ctx.f.close());

/** The pod's current renewal as it waits in Redis (a timer, or a queued job): its payload and delay. */
async function currentJob(f: WorkerFixture, uid: string): Promise<{ id: string; data: RenewJob; delayMs: number }> {
  const next = await scheduledRenewal(f, uid);
  if (!next) throw new Error(`no renewal scheduled for ${uid}`);
  return next;
}

/** Waits until the pod's current renew job is due, then runs it as the renew queue's worker would. */
async function runDue(f: WorkerFixture, ref: PodRef): Promise<RenewOutcome> {
  const job = await currentJob(f, ref.uid);
  f.advance(job.delayMs);
  return runProcessor<RenewOutcome>(createRenewProcessor(f.deps), "renew", { ...ref, ...job.data }, job.id);
}

const dbLease = (f: WorkerFixture) => f.vault.leases.find((l) => l.path === "database/creds/app");

test("Vault answering 502 five times: each retry comes before the expiry, and the lease never lapses", async ({
  f,
}) => {
  const { ref } = await issuedPod(f, "web-1");
  const lease = dbLease(f);
  for (let attempt = 1; attempt <= 5; attempt++) {
    f.vault.failNext("renewLease", 502, "bad gateway");
    const outcome = await runDue(f, ref);
    assert.is(outcome.outcome, "retry-scheduled", `attempt ${attempt}`);
    const record = await f.record(ref.uid);
    const next = await currentJob(f, ref.uid);
    assert.is(next.data.retry, attempt, "the retry count travels with the job, not BullMQ's attempts");
    const remaining = earliestExpiry(record) - f.deps.now();
    // The queue keeps whole milliseconds.
    assert.ok(next.delayMs <= Math.ceil(remaining / 4), `retry ${attempt} in ${next.delayMs} ms, ${remaining} ms left`);
    assert.ok(next.delayMs <= remaining - RETRY_SAFETY_MS, "never later than the safety margin before expiry");
    assert.ok(f.vault.liveLeases().includes(lease ?? dbLease(f)!), "the lease is alive");
  }
  const outcome = await runDue(f, ref);
  assert.is(outcome.outcome, "renewed");
  assert.ok(lease && f.vault.liveLeases().includes(lease), "the same lease, renewed");
  assert.is(lease?.expiresAt, f.deps.now() + TTL_MS);
  assert.is((await currentJob(f, ref.uid)).data.retry, undefined, "back on the normal schedule");
  assert.is(f.vault.tokens.length, 1, "no re-login was needed");
});

test("...and while Vault keeps failing the tries do not run out; past the expiry the pod logs in again", async ({
  f,
}) => {
  const { ref, record } = await issuedPod(f, "web-2");
  const expiry = earliestExpiry(record);
  let tries = 0;
  while (f.deps.now() < expiry) {
    f.vault.failNext("renewSelf", 503, "upstream unavailable");
    const outcome = await runDue(f, ref);
    assert.is(outcome.outcome, "retry-scheduled");
    tries++;
    assert.ok(tries < 200, "retries converge on the deadline");
  }
  assert.ok(tries > 8, `more tries (${tries}) than BullMQ's attempts would have allowed`);
  const outcome = await runDue(f, ref);
  assert.is(outcome.outcome, "relogged-in", "the expired token is replaced by a new login");
  const after = await f.record(ref.uid);
  assert.is.not(after.accessor, record.accessor);
  assert.ok(f.vault.tokenLive(after.accessor));
});

test("the API server answering 503: token and lease are renewed from the index record", async ({ f }) => {
  const { ref, record } = await issuedPod(f, "web-3");
  const lease = dbLease(f);
  const events = f.kube.events.length;
  f.kube.failNext("readPod", 503);
  const outcome = await runDue(f, ref);
  assert.is(outcome.outcome, "renewed");
  assert.is(lease?.expiresAt, f.deps.now() + TTL_MS, "the lease runs a full TTL from now");
  assert.ok((await f.record(ref.uid)).tokenExpiresAt >= f.deps.now() + TTL_MS, "and the token too");
  assert.is((await f.record(ref.uid)).accessor, record.accessor);
  assert.is(f.kube.events.length, events, "nothing for the pod changed");
});

test("the API server down and the pod deleted meanwhile: renewed, and revoked once the API server answers", async ({
  f,
}) => {
  const { ref } = await issuedPod(f, "web-4");
  f.kube.deletePod(ref.namespace, ref.name);
  f.kube.failNext("readPod", 503);
  assert.is((await runDue(f, ref)).outcome, "renewed", "whether the pod lives waits for the API server");
  assert.is((await runDue(f, ref)).outcome, "pod-gone");
});

test("a rotation due while the API server is down: leases renewed now, the rotation retried before the expiry", async ({
  f,
}) => {
  // The lease can be extended only 35 s from issue: at the renewal it gets less than its TTL and must be replaced.
  f.vault.secrets.set("database/creds/app", {
    ...DB,
    lease: { ttlSeconds: TTL_MS / 1000, maxTtlSeconds: 35, renewable: true },
  });
  const { ref } = await issuedPod(f, "web-5");
  const lease = dbLease(f);
  f.kube.failNext("readPod", 503);
  const outcome = await runDue(f, ref);
  assert.is(outcome.outcome, "retry-scheduled");
  assert.is(lease?.expiresAt, lease?.maxExpiresAt ?? 0, "extended as far as Vault allows");
  const next = await currentJob(f, ref.uid);
  assert.ok(next.delayMs <= Math.ceil((earliestExpiry(await f.record(ref.uid)) - f.deps.now()) / 4));
  assert.is((await runDue(f, ref)).outcome, "renewed");
  assert.ok(
    f.vault.liveLeases().some((l) => l.path === "database/creds/app" && l.id !== lease?.id),
    "a new lease replaced it",
  );
});

test("what a rotation replaced retires the grace after the Secret write, even when it expires sooner", async ({
  f,
}) => {
  // The old lease has 5 s left when it is replaced (renewed at 10 s, extendable to 15 s): its retirement still waits the full grace.
  f.vault.secrets.set("database/creds/app", {
    ...DB,
    lease: { ttlSeconds: TTL_MS / 1000, maxTtlSeconds: 15, renewable: true },
  });
  const { ref, record } = await issuedPod(f, "web-6");
  const oldLease = f.vault.leases.find((l) => l.id === record.leases.find((r) => r.id !== "")?.id);
  assert.is((await runDue(f, ref)).outcome, "renewed");
  assert.ok(oldLease && oldLease.expiresAt - f.deps.now() < GRACE_SECONDS * 1000, "it expires within the grace");
  assert.equal(
    (await queuedRetires(f, ref.uid)).map((r) => [r.data.kind, r.data.id, r.delayMs]),
    [["lease", oldLease?.id, GRACE_SECONDS * 1000]],
  );
  const retiring = (await f.record(ref.uid)).retiring;
  assert.equal(
    retiring.map((r) => [r.id, r.revokeAt]),
    [[oldLease?.id, f.deps.now() + GRACE_SECONDS * 1000]],
  );
});

test.run();
