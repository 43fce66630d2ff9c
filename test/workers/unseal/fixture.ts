/** Builds real unseal deps (KMS emulator, Vault emulator over HTTP, Redis lock) for worker tests, logs captured. */
import { Writable } from "node:stream";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { KeyedLock } from "../../../shared/index/keyed-lock.ts";
import { createKmsClient } from "../../../shared/kms/kms-client.ts";
import { createLogger } from "../../../shared/observability/log.ts";
import { createMetrics } from "../../../shared/observability/metrics.ts";
import type { PodEvent } from "../../../shared/ports/vault-kube.ts";
import { baseContext } from "../../../shared/unseal/encryption-context.ts";
import { createFileBlobStore } from "../../../shared/unseal/file-blob-store.ts";
import type { KeyBlobStore } from "../../../shared/unseal/key-blob-store.ts";
import { KeyCustodian } from "../../../shared/unseal/key-custodian.ts";
import { createSealedKeyStore, type SealedKeyStore } from "../../../shared/unseal/sealed-key-store.ts";
import { createReplicaTrust, type ReplicaTrust } from "../../../shared/unseal/replica-trust.ts";
import type { VaultPodsPort } from "../../../shared/unseal/vault-pods.ts";
import { createVaultReplicaClient, type VaultReplicaPort } from "../../../shared/unseal/vault-replica-client.ts";
import type { UnsealDeps, UnsealSettings } from "../../../workers/unseal/deps.ts";
import type { KmsEmulator } from "../../emulators/kms/index.ts";

process.env.AWS_ACCESS_KEY_ID ??= "test";
process.env.AWS_SECRET_ACCESS_KEY ??= "test";

export interface Fixture {
  deps: UnsealDeps;
  keys: SealedKeyStore;
  logs: string[];
  events: { pod: { namespace: string; name: string; uid: string }; event: PodEvent }[];
  sleeps: number[];
  close(): Promise<void>;
}

export interface FixtureOptions {
  kms: KmsEmulator;
  keyId: string;
  redisUrl: string;
  clusterId?: string;
  blobs?: KeyBlobStore;
  replicas?: VaultReplicaPort;
  pods?: VaultPodsPort;
  settings?: Partial<UnsealSettings>;
  /** Share the Redis locks ("init", per replica) with another fixture, as two leasekeeper replicas do. */
  lockPrefix?: string;
}

export function makeFixture(opts: FixtureOptions): Fixture {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const log = createLogger("debug", sink);
  const metrics = createMetrics(new Registry());
  const kms = createKmsClient({ keyId: opts.keyId, region: opts.kms.region, endpoint: opts.kms.url, maxAttempts: 1 });
  const blobs = opts.blobs ?? createFileBlobStore(join(mkdtempSync(join(tmpdir(), "lk-unseal-")), "keys.json"));
  const keys = createSealedKeyStore(blobs, kms, baseContext(opts.clusterId ?? "test-cluster"));
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 3 });
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    await new Promise((r) => setTimeout(r, 1));
  };
  const events: Fixture["events"] = [];
  const deps: UnsealDeps = {
    replicas: opts.replicas ?? createVaultReplicaClient({ timeoutMs: 2000 }),
    pods: opts.pods ?? { listVaultPods: async () => [], readPod: async () => undefined },
    keys,
    custodian: new KeyCustodian({
      log,
      sleep,
      setPending: (p) => metrics.unsealKeysUnpersisted.set(p ? 1 : 0),
      backoff: { baseMs: 5, maxMs: 20 },
    }),
    lock: new KeyedLock(redis, opts.lockPrefix ?? `{t${randomBytes(4).toString("hex")}}:unseal`, 60_000),
    recordEvent: async (pod, event) => void events.push({ pod, event }),
    log,
    metrics,
    settings: {
      podScheme: "http",
      podPort: 8200,
      retries: 4,
      retryBaseMs: 10,
      retryMaxMs: 40,
      autoInit: { enabled: false, shares: 5, threshold: 3, storeRootToken: true },
      ...opts.settings,
    },
    sleep,
    now: Date.now,
    random: Math.random,
  };
  return {
    deps,
    keys,
    logs,
    events,
    sleeps,
    async close() {
      kms.destroy();
      redis.disconnect();
    },
  };
}

/** Trust exactly these replica addresses (LEASEKEEPER_VAULT_REPLICAS), as the workers role builds it from configuration. */
export function trustAddresses(...addresses: string[]): ReplicaTrust {
  return createReplicaTrust({
    vaultReplicas: addresses,
    vaultPodNamespace: "vault",
    vaultPodSelector: "app.kubernetes.io/name=vault,component=server",
  });
}

/** Every rendering of a secret that must never appear in logs, events, jobs or metrics. */
export function secretForms(secrets: readonly (string | Uint8Array)[]): string[] {
  const out: string[] = [];
  for (const s of secrets) {
    const buf =
      typeof s === "string"
        ? /^[0-9a-f]+$/i.test(s)
          ? Buffer.from(s, "hex")
          : Buffer.from(s, "utf8")
        : Buffer.from(s);
    if (typeof s === "string") out.push(s);
    out.push(buf.toString("hex"), buf.toString("base64"), buf.toString("base64url"));
  }
  return out.filter((f) => f.length >= 8);
}
