import { test } from "uvu";
import * as assert from "uvu/assert";
import type { PodRecord } from "../../shared/index/pod-record.ts";
import { renewDelayMs } from "../../workers/schedule.ts";

const base: PodRecord = {
  uid: "u",
  namespace: "n",
  name: "p",
  serviceAccount: "sa",
  role: "r",
  authPath: "kubernetes",
  secretName: "s",
  state: "issued",
  accessor: "a",
  tokenExpiresAt: 0,
  tokenTtlSeconds: 60,
  tokenRenewable: true,
  leases: [],
  retiring: [],
  issuedAt: 0,
  rotations: 0,
};

test("renews at two thirds of the shortest TTL, with 0..jitter% on top", () => {
  const record = {
    ...base,
    tokenExpiresAt: 60_000,
    leases: [{ id: "l", path: "p", file: "f", expiresAt: 30_000, renewable: true, ttlSeconds: 30 }],
  };
  assert.is(Math.round(renewDelayMs(record, 0, 10, () => 0)), 20_000);
  assert.is(Math.round(renewDelayMs(record, 0, 10, () => 1)), 23_000);
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

test.run();
