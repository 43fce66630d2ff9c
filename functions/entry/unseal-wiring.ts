import { readFileSync } from "node:fs";
import type { Config } from "../../shared/config/config.ts";
import type { UnsealEnabled } from "../../shared/config/unseal-config.ts";
import { KeyedLock } from "../../shared/index/keyed-lock.ts";
import type { UnsealJob } from "../../shared/jobs/job-types.ts";
import { createKmsClient } from "../../shared/kms/kms-client.ts";
import { KeyCustodian } from "../../shared/unseal/key-custodian.ts";
import { keyStoreFor } from "../../shared/unseal/key-store-from-config.ts";
import { createReplicaDiscovery } from "../../shared/unseal/replica-discovery.ts";
import { createVaultPodsClient } from "../../shared/unseal/vault-pods.ts";
import { createVaultReplicaClient } from "../../shared/unseal/vault-replica-client.ts";
import type { UnsealDeps } from "../../workers/unseal/deps.ts";
import type { UnsealRouteDeps } from "../http/unseal-route.ts";
import { startUnsealSweep } from "../watch/unseal-sweep.ts";
import { VaultPodWatcher } from "../watch/vault-pod-watcher.ts";
import type { Clients } from "./clients.ts";

export interface UnsealWiring {
  /** For the queue workers. */
  readonly worker: { readonly deps: UnsealDeps; readonly concurrency: number };
  /** For the HTTP app (POST /v1/unseal, the CI hook). */
  readonly route: UnsealRouteDeps;
  /** The Vault pod watch (unless replicas are configured by address) and the sweep. */
  startTriggers(): Promise<void>;
  stopTriggers(): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wires the real KMS, Vault-replica and Kubernetes clients for unseal (LEASEKEEPER_UNSEAL=true). */
export function createUnsealWiring(config: Config, unseal: UnsealEnabled, clients: Clients): UnsealWiring {
  const { kc, redis, producer, log, metrics } = clients;
  const kube = clients.deps.kube;
  const kms = createKmsClient(unseal.keys.kms);
  const pods = createVaultPodsClient(kc);
  const custodian = new KeyCustodian({ log, sleep, setPending: (p) => metrics.unsealKeysUnpersisted.set(p ? 1 : 0) });
  const deps: UnsealDeps = {
    replicas: createVaultReplicaClient({
      timeoutMs: config.vaultTimeoutMs,
      caCert: unseal.caCertFile ? readFileSync(unseal.caCertFile, "utf8") : undefined,
      serverName: unseal.tlsServerName,
    }),
    pods,
    keys: keyStoreFor(unseal.keys, kube, kms),
    custodian,
    lock: new KeyedLock(redis, `${config.queuePrefix}:unseal`, 120_000),
    recordEvent: (pod, event) => kube.recordEvent(pod, event),
    log,
    metrics,
    settings: {
      podScheme: unseal.pods.scheme,
      podPort: unseal.pods.port,
      retries: unseal.retries,
      retryBaseMs: 250,
      retryMaxMs: 5000,
      autoInit: unseal.autoInit.enabled
        ? unseal.autoInit
        : { enabled: false, shares: 0, threshold: 0, storeRootToken: false },
    },
    sleep,
    now: Date.now,
    random: Math.random,
  };
  const discovery = createReplicaDiscovery(pods, {
    addresses: unseal.replicas,
    podNamespace: unseal.pods.namespace,
    podSelector: unseal.pods.selector,
  });
  const enqueue = (job: UnsealJob) => producer.unseal(job);
  const watcher =
    unseal.replicas.length === 0
      ? new VaultPodWatcher(
          kc,
          (pod) => enqueue({ replica: { kind: "pod", ...pod }, source: "watch", requestedAt: Date.now() }),
          log,
          metrics,
          {
            namespace: unseal.pods.namespace,
            labelSelector: unseal.pods.selector,
          },
        )
      : undefined;
  let sweep: ReturnType<typeof startUnsealSweep> | undefined;

  return {
    worker: { deps, concurrency: unseal.concurrency },
    route: { discovery, enqueue },
    async startTriggers() {
      await watcher?.start();
      sweep = startUnsealSweep({ discovery, enqueue, log }, unseal.sweepSeconds * 1000);
    },
    async stopTriggers() {
      await sweep?.stop();
      await watcher?.stop();
    },
    async close() {
      await custodian.stop();
      kms.destroy();
    },
  };
}
