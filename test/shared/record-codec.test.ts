import { test } from "uvu";
import * as assert from "uvu/assert";
import type { PodRecord } from "../../shared/index/pod-record.ts";
import { decodeRecord, encodeRecord } from "../../shared/index/record-codec.ts";

const record: PodRecord = {
  uid: "f722fda0-dde7-4ca7-a6d2-7027d816799b", namespace: "default", name: "m0", serviceAccount: "postgres-vault", role: "postgres",
  authPath: "kubernetes", secretName: "m0-leasekeeper", state: "issued", accessor: "w4789dqYgGLdgDcfHIEEkBSS", encryptedToken: "gR4n…",
  tokenExpiresAt: 1795544226565, tokenTtlSeconds: 86400, tokenRenewable: true,
  leases: [{ id: "database/creds/postgres-role/nrzQ", path: "database/creds/postgres-role", file: "creds.json", expiresAt: 1795461426622, renewable: true, ttlSeconds: 3600 }],
  retiring: [{ kind: "accessor", id: "old", revokeAt: 1 }], renewJobId: "renew-x-1", nextRenewAt: 1795460272418, issuedAt: 1795457826565, rotations: 2,
};

test("round-trips every field, optional ones included", () => {
  assert.equal(decodeRecord(encodeRecord(record)), record);
  const { encryptedToken: _t, renewJobId: _r, nextRenewAt: _n, ...minimal } = record;
  assert.equal(decodeRecord(encodeRecord(minimal as PodRecord)), minimal);
});

test("is smaller than plain JSON and refuses unknown formats", () => {
  assert.ok(encodeRecord(record).length < JSON.stringify(record).length * 0.75);
  assert.throws(() => decodeRecord(JSON.stringify(record)), /unknown format/);
  assert.throws(() => decodeRecord(JSON.stringify([1, "only-uid"])));
});

test.run();
