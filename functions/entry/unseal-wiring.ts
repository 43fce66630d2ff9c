import { readFileSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import type { RedisClient as Redis } from "../../shared/redis/connection.ts";
import type { Config } from "../../shared/config/config.ts";
import { ConfigError } from "../../shared/config/config.ts";
import { ENV } from "../../shared/config/env-vars.ts";
import { KeyedLock as PodLock } from "../../shared/index/keyed-lock.ts";
import type { JobProducer } from "../../shared/jobs/producer.ts";
import { createKmsClient } from "../../shared/kms/kms-client.ts";
import type { Log } from "../../shared/observability/log.ts";
import type { Metrics } from "../../shared/observability/metrics.ts";
import type { KubePort } from "../../shared/ports/vault-kube.ts";
import { KeyCustodian } from "../../shared/unseal/key-custodian.ts";
import { keyStoreFromConfig } from "../../shared/unseal/key-store-from-config.ts";
import { createReplicaDiscovery } from "../../shared/unseal/replica-discovery.ts";
import { createVaultPodsClient } from "../../shared/unseal/vault-pods.ts";
import { createVaultReplicaClient } from "../../shared/unseal/vault-replica-client.ts";
import type { UnsealDeps } from "../../workers/unseal/deps.ts";
import type { UnsealRouteDeps } from "../http/unseal-route.ts";
import { startUnsealSweep } from "../watch/unseal-sweep.ts";
import { VaultPodWatcher } from "../watch/vault-pod-watcher.ts";

export interface UnsealRuntime {
  /** For startWorkers (workers role). */
  readonly worker: { readonly deps: UnsealDeps; readonly concurrency: number };
  /** For createApp (functions role). */
  readonly route: UnsealRouteDeps;
  readonly watcher: VaultPodWatcher | undefined;
  /** Starts the Vault pod watch (unless replicas are configured by address) and the sweep (watch role). */
  startTriggers(): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wires the real KMS, Vault-replica and Kubernetes clients for unseal. Called only when LEASEKEEPER_UNSEAL=true. */
export function createUnsealRuntime(
  config: Config,
  shared: { kc: KubeConfig; kube: KubePort; redis: Redis; producer: JobProducer; log: Log; metrics: Metrics },
): UnsealRuntime {
  const { kc, kube, redis, producer, log, metrics } = shared;
  if (!config.kmsKeyId) throw new ConfigError(`${ENV.kmsKeyId} is required when ${ENV.unsealEnabled}=true`);
  const kms = createKmsClient({ keyId: config.kmsKeyId, region: config.kmsRegion, endpoint: config.kmsEndpoint });
  const pods = createVaultPodsClient(kc);
  const custodian = new KeyCustodian({ log, sleep, setPending: (p) => metrics.unsealKeysUnpersisted.set(p ? 1 : 0) });
  const deps: UnsealDeps = {
    replicas: createVaultReplicaClient({ timeoutMs: config.vaultTimeoutMs, caCert: config.vaultCaCertFile ? readFileSync(config.vaultCaCertFile, "utf8") : undefined }),
    pods,
    keys: keyStoreFromConfig(config, kube, kms),
    custodian,
    lock: new PodLock(redis, `${config.queuePrefix}:unseal`, 120_000),
    recordEvent: (pod, event) => kube.recordEvent(pod, event),
    log,
    metrics,
    settings: {
      podScheme: config.vaultPodScheme,
      podPort: config.vaultPodPort,
      retries: config.unsealRetries,
      retryBaseMs: 250,
      retryMaxMs: 5000,
      autoInit: { enabled: config.unsealAutoInit, shares: config.unsealInitShares, threshold: config.unsealInitThreshold, storeRootToken: config.unsealStoreRootToken },
    },
    sleep,
    now: Date.now,
    random: Math.random,
  };
  const discovery = createReplicaDiscovery(pods, { addresses: config.vaultReplicas, podNamespace: config.vaultPodNamespace, podSelector: config.vaultPodSelector });
  const enqueue = (job: Parameters<JobProducer["unseal"]>[0]) => producer.unseal(job);
  const watcher =
    config.vaultReplicas.length === 0
      ? new VaultPodWatcher(kc, (pod, _trigger) => enqueue({ replica: { kind: "pod", ...pod }, source: "watch", requestedAt: Date.now() }), log, metrics, {
          namespace: config.vaultPodNamespace,
          labelSelector: config.vaultPodSelector,
        })
      : undefined;
  let sweep: ReturnType<typeof startUnsealSweep> | undefined;

  return {
    worker: { deps, concurrency: config.unsealConcurrency },
    route: { discovery, enqueue },
    watcher,
    async startTriggers() {
      await watcher?.start();
      sweep = startUnsealSweep({ discovery, enqueue, log }, config.unsealSweepSeconds * 1000);
    },
    async stop() {
      await sweep?.stop();
      await watcher?.stop();
      await custodian.stop();
      kms.destroy();
    },
  };
}
