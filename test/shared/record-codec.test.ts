import { test } from "uvu";
import * as assert from "uvu/assert";
import { LeaseRecordSchema, PodRecordSchema, type PodRecord } from "../../shared/index/pod-record.ts";
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
  assert.equal(decodeRecord(encodeRecord(record), record.uid), record);
  const { encryptedToken: _t, renewJobId: _r, nextRenewAt: _n, ...minimal } = record;
  assert.equal(decodeRecord(encodeRecord(minimal as PodRecord), record.uid), minimal);
});

test("values that follow from others are left out and come back exactly", () => {
  const derived = { ...record, secretName: "m0-leasekeeper", renewJobId: `renew-${record.uid}-17` };
  const encoded = encodeRecord(derived);
  assert.not.ok(encoded.includes("m0-leasekeeper"), "default Secret name omitted");
  assert.not.ok(encoded.includes(`renew-${record.uid}`), "renew job id reduced to its sequence");
  assert.is(encoded.split("database/creds/postgres-role").length - 1, 1, "lease path kept only inside the lease id");
  assert.equal(decodeRecord(encoded, record.uid), derived);
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
  assert.equal(decodeRecord(encodeRecord(odd), record.uid), odd);
});

/** The format-2 layout: every schema field in order (the UID included), absolute times. */
function formatTwo(r: PodRecord): unknown[] {
  const leaseKeys = Object.keys(LeaseRecordSchema.shape);
  const fields = Object.keys(PodRecordSchema.shape).map((k) => {
    const v = (r as Record<string, unknown>)[k];
    if (k === "leases") return r.leases.map((l) => leaseKeys.map((lk) => (l as Record<string, unknown>)[lk] ?? null));
    if (k === "retiring") return r.retiring.map((x) => [x.kind, x.id, x.revokeAt]);
    return v ?? null;
  });
  return [2, ...fields];
}

test("format 3 leaves out the UID (the key names it) and writes times after issuedAt", () => {
  const encoded = encodeRecord(record);
  assert.not.ok(encoded.includes(record.uid), "no UID");
  assert.not.ok(encoded.includes(String(record.tokenExpiresAt)), "no absolute expiry");
  assert.ok(encoded.includes(String(record.tokenExpiresAt - record.issuedAt)));
  assert.is(decodeRecord(encoded, "another-uid").uid, "another-uid", "the UID is the one it is stored under");
  const fractional = { ...record, leaseRenewAt: record.issuedAt + 1000.4 };
  assert.is(decodeRecord(encodeRecord(fractional), record.uid).leaseRenewAt, record.issuedAt + 1000, "to the ms");
  assert.ok(encoded.length < JSON.stringify(formatTwo(record)).length - 60);
});

test("format-2 records (written before) still decode, the ones without a renewSeq slot too", () => {
  const current = { ...record, renewJobId: `renew-${record.uid}-17`, renewSeq: 17 };
  const two = formatTwo(current);
  assert.equal(decodeRecord(JSON.stringify(two), "ignored"), current);
  const older = [...two.slice(0, -1)]; // the layout without the renewSeq slot, renew job id as its sequence
  older[1 + Object.keys(PodRecordSchema.shape).indexOf("renewJobId")] = 17;
  assert.is(decodeRecord(JSON.stringify(older), "ignored").renewSeq, 17);
  assert.is(
    decodeRecord(JSON.stringify([...two.slice(0, -1), null]), "ignored").renewSeq,
    undefined,
    "a new-layout record without one stays without",
  );
});

test("is smaller than plain JSON and refuses unknown formats", () => {
  assert.ok(encodeRecord(record).length < JSON.stringify(record).length * 0.75);
  assert.throws(() => decodeRecord(JSON.stringify(record), record.uid), /unknown format/);
  assert.throws(() => decodeRecord(JSON.stringify([1, "only-uid"]), record.uid));
});

test.run();
