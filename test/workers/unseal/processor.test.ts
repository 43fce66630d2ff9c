/**
 * The unseal processor against the real clients: Vault emulator over HTTP (node-vault), KMS
 * emulator (@aws-sdk/client-kms), a Redis lock. Every closed-set outcome, stale-attempt reset,
 * wrong keys without looping, KMS throttling/outage, auto-init and the key custodian.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Job } from "bullmq";
import { startKmsEmulator, type KmsEmulator } from "../../emulators/kms/index.ts";
import { startVaultEmulator, type VaultEmulator } from "../../emulators/vault/index.ts";
import { startRedis, type RedisServer } from "../../helpers/redis.ts";
import { freePort } from "../../helpers/ports.ts";
import type { UnsealJob, UnsealOutcome } from "../../../shared/jobs/job-types.ts";
import { createUnsealProcessor } from "../../../workers/unseal/processor.ts";
import type { KeyBlobStore } from "../../../shared/unseal/key-blob-store.ts";
import { makeFixture, secretForms, trustAddresses, type Fixture, type FixtureOptions } from "./fixture.ts";

let kms: KmsEmulator;
let redis: RedisServer;
let keyId: string;
const open: { close(): Promise<void> }[] = [];

test.before(async () => {
  kms = await startKmsEmulator();
  redis = await startRedis();
  keyId = (await kms.createKey({ alias: "alias/unseal-test" })).keyId;
});
test.after(async () => {
  for (const o of open.reverse()) await o.close();
  await redis.stop();
  await kms.close();
});
test.before.each(() => {
  kms.control.reset();
});

async function vaultOf(opts: Parameters<typeof startVaultEmulator>[0] = {}): Promise<VaultEmulator> {
  const v = await startVaultEmulator(opts);
  open.push(v);
  return v;
}
function fixture(extra: Partial<FixtureOptions> = {}): Fixture {
  const f = makeFixture({ kms, keyId, redisUrl: redis.url, ...extra });
  open.push(f);
  return f;
}
const hexShares = (v: VaultEmulator) => v.unsealKeys.map((k) => Buffer.from(k, "hex"));
const job = (addr: string): Job =>
  ({
    id: "t",
    data: { replica: { kind: "address", addr }, source: "api", requestedAt: Date.now() } satisfies UnsealJob,
  }) as unknown as Job;
/** Runs one job against `addr`, which configuration lists (LEASEKEEPER_VAULT_REPLICAS) as a trusted replica. */
const run = (f: Fixture, addr: string) =>
  createUnsealProcessor(f.deps, trustAddresses(addr))(job(addr)) as Promise<UnsealOutcome>;
const unsealCalls = (v: VaultEmulator) => v.control.requests().filter((r) => r.path === "sys/unseal").length;

function assertNoSecrets(f: Fixture, secrets: readonly (string | Uint8Array)[], extra = "") {
  const haystack = f.logs.join("") + JSON.stringify(f.events) + extra;
  for (const form of secretForms(secrets))
    assert.not.ok(haystack.includes(form), "a key leaked into logs/events/results");
}

test("sealed replica → unsealed with exactly threshold shares; metrics and a Normal event", async () => {
  const v = await vaultOf();
  const f = fixture();
  await f.keys.save({ shares: hexShares(v) }, { overwrite: false });
  v.control.seal();
  const out = await run(f, v.url);
  assert.is(out.outcome, "unsealed");
  assert.is(v.control.isSealed(), false);
  if (out.outcome === "unsealed") assert.is(out.sharesSubmitted, 3);
  assert.is(unsealCalls(v), 3);
  const metrics = await f.deps.metrics.registry.metrics();
  assert.match(metrics, /leasekeeper_unseal_attempts_total\{outcome="unsealed"\} 1/);
  assert.match(metrics, /leasekeeper_vault_last_unseal_timestamp_seconds\{replica="127\.0\.0\.1:\d+"\} \d/);
  assertNoSecrets(f, v.unsealKeys, JSON.stringify(out) + metrics);
});

