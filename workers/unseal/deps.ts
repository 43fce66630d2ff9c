import type { Log } from "../../shared/observability/log.ts";
import type { Metrics } from "../../shared/observability/metrics.ts";
import type { PodEvent } from "../../shared/ports/vault-kube.ts";
import type { KeyCustodian } from "../../shared/unseal/key-custodian.ts";
import type { SealedKeyStore } from "../../shared/unseal/sealed-key-store.ts";
import type { VaultPodsPort } from "../../shared/unseal/vault-pods.ts";
import type { VaultReplicaPort } from "../../shared/unseal/vault-replica-client.ts";

/** Mutual exclusion by key across workers (shared/index/keyed-lock.ts's KeyedLock satisfies it). */
export interface KeyedLock {
  run<T>(key: string, fn: () => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }>;
}

export interface UnsealSettings {
  readonly podScheme: "http" | "https";
  readonly podPort: number;
  /** Tries per step before giving up with an outcome. */
  readonly retries: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly autoInit: {
    readonly enabled: boolean;
    readonly shares: number;
    readonly threshold: number;
    readonly storeRootToken: boolean;
  };
}

/** Everything the unseal processor needs; only the entry point builds the real ones. */
export interface UnsealDeps {
  readonly replicas: VaultReplicaPort;
  readonly pods: VaultPodsPort;
  readonly keys: SealedKeyStore;
  readonly custodian: KeyCustodian;
  /** Per-replica lock (and one "init" key): two jobs never interleave shares on one replica. */
  readonly lock: KeyedLock;
  readonly recordEvent: (pod: { namespace: string; name: string; uid: string }, event: PodEvent) => Promise<void>;
  readonly log: Log;
  readonly metrics: Metrics;
  readonly settings: UnsealSettings;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly random: () => number;
}
