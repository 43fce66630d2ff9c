import { CoreV1Api, ListWatch, Watch, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { messageOf } from "../shared/errors/errors.ts";
import type { Log } from "../shared/observability/log.ts";
import type { Metrics } from "../shared/observability/metrics.ts";

export type UnsealTrigger = "new-pod" | "new-ip" | "container-restart" | "readiness-lost";

export interface VaultPodWatcherOptions {
  readonly namespace: string;
  readonly labelSelector: string;
  readonly maxBackoffMs?: number;
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
 * restart, or readiness lost (Vault's readiness probe fails while sealed). Errors restart the
 * watch with capped exponential backoff; the periodic sweep covers any gap.
 */
export class VaultPodWatcher {
  readonly #informer: ListWatch<V1Pod>;
  readonly #seen = new Map<string, Seen>();
  readonly #onTrigger: (pod: { namespace: string; name: string }, trigger: UnsealTrigger) => Promise<unknown>;
  readonly #log: Log;
  readonly #metrics: Metrics;
  readonly #opts: VaultPodWatcherOptions;
  #stopped = true;
  #synced = false;

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
    this.#informer = new ListWatch<V1Pod>(`/api/v1/namespaces/${namespace}/pods`, new Watch(kc), () => core.listNamespacedPod({ namespace, labelSelector }), false, labelSelector);
    this.#informer.on("add", (pod) => this.#observe(pod));
    this.#informer.on("update", (pod) => this.#observe(pod));
    this.#informer.on("delete", (pod) => void this.#seen.delete(key(pod)));
    this.#informer.on("error", (err: unknown) => {
      this.#synced = false;
      this.#metrics.watchRestarts.inc({ cause: "vault-pods-error" });
      this.#log.warn({ error: messageOf(err) }, "vault pod watch failed; restarting with backoff");
      void this.#start(1);
    });
  }

  get synced(): boolean {
    return !this.#stopped && this.#synced;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#start(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#synced = false;
    await this.#informer.stop();
  }

  async #start(attempt: number): Promise<void> {
    if (this.#stopped) return;
    if (attempt > 0) {
      const delay = Math.min(this.#opts.maxBackoffMs ?? 30_000, 250 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2);
      await new Promise((r) => setTimeout(r, delay));
      if (this.#stopped) return;
    }
    try {
      await this.#informer.start();
      this.#synced = true;
    } catch (err) {
      this.#log.warn({ error: messageOf(err), attempt }, "vault pod list failed; retrying");
      return this.#start(attempt + 1);
    }
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
    this.#metrics.watchEvents.inc({ source: "vault-pods", type: before ? "MODIFIED" : "ADDED", action: `unseal-${trigger}` });
    this.#onTrigger({ namespace, name }, trigger).catch((err: unknown) => {
      this.#log.warn({ pod: `${namespace}/${name}`, trigger, error: messageOf(err) }, "could not enqueue unseal; the sweep will retry");
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
const restartCount = (pod: V1Pod) => (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
const isReady = (pod: V1Pod) => (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