test("unsealed replica → already-unsealed, KMS never called", async () => {
  const v = await vaultOf();
  const f = fixture();
  await f.keys.save({ shares: hexShares(v) }, { overwrite: false });
  kms.control.resetCounts();
  const out = await run(f, v.url);
  assert.is(out.outcome, "already-unsealed");
  assert.is(kms.control.calls("Decrypt"), 0);
});

test("uninitialised replica with auto-init off → not-initialized, nothing written", async () => {
  const v = await vaultOf({ initialized: false });
  const f = fixture();
  const out = await run(f, v.url);
  assert.is(out.outcome, "not-initialized");
  assert.is(await f.keys.counts(), undefined);
  assert.is(v.control.requests().filter((r) => r.path === "sys/init" && r.method !== "GET").length, 0);
});

test("wrong keys → bad-keys after one pass of threshold shares, no loop, Warning event", async () => {
  const v = await vaultOf();
  const other = await vaultOf();
  const f = fixture();
  await f.keys.save({ shares: hexShares(other) }, { overwrite: false });
  v.control.seal();
  const out = await run(f, v.url);
  assert.is(out.outcome, "bad-keys");
  assert.is(unsealCalls(v), 3, "stops at the threshold, does not try again");
  assert.ok(v.control.isSealed());
  assertNoSecrets(f, [...v.unsealKeys, ...other.unsealKeys], JSON.stringify(out));
});

test("too few stored shares → bad-keys without submitting any", async () => {
  const v = await vaultOf();
  const f = fixture();
  await f.keys.save({ shares: hexShares(v).slice(0, 2) }, { overwrite: false });
  v.control.seal();
  const out = await run(f, v.url);
  assert.is(out.outcome, "bad-keys");
  assert.is(unsealCalls(v), 0);
});

test("ciphertexts of another cluster's context → bad-keys (InvalidCiphertext), not a KMS outage", async () => {
  const v = await vaultOf();
  const dir = fixture();
  await dir.keys.save({ shares: hexShares(v) }, { overwrite: false });
  // Same file, read with a different cluster id.
  const blobs = (dir.keys as unknown as { location: string }).location.replace(/^file /, "");
  const { createFileBlobStore } = await import("../../../shared/unseal/file-blob-store.ts");
  const f = fixture({ clusterId: "another-cluster", blobs: createFileBlobStore(blobs) });
  v.control.seal();
  const out = await run(f, v.url);
  assert.is(out.outcome, "bad-keys");
  if (out.outcome === "bad-keys") assert.match(out.reason, /InvalidCiphertextException/);
  assert.is(unsealCalls(v), 0);
});

test("stale partial attempt left by someone else is reset, then unsealed", async () => {
  const v = await vaultOf();
  const other = await vaultOf();
  const f = fixture();
  await f.keys.save({ shares: hexShares(v) }, { overwrite: false });
  v.control.seal();
  // Someone submitted one share (of another vault) and walked away: progress 1 of 3.
  const res = await fetch(`${v.url}/v1/sys/unseal`, {
    method: "PUT",
    body: JSON.stringify({ key: other.unsealKeys[0] }),
  });
  assert.is(((await res.json()) as { progress: number }).progress, 1);
  const out = await run(f, v.url);
  assert.is(out.outcome, "unsealed");
  if (out.outcome === "unsealed") assert.ok(out.staleAttemptReset);
  assert.ok(v.control.requests().some((r) => r.path === "sys/unseal" && r.status === 200));
});

test("KMS throttled twice → retried with backoff, then unsealed", async () => {
  const v = await vaultOf();
  const f = fixture();
  await f.keys.save({ shares: hexShares(v) }, { overwrite: false });
  v.control.seal();
  kms.control.throttleNext(2, { operation: "Decrypt" });
  const out = await run(f, v.url);
  assert.is(out.outcome, "unsealed");
  assert.ok(f.sleeps.length >= 2, "backed off between tries");
});

