import { test } from "uvu";
import * as assert from "uvu/assert";
import { podRecord } from "../fakes/pod-record.ts";
import { CRASH_RECOVERY_MS, RETRY_SAFETY_MS, renewDelayMs, renewRetryDelayMs } from "../../workers/schedule.ts";

const base = podRecord();

test("renews at two thirds of the shortest TTL, with 0..jitter% on top", () => {
  const record = {
    ...base,
    tokenExpiresAt: 60_000,
    leases: [{ id: "l", path: "p", file: "f", expiresAt: 30_000, renewable: true, ttlSeconds: 30 }],
  };
  const long = { ...record, tokenExpiresAt: 600_000, leases: [{ ...record.leases[0]!, expiresAt: 300_000 }] };
  assert.is(Math.round(renewDelayMs(long, 0, 10, () => 0)), 200_000);
  assert.is(Math.round(renewDelayMs(long, 0, 10, () => 1)), 230_000);
});

test("short TTLs renew early enough that a crashed worker's job is picked up before the expiry", () => {
  const record = {
    ...base,
    tokenExpiresAt: 60_000,
    leases: [{ id: "l", path: "p", file: "f", expiresAt: 30_000, renewable: true, ttlSeconds: 30 }],
  };
  // 30 s left: a third of it (10 s), which keeps CRASH_RECOVERY_MS (20 s) in hand.
  assert.is(Math.round(renewDelayMs(record, 0, 10, () => 1)), 10_000);
  assert.is(30_000 - renewDelayMs(record, 0, 10, () => 1), CRASH_RECOVERY_MS);
  // 45 s left: 25 s, not two thirds (30 s).
  assert.is(Math.round(renewDelayMs({ ...base, tokenExpiresAt: 45_000 }, 0, 0, () => 0)), 25_000);
  // 15 s left: never before a third of it.
  assert.is(Math.round(renewDelayMs({ ...base, tokenExpiresAt: 15_000 }, 0, 0, () => 0)), 5_000);
});

test("never later than 90% of the remaining time, never negative", () => {
  const record = { ...base, tokenExpiresAt: 10_000 };
  assert.ok(renewDelayMs(record, 0, 50, () => 1) <= 9_000);
  assert.is(
    renewDelayMs({ ...base, tokenExpiresAt: 5 }, 10, 10, () => 0),
    0,
  );
});

test("leases without an id (KV) do not shorten the schedule", () => {
  const record = {
    ...base,
    tokenExpiresAt: 60_000,
    leases: [{ id: "", path: "secret/data/x", file: "f", expiresAt: 0, renewable: false, ttlSeconds: 0 }],
  };
  assert.is(Math.round(renewDelayMs(record, 0, 0, () => 0)), 40_000);
});

test("a retry after a transient failure: the backoff, doubling per attempt, while the expiry is far", () => {
  const record = { ...base, tokenExpiresAt: 3600_000 };
  assert.equal(
    [0, 1, 2, 3].map((attempt) => renewRetryDelayMs(record, 0, attempt, () => 1)),
    [500, 1000, 2000, 4000],
  );
  assert.is(
    renewRetryDelayMs(record, 0, 0, () => 0),
    250,
    "jitter takes up to half off",
  );
  assert.is(
    renewRetryDelayMs(record, 0, 40, () => 1),
    30_000,
    "capped at 30 s",
  );
});

test("...never later than a quarter of the time left, nor the safety margin before the expiry", () => {
  const record = { ...base, tokenExpiresAt: 10_000 };
  assert.is(
    renewRetryDelayMs(record, 0, 5, () => 1),
    2500,
    "16 s of backoff, 10 s left: a quarter of it",
  );
  assert.is(
    renewRetryDelayMs(record, 7000, 5, () => 1),
    750,
  );
  for (let now = 0; now < 10_000 - RETRY_SAFETY_MS * (4 / 3); now += 500)
    assert.ok(now + renewRetryDelayMs(record, now, 10, () => 1) <= 10_000 - RETRY_SAFETY_MS, `at ${now}`);
  assert.is(
    renewRetryDelayMs(record, 9900, 10, () => 1),
    250,
    "close to the expiry: as soon as the floor allows",
  );
});

test("...and past the expiry the backoff alone (the next try logs in again)", () => {
  const record = { ...base, tokenExpiresAt: 10_000 };
  assert.is(
    renewRetryDelayMs(record, 20_000, 2, () => 1),
    2000,
  );
});

test.run();
