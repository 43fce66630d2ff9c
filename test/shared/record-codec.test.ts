import { test } from "uvu";
import * as assert from "uvu/assert";
import type { PodRecord } from "../../shared/index/pod-record.ts";
import { decodeRecord, encodeRecord } from "../../shared/index/record-codec.ts";

const record: PodRecord = {
  uid: "f722fda0-dde7-4ca7-a6d2-7027d816799b",
  namespace: "default",
  name: "m0",
  serviceAccount: "postgres-vault",
  role: "postgres",
  authPath: "kubernetes",
  secretName: "m0-leasekeeper",
  state: "issued",
  accessor: "w4789dqYgGLdgDcfHIEEkBSS",
  encryptedToken: "gR4n…",
  tokenExpiresAt: 1795544226565,
  tokenTtlSeconds: 86400,
  tokenRenewable: true,
  leases: [
    {
      id: "database/creds/postgres-role/nrzQ",
      path: "database/creds/postgres-role",
      file: "creds.json",
      expiresAt: 1795461426622,
      renewable: true,
      ttlSeconds: 3600,
    },
  ],
  retiring: [{ kind: "accessor", id: "old", revokeAt: 1 }],
  renewJobId: "renew-x-1",
  nextRenewAt: 1795460272418,
  issuedAt: 1795457826565,
  rotations: 2,
};

test("round-trips every field, optional ones included", () => {
  assert.equal(decodeRecord(encodeRecord(record)), record);
  const { encryptedToken: _t, renewJobId: _r, nextRenewAt: _n, ...minimal } = record;
  assert.equal(decodeRecord(encodeRecord(minimal as PodRecord)), minimal);
});

test("values that follow from others are left out and come back exactly", () => {
  const derived = { ...record, secretName: "m0-leasekeeper", renewJobId: `renew-${record.uid}-17` };
  const encoded = encodeRecord(derived);
  assert.not.ok(encoded.includes("m0-leasekeeper"), "default Secret name omitted");
  assert.not.ok(encoded.includes(`renew-${record.uid}`), "renew job id reduced to its sequence");
  assert.is(encoded.split("database/creds/postgres-role").length - 1, 1, "lease path kept only inside the lease id");
  assert.equal(decodeRecord(encoded), derived);
  const odd = {
    ...record,
    secretName: "custom",
    renewJobId: "renew-other-3",
    leases: [
      {
        id: "database/creds/postgres-role/a/b",
        path: "database/creds/postgres-role",
        file: "x",
        expiresAt: 1,
        renewable: true,
        ttlSeconds: 1,
      },
      { id: "", path: "secret/data/kv", file: "kv", expiresAt: 1, renewable: false, ttlSeconds: 0 },
    ],
  };
  assert.equal(decodeRecord(encodeRecord(odd)), odd);
});

test("a record written before renewSeq existed gets it from its renew job id", () => {
  const current = { ...record, renewJobId: `renew-${record.uid}-17`, renewSeq: 17 };
  const encoded = JSON.parse(encodeRecord(current)) as unknown[];
  assert.equal(decodeRecord(JSON.stringify(encoded)), current);
  const older = JSON.stringify(encoded.slice(0, -1)); // the layout without the renewSeq slot
  assert.is(decodeRecord(older).renewSeq, 17);
  assert.is(
    decodeRecord(JSON.stringify([...encoded.slice(0, -1), null])).renewSeq,
    undefined,
    "a new-layout record without one stays without",
  );
});

test("is smaller than plain JSON and refuses unknown formats", () => {
  assert.ok(encodeRecord(record).length < JSON.stringify(record).length * 0.75);
  assert.throws(() => decodeRecord(JSON.stringify(record)), /unknown format/);
  assert.throws(() => decodeRecord(JSON.stringify([1, "only-uid"])));
});

test.run();
