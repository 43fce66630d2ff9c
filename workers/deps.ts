import type { Config } from "../shared/config/config.ts";
import type { PodIndex } from "../shared/index/pod-index.ts";
import type { KeyedLock } from "../shared/index/keyed-lock.ts";
import type { SealBox } from "../shared/index/seal-box.ts";
import type { JobProducer } from "../shared/jobs/producer.ts";
import type { Log } from "../shared/observability/log.ts";
import type { Metrics } from "../shared/observability/metrics.ts";
import type { KubePort, VaultPort } from "../shared/ports/vault-kube.ts";
import type { V1Pod } from "@kubernetes/client-node";

export type WorkerSettings = Pick<
  Config,
  | "tokenAudience"
  | "tokenExpirationSeconds"
  | "defaultAuthPath"
  | "rotationGraceSeconds"
  | "renewJitterPercent"
  | "sealedRetryMs"
  | "namespaces"
  | "vaultAnnotations"
  | "staticSecretRenderIntervalSeconds"
>;

/** Everything a processor needs; only the entry point builds the real ones. */
export interface WorkerDeps {
  readonly vault: VaultPort;
  readonly kube: KubePort;
  readonly index: PodIndex;
  readonly lock: KeyedLock;
  readonly producer: JobProducer;
  readonly sealBox: SealBox;
  readonly log: Log;
  readonly metrics: Metrics;
  readonly settings: WorkerSettings;
  /**
   * The pod watcher's cache, when it runs in this process: a pod read from it saves the issue
   * job a GET (workers/pod-lookup.ts). Absent: pods are read from the API server.
   */
  readonly podCache?: {
    cachedPod(namespace: string, name: string): V1Pod | undefined;
    /** The watch saw the pod with this UID deleted: it is gone, no GET needed (false: not known). */
    seenDeleted?(uid: string): boolean;
  };
  readonly now: () => number;
  readonly random: () => number;
}
