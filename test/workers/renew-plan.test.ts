/** The renew decision: what one renew job does, from the pod's record and the clock alone. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { LeaseRecord, PodRecord } from "../../shared/index/pod-record.ts";
import { planRenewal } from "../../workers/renew-plan.ts";

const NOW = 1_000_000;
const lease = (extra: Partial<LeaseRecord>): LeaseRecord => ({
  id: "database/creds/app/a",
  path: "database/creds/app",
  file: "creds.json",
  expiresAt: NOW + 3_600_000,
  renewable: true,
  ttlSeconds: 3600,
  ...extra,
});
const record = (extra: Partial<PodRecord> = {}): PodRecord => ({
  uid: "u1",
  namespace: "shop",
  name: "web-1",
  serviceAccount: "app",
  role: "app",
  authPath: "kubernetes",
  secretName: "web-1-leasekeeper",
  state: "issued",
  accessor: "acc",
  encryptedToken: "sealed",
  tokenExpiresAt: NOW + 3_600_000,
  tokenTtlSeconds: 3600,
  tokenRenewable: true,
  leases: [lease({})],
  retiring: [],
  issuedAt: NOW - 60_000,
  rotations: 0,
  leaseRenewAt: NOW,
  ...extra,
});

test("a due record renews its token and its leases", () => {
  assert.equal(planRenewal(record(), false, NOW), {
    kind: "renew",
    renewToken: true,
    leases: [{ lease: lease({}), step: "renew" }],
  });
});

test("a record rebuilt from its Secret (no token) logs in again, even on a refresh-only wake", () => {
  assert.equal(planRenewal(record({ state: "recovered", encryptedToken: undefined }), false, NOW), {
    kind: "relogin",
    cause: "index-rebuilt",
  });
  assert.equal(planRenewal(record({ state: "recovered", leaseRenewAt: NOW + 600_000 }), false, NOW), {
    kind: "relogin",
    cause: "index-rebuilt",
  });
});

test("a forced renewal (on-call or CI rotate) logs in again", () => {
  assert.equal(planRenewal(record({ leaseRenewAt: NOW + 600_000 }), true, NOW), {
    kind: "relogin",
    cause: "requested",
  });
});

test("woken before the leases are due (a file refresh) only refreshes; within a second of due it renews", () => {
  assert.equal(planRenewal(record({ leaseRenewAt: NOW + 5_000 }), false, NOW), { kind: "refresh-only" });
  assert.is(planRenewal(record({ leaseRenewAt: NOW + 900 }), false, NOW).kind, "renew");
  assert.is(planRenewal(record({ leaseRenewAt: undefined }), false, NOW).kind, "renew");
});

test("a token that cannot be renewed is replaced once two thirds of its life are gone, not before", () => {
  const young = record({ tokenRenewable: false, tokenTtlSeconds: 3600, tokenExpiresAt: NOW + 1_300_000 });
  assert.equal(planRenewal(young, false, NOW), {
    kind: "renew",
    renewToken: false,
    leases: [{ lease: lease({}), step: "renew" }],
  });
  const old = record({ tokenRenewable: false, tokenTtlSeconds: 3600, tokenExpiresAt: NOW + 1_200_000 });
  assert.equal(planRenewal(old, false, NOW), { kind: "relogin", cause: "token-not-renewable" });
});

test("leases: KV (no id) kept, non-renewable replaced past two thirds of its life, renewable renewed", () => {
  const kv = lease({
    id: "",
    path: "secret/data/app",
    file: "kv.json",
    renewable: false,
    ttlSeconds: 0,
    expiresAt: NOW,
  });
  const certYoung = lease({
    id: "pki/issue/web/a",
    file: "tls.crt",
    renewable: false,
    ttlSeconds: 900,
    expiresAt: NOW + 301_000,
  });
  const certOld = lease({
    id: "pki/issue/web/b",
    file: "tls2.crt",
    renewable: false,
    ttlSeconds: 900,
    expiresAt: NOW + 300_000,
  });
  const db = lease({});
  const plan = planRenewal(record({ leases: [kv, certYoung, certOld, db] }), false, NOW);
  assert.equal(plan, {
    kind: "renew",
    renewToken: true,
    leases: [
      { lease: kv, step: "keep" },
      { lease: certYoung, step: "keep" },
      { lease: certOld, step: "replace" },
      { lease: db, step: "renew" },
    ],
  });
});

test.run();