test("KMS throttled on every call → kms-unavailable after the configured tries; Vault untouched", async () => {
  const v = await vaultOf();
  const f = fixture();
  await f.keys.save({ shares: hexShares(v) }, { overwrite: false });
  v.control.seal();
  kms.control.resetCounts();
  kms.control.throttleNext(1000, { operation: "Decrypt" });
  const out = await run(f, v.url);
  assert.is(out.outcome, "kms-unavailable");
  if (out.outcome === "kms-unavailable") assert.match(out.reason, /Throttling/);
  assert.is(kms.control.calls("Decrypt"), 4, "retries = 4 tries in all (SDK maxAttempts 1 in this fixture)");
  assert.is(unsealCalls(v), 0);
  assert.ok(v.control.isSealed());
});

test("KMS offline → kms-unavailable; KMS AccessDenied → kms-unavailable without retrying", async () => {
  const v = await vaultOf();
  const f = fixture();
  await f.keys.save({ shares: hexShares(v) }, { overwrite: false });
  v.control.seal();
  await kms.control.goOffline();
  try {
    const out = await run(f, v.url);
    assert.is(out.outcome, "kms-unavailable");
  } finally {
    await kms.control.goOnline();
  }
  kms.control.resetCounts();
  kms.control.denyOperation("Decrypt");
  const denied = await run(f, v.url);
  assert.is(denied.outcome, "kms-unavailable");
  if (denied.outcome === "kms-unavailable") assert.match(denied.reason, /AccessDenied/);
  assert.is(kms.control.calls("Decrypt"), 1, "permanent: no retry");
});

test("unreachable replica → unreachable after the configured tries", async () => {
  const f = fixture();
  const port = await freePort();
  const out = await run(f, `http://127.0.0.1:${port}`);
  assert.is(out.outcome, "unreachable");
  assert.is(f.sleeps.length, 3);
});

test("auto-init: probe, init, store create-only and verified, then unseal; keys never logged", async () => {
  const v = await vaultOf({ initialized: false });
  const f = fixture({ settings: { autoInit: { enabled: true, shares: 5, threshold: 3, storeRootToken: true } } });
  const out = await run(f, v.url);
  assert.is(out.outcome, "unsealed");
  if (out.outcome === "unsealed") assert.ok(out.initialized);
  assert.is(v.control.isSealed(), false);
  const stored = await f.keys.load({ rootToken: true });
  assert.ok(stored);
  assert.is(stored.shares.length, 5);
  assert.equal(
    stored.shares.map((s) => s.toString("hex")),
    v.unsealKeys,
  );
  assert.is(stored.rootToken?.toString("utf8"), v.rootToken);
  stored.wipe();
  assertNoSecrets(f, [...v.unsealKeys, v.rootToken], JSON.stringify(out) + (await f.deps.metrics.registry.metrics()));
});

test("auto-init refuses when the key store already holds keys (they may belong to another Vault)", async () => {
  const v = await vaultOf({ initialized: false });
  const other = await vaultOf();
  const f = fixture({ settings: { autoInit: { enabled: true, shares: 5, threshold: 3, storeRootToken: false } } });
  await f.keys.save({ shares: hexShares(other) }, { overwrite: false });
  const out = await run(f, v.url);
  assert.is(out.outcome, "not-initialized");
  assert.is(v.control.requests().filter((r) => r.path === "sys/init" && r.method !== "GET").length, 0);
});

test("auto-init: probe failure leaves Vault uninitialised", async () => {
  const v = await vaultOf({ initialized: false });
  const f = fixture({ settings: { autoInit: { enabled: true, shares: 3, threshold: 2, storeRootToken: false } } });
  kms.control.denyOperation("Encrypt");
  const out = await run(f, v.url);
  assert.is(out.outcome, "not-initialized");
  const status = (await (await fetch(`${v.url}/v1/sys/init`)).json()) as { initialized: boolean };
  assert.is(status.initialized, false);
});

