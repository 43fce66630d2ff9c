/**
 * Two leasekeeper replicas (two fixtures: own custodian, shared Redis locks and key Secret) and
 * two uninitialised Vault replicas that are not joined yet (Raft before retry_join). Replica 1
 * initialises Vault A but cannot store its keys; while its custodian retries, replica 2 finds the
 * store empty, initialises Vault B and stores B's keys. The custodian must never overwrite them.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import type { Job } from "bullmq";
import { startKmsEmulator, type KmsEmulator } from "../../emulators/kms/index.ts";
import { startKubernetesEmulator, type KubernetesEmulator } from "../../emulators/kubernetes/index.ts";
import { kubeConfigFor } from "../../emulators/kubernetes/testing.ts";
import { startVaultEmulator, type VaultEmulator } from "../../emulators/vault/index.ts";
import { startRedis, type RedisServer } from "../../helpers/redis.ts";
import { waitFor } from "../../e2e/harness.ts";
import { createKubeClient } from "../../../shared/kube/kube-client.ts";
import type { UnsealJob, UnsealOutcome } from "../../../shared/jobs/job-types.ts";
import type { KubePort } from "../../../shared/ports/vault-kube.ts";
import type { KeyBlobStore } from "../../../shared/unseal/key-blob-store.ts";
import { KeyCustodian } from "../../../shared/unseal/key-custodian.ts";
import { createSecretBlobStore } from "../../../shared/unseal/secret-blob-store.ts";
import { createUnsealProcessor } from "../../../workers/unseal/processor.ts";
import { makeFixture, secretForms, trustAddresses, type Fixture } from "./fixture.ts";

let kms: KmsEmulator;
let kubeEmu: KubernetesEmulator;
let redis: RedisServer;
let keyId: string;
let kube: KubePort;
const open: { close(): Promise<void> }[] = [];

test.before(async () => {
  kms = await startKmsEmulator();
  kubeEmu = await startKubernetesEmulator();
  kubeEmu.control.put("namespaces", { metadata: { name: "vault" } });
  redis = await startRedis();
  keyId = (await kms.createKey({ alias: "alias/race" })).keyId;
  kube = createKubeClient(kubeConfigFor(kubeEmu));
});
test.after(async () => {
  for (const o of open.reverse()) await o.close();
  await redis.stop();
  await kubeEmu.close();
  await kms.close();
});

const AUTO_INIT = { enabled: true, shares: 3, threshold: 2, storeRootToken: false };
const job = (addr: string): Job =>
  ({
    id: "t",
    data: { replica: { kind: "address", addr }, source: "sweep", requestedAt: Date.now() } satisfies UnsealJob,
  }) as unknown as Job;
const run = (f: Fixture, v: VaultEmulator) =>
  createUnsealProcessor(f.deps, trustAddresses(v.url))(job(v.url)) as Promise<UnsealOutcome>;
async function uninitialised(): Promise<VaultEmulator> {
  const v = await startVaultEmulator({ initialized: false });
  open.push(v);
  return v;
}

test("a custodian retry never overwrites the keys another replica stored meanwhile", async () => {
  const [a, b] = [await uninitialised(), await uninitialised()];
  const secretName = `unseal-keys-${randomBytes(3).toString("hex")}`;
  const real = createSecretBlobStore(kube, "vault", secretName);
  let failures = 2;
  const flaky: KeyBlobStore = {
    ...real,
    create: async (entries, options) => {
      if (failures-- > 0) throw new Error("etcd request timed out (simulated)");
      return real.create(entries, options);
    },
  };
  const lockPrefix = `{race${randomBytes(3).toString("hex")}}:unseal`;
  const one = makeFixture({
    kms,
    keyId,
    redisUrl: redis.url,
    blobs: flaky,
    lockPrefix,
    settings: { retries: 1, autoInit: AUTO_INIT },
  });
  const two = makeFixture({
    kms,
    keyId,
    redisUrl: redis.url,
    blobs: real,
    lockPrefix,
    settings: { retries: 1, autoInit: AUTO_INIT },
  });
  open.push(one, two);
  // Replica 1's custodian waits at its first back-off until replica 2 has done its init.
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const custodian = new KeyCustodian({
    log: one.deps.log,
    setPending: () => undefined,
    sleep: async () => {
      await gate;
      await new Promise((r) => setTimeout(r, 5));
    },
  });
  one.deps = { ...one.deps, custodian };

  try {
    await raceAndCheck({ one, two, a, b, custodian, release, real, lockPrefix });
  } finally {
    release();
    await custodian.stop();
  }
});

interface Race {
  readonly one: Fixture;
  readonly two: Fixture;
  readonly a: VaultEmulator;
  readonly b: VaultEmulator;
  readonly custodian: KeyCustodian;
  readonly release: () => void;
  readonly real: KeyBlobStore;
  readonly lockPrefix: string;
}

async function raceAndCheck({ one, two, a, b, custodian, release, real, lockPrefix }: Race): Promise<void> {
  assert.is((await run(one, a)).outcome, "unsealed", "A initialised and unsealed from the keys in memory");
  assert.ok(custodian.pending, "A's keys are held in memory");
  assert.is((await run(two, b)).outcome, "unsealed", "B initialised (the store was empty) and its keys stored");
  assert.equal(
    (await two.keys.load())?.shares.map((s) => s.toString("hex")),
    b.unsealKeys,
  );

  release();
  await waitFor(
    "the custodian gave up on overwriting or stored",
    async () => !custodian.pending || one.logs.join("").includes("holds another initialisation's keys"),
    10_000,
  );
  const stored = await two.keys.load();
  assert.equal(
    stored?.shares.map((s) => s.toString("hex")),
    b.unsealKeys,
    "B's keys are still the stored ones",
  );
  stored?.wipe();
  assert.ok(custodian.pending, "A's keys stay in memory (not lost, not written over B's)");

  // B restarts sealed and a fresh leasekeeper process (nothing in memory) unseals it from the store.
  b.control.restartSealed();
  const fresh = makeFixture({
    kms,
    keyId,
    redisUrl: redis.url,
    blobs: real,
    lockPrefix,
    settings: { autoInit: AUTO_INIT },
  });
  open.push(fresh);
  assert.is((await run(fresh, b)).outcome, "unsealed");
  for (const form of secretForms([...a.unsealKeys, ...b.unsealKeys]))
    assert.not.ok(one.logs.join("").includes(form), "a key in the logs");
}

test("while keys of an earlier init are held in memory, the same process initialises no other Vault", async () => {
  const [a, c] = [await uninitialised(), await uninitialised()];
  const real = createSecretBlobStore(kube, "vault", `unseal-keys-${randomBytes(3).toString("hex")}`);
  const broken: KeyBlobStore = {
    ...real,
    create: async () => {
      throw new Error("etcd request timed out (simulated)");
    },
  };
  const f = makeFixture({
    kms,
    keyId,
    redisUrl: redis.url,
    blobs: broken,
    settings: { retries: 1, autoInit: AUTO_INIT },
  });
  open.push(f);
  const custodian = new KeyCustodian({
    log: f.deps.log,
    setPending: () => undefined,
    sleep: () => new Promise((r) => setTimeout(r, 20)),
  });
  f.deps = { ...f.deps, custodian };
  try {
    assert.is((await run(f, a)).outcome, "unsealed");
    assert.ok(custodian.pending);
    const out = await run(f, c);
    assert.is(out.outcome, "not-initialized");
    assert.is(
      c.control.requests().filter((r) => r.path === "sys/init" && r.method !== "GET").length,
      0,
      "no sys/init on the second Vault",
    );
  } finally {
    await custodian.stop();
  }
});

test("Secret store overwrite (keys import --force) is compare-and-set: a concurrent writer's keys are not replaced", async () => {
  const name = `unseal-keys-${randomBytes(3).toString("hex")}`;
  let racing = false;
  const racingKube: KubePort = {
    ...kube,
    readSecret: async (namespace, secretName) => {
      const read = await kube.readSecret(namespace, secretName);
      if (racing && read) {
        racing = false;
        // Someone else rewrites the store between our read and our replace.
        await kube.replaceSecret(namespace, secretName, {
          ...read,
          metadata: {
            ...read.metadata,
            annotations: { ...read.metadata?.annotations, "leasekeeper.io/writer": "other" },
          },
        });
      }
      return read;
    },
  };
  const store = createSecretBlobStore(racingKube, "vault", name);
  await store.create(new Map([["unseal-0", new Uint8Array([1])]]), { overwrite: false, metadata: {} });
  racing = true;
  const err = await store.create(new Map([["unseal-0", new Uint8Array([2])]]), { overwrite: true, metadata: {} }).then(
    () => undefined,
    (e: unknown) => e as { reason?: string },
  );
  assert.is(err?.reason, "KeyStoreConflict");
  assert.equal([...((await store.read())?.get("unseal-0") ?? [])], [1], "the other writer's version stays");
});

test.run();
