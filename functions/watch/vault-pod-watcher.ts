import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { messageOf } from "../../shared/errors/errors.ts";
import type { Log } from "../../shared/observability/log.ts";
import type { Metrics } from "../../shared/observability/metrics.ts";
import { SupervisedInformer } from "./supervised-informer.ts";

export type UnsealTrigger = "new-pod" | "new-ip" | "container-restart" | "readiness-lost";

export interface VaultPodWatcherOptions {
  readonly namespace: string;
  readonly labelSelector: string;
  readonly maxBackoffMs?: number;
  /** Restart a watch silent for this long (default 5 minutes). */
  readonly stallMs?: number;
}

interface Seen {
  uid: string;
  ip: string | undefined;
  restarts: number;
  ready: boolean;
}

/**
 * Watches the Vault server pods (list + watch by label selector) and calls `onTrigger` when a
 * replica may have come up sealed: a new pod (once it has an IP), a new pod IP, a container
 * restart, or readiness lost (Vault's readiness probe fails while sealed). The supervised
 * informer restarts the watch after errors and stalls; the periodic sweep covers any gap.
 */
export class VaultPodWatcher {
  readonly #informer: SupervisedInformer<V1Pod>;
  readonly #seen = new Map<string, Seen>();
  readonly #onTrigger: (pod: { namespace: string; name: string }, trigger: UnsealTrigger) => Promise<unknown>;
  readonly #log: Log;
  readonly #metrics: Metrics;
  readonly #opts: VaultPodWatcherOptions;

  constructor(
    kc: KubeConfig,
    onTrigger: (pod: { namespace: string; name: string }, trigger: UnsealTrigger) => Promise<unknown>,
    log: Log,
    metrics: Metrics,
    opts: VaultPodWatcherOptions,
  ) {
    this.#onTrigger = onTrigger;
    this.#log = log;
    this.#metrics = metrics;
    this.#opts = opts;
    const core = kc.makeApiClient(CoreV1Api);
    const { namespace, labelSelector } = opts;
    this.#informer = new SupervisedInformer<V1Pod>(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => core.listNamespacedPod({ namespace, labelSelector }),
      {
        add: (pod) => this.#observe(pod),
        update: (pod) => this.#observe(pod),
        delete: (pod) => void this.#seen.delete(key(pod)),
      },
      log,
      {
        name: "vault-pods",
        stallMs: opts.stallMs ?? 300_000,
        maxBackoffMs: opts.maxBackoffMs,
        onRestart: (cause) => this.#metrics.watchRestarts.inc({ cause: `vault-pods-${cause}` }),
      },
      labelSelector,
    );
  }

  get synced(): boolean {
    return this.#informer.synced;
  }

  start(): Promise<void> {
    return this.#informer.start();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  #observe(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    const name = pod.metadata?.name;
    const namespace = pod.metadata?.namespace ?? this.#opts.namespace;
    if (!uid || !name || pod.metadata?.deletionTimestamp) return;
    const now: Seen = { uid, ip: pod.status?.podIP || undefined, restarts: restartCount(pod), ready: isReady(pod) };
    const before = this.#seen.get(key(pod));
    this.#seen.set(key(pod), now);
    const trigger = triggerFor(before, now);
    if (!trigger) return;
    this.#metrics.watchEvents.inc({
      source: "vault-pods",
      type: before ? "MODIFIED" : "ADDED",
      action: `unseal-${trigger}`,
    });
    this.#onTrigger({ namespace, name }, trigger).catch((err: unknown) => {
      this.#log.warn(
        { pod: `${namespace}/${name}`, trigger, error: messageOf(err) },
        "could not enqueue unseal; the sweep will retry",
      );
    });
  }
}

/** Why (if at all) this change may mean a freshly started, sealed Vault. Nothing until the pod has an IP. */
export function triggerFor(before: Seen | undefined, now: Seen): UnsealTrigger | undefined {
  if (!now.ip) return undefined;
  if (!before || before.uid !== now.uid) return "new-pod";
  if (before.ip !== now.ip) return before.ip ? "new-ip" : "new-pod";
  if (now.restarts > before.restarts) return "container-restart";
  if (before.ready && !now.ready) return "readiness-lost";
  return undefined;
}

const key = (pod: V1Pod) => `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
const restartCount = (pod: V1Pod) =>
  (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
const isReady = (pod: V1Pod) => (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