test("auto-init: storing fails after init → keys held in memory, Vault still unsealed, store retried until it works", async () => {
  const v = await vaultOf({ initialized: false });
  const { createFileBlobStore } = await import("../../../shared/unseal/file-blob-store.ts");
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const real = createFileBlobStore(join(mkdtempSync(join(tmpdir(), "lk-flaky-")), "keys.json"));
  let failures = 3;
  const flaky: KeyBlobStore = {
    location: real.location,
    read: () => real.read(),
    probe: (b) => real.probe(b),
    create: async (entries, o) => {
      if (failures-- > 0) throw new Error("disk full (simulated)");
      return real.create(entries, o);
    },
  };
  const f = fixture({
    blobs: flaky,
    settings: { retries: 1, autoInit: { enabled: true, shares: 3, threshold: 2, storeRootToken: true } },
  });
  const out = await run(f, v.url);
  assert.is(out.outcome, "unsealed");
  assert.is(v.control.isSealed(), false);
  assert.ok(f.deps.custodian.pending || (await f.keys.counts()) !== undefined);
  await f.deps.custodian.settled();
  assert.not.ok(f.deps.custodian.pending);
  const stored = await f.keys.load({ rootToken: true });
  assert.equal(
    stored?.shares.map((s) => s.toString("hex")),
    v.unsealKeys,
  );
  stored?.wipe();
  const logs = f.logs.join("");
  assert.match(logs, /VAULT UNSEAL KEYS NOT PERSISTED/);
  assert.match(logs, /now stored in the key store/);
  // Restart sealed while keys are in memory only is covered by the custodian: they are used first.
  assertNoSecrets(f, [...v.unsealKeys, v.rootToken], JSON.stringify(out));
});

// ---- bad input: clear error and outcome, Vault left as it was (sealed, progress 0, no share submitted) ----

const storeFile = (f: Fixture) => f.keys.location.replace(/^file /, "");
async function editStore(f: Fixture, edit: (entries: Record<string, string>) => void): Promise<void> {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const body = JSON.parse(readFileSync(storeFile(f), "utf8")) as { entries: Record<string, string> };
  edit(body.entries);
  writeFileSync(storeFile(f), JSON.stringify(body));
}
async function assertUntouched(v: VaultEmulator) {
  assert.ok(v.control.isSealed(), "Vault left sealed");
  assert.is(unsealCalls(v), 0, "no share submitted");
  const status = (await (await fetch(`${v.url}/v1/sys/seal-status`)).json()) as { progress: number };
  assert.is(status.progress, 0, "no unseal attempt left behind");
}

test("bad input: a missing share entry → bad-keys naming it, nothing submitted", async () => {
  const v = await vaultOf();
  const f = fixture();
  await f.keys.save({ shares: hexShares(v) }, { overwrite: false });
  await editStore(f, (e) => void delete e["unseal-1"]);
  v.control.seal();
  const out = await run(f, v.url);
  assert.is(out.outcome, "bad-keys");
  if (out.outcome === "bad-keys") assert.match(out.reason, /KeyStoreInvalid: .*unseal-1 missing/);
  await assertUntouched(v);
  assertNoSecrets(f, v.unsealKeys, JSON.stringify(out));
});

test("bad input: the same share stored twice → bad-keys naming both entries, nothing submitted; save refuses duplicates", async () => {
  const v = await vaultOf();
  const f = fixture();
  const [s0, s1] = hexShares(v) as [Buffer, Buffer];
  const refused = await f.keys.save({ shares: [s0, s1, s0] }, { overwrite: false }).then(
    () => "saved",
    (err: unknown) => String(err),
  );
  assert.match(refused, /#1 and #3 are the same share/);
  assert.is(await f.keys.counts(), undefined, "nothing stored");
  // A store that holds a duplicate anyway (written by hand / an older tool): each entry is a valid
  // ciphertext under its own context, two of them decrypt to the same share.
  const { createKmsClient } = await import("../../../shared/kms/kms-client.ts");
  const { baseContext } = await import("../../../shared/unseal/encryption-context.ts");
  const kmsClient = createKmsClient({ keyId, region: kms.region, endpoint: kms.url, maxAttempts: 1 });
  try {
    const ctx = (entry: string) => ({ ...baseContext("test-cluster"), entry });
    await f.keys.save({ shares: hexShares(v) }, { overwrite: false });
    const dup = Buffer.from(await kmsClient.encrypt(s0, ctx("unseal-3"))).toString("base64");
    await editStore(f, (e) => void (e["unseal-3"] = dup));
  } finally {
    kmsClient.destroy();
  }
  v.control.seal();
  const out = await run(f, v.url);
  assert.is(out.outcome, "bad-keys");
  if (out.outcome === "bad-keys") assert.match(out.reason, /entries unseal-0 and unseal-3 hold the same share/);
  await assertUntouched(v);
  assertNoSecrets(f, v.unsealKeys, JSON.stringify(out));
});

test("bad input: a non-base64 entry → bad-keys naming the entry (not its value), KMS not called", async () => {
  const v = await vaultOf();
  const f = fixture();
  await f.keys.save({ shares: hexShares(v) }, { overwrite: false });
  await editStore(f, (e) => void (e["unseal-2"] = "not*base64!%"));
  v.control.seal();
  kms.control.resetCounts();
  const out = await run(f, v.url);
  assert.is(out.outcome, "bad-keys");
  if (out.outcome === "bad-keys") {
    assert.match(out.reason, /entry unseal-2 is not a base64 ciphertext/);
    assert.not.match(out.reason, /not\*base64/);
  }
  assert.is(kms.control.calls("Decrypt"), 0);
  await assertUntouched(v);
});

test("bad input: ciphertexts for another KMS key → bad-keys (IncorrectKey), not a KMS outage, no retry", async () => {
  const v = await vaultOf();
  const other = (await kms.createKey()).keyId;
  const writer = fixture({ keyId: other });
  await writer.keys.save({ shares: hexShares(v) }, { overwrite: false });
  const { createFileBlobStore } = await import("../../../shared/unseal/file-blob-store.ts");
  const f = fixture({ blobs: createFileBlobStore(storeFile(writer)) });
  v.control.seal();
  const out = await run(f, v.url);
  assert.is(out.outcome, "bad-keys");
  if (out.outcome === "bad-keys") assert.match(out.reason, /IncorrectKeyException|InvalidCiphertextException/);
  assert.is(f.sleeps.length, 0, "permanent: not retried");
  await assertUntouched(v);
});

test("bad input: an address that is not Vault → unreachable with a clear reason, no retry storm, nothing sent", async () => {
  const { createServer } = await import("node:http");
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url?.startsWith("/v1/sys/seal-status")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "ok", service: "not-vault" }));
      return;
    }
    res.writeHead(404, { "content-type": "text/html" });
    res.end("<html>404</html>");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  open.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
  const addr = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const f = fixture({ settings: { autoInit: { enabled: true, shares: 3, threshold: 2, storeRootToken: false } } });
  const out = await run(f, addr);
  assert.is(out.outcome, "unreachable");
  if (out.outcome === "unreachable") assert.match(out.reason, /does not answer like Vault/);
  assert.equal(hits, ["GET /v1/sys/seal-status"], "one read, no init even with auto-init on");
  assert.is(f.sleeps.length, 0);

  const notFound = createServer((_req, res) => {
    res.writeHead(404, { "content-type": "text/html" });
    res.end("<html>404</html>");
  });
  await new Promise<void>((r) => notFound.listen(0, "127.0.0.1", r));
  open.push({ close: () => new Promise<void>((r) => notFound.close(() => r())) });
  const out404 = await run(f, `http://127.0.0.1:${(notFound.address() as { port: number }).port}`);
  assert.is(out404.outcome, "unreachable");
  if (out404.outcome === "unreachable") assert.match(out404.reason, /not found/);
});

test.run();
