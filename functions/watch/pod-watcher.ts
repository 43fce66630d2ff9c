import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { messageOf } from "../../shared/errors/errors.ts";
import type { Log } from "../../shared/observability/log.ts";
import type { Metrics } from "../../shared/observability/metrics.ts";
import type { PodEventRouter, PodEventType } from "../../shared/pods/pod-events.ts";
import { trimPod } from "./pod-cache.ts";
import { SupervisedInformer } from "./supervised-informer.ts";

export interface PodWatcherOptions {
  /** Namespaces to watch; empty: all. */
  readonly namespaces: readonly string[];
  /** Restart the watch when nothing (event or reconnect) was seen for this long. */
  readonly stallMs: number;
  readonly maxBackoffMs?: number;
}

/** How many deleted pod UIDs the watcher remembers (~100 bytes each). */
const DELETED_KEPT = 20_000;

/**
 * List + watch of pods (one informer per namespace, or one for all), feeding the same router
 * as the CloudEvents endpoint. Restarts, backoff, 410 re-lists and the stall watchdog are the
 * SupervisedInformer's; events are routed one at a time, in order.
 */
export class PodWatcher {
  readonly #informers: SupervisedInformer<V1Pod>[] = [];
  readonly #router: PodEventRouter;
  readonly #log: Log;
  readonly #metrics: Metrics;
  #chain: Promise<void> = Promise.resolve();
  /** UIDs of pods the watch saw deleted, oldest first (a UID is never reused, so they stay gone). */
  readonly #deleted = new Set<string>();

  constructor(kc: KubeConfig, router: PodEventRouter, log: Log, metrics: Metrics, opts: PodWatcherOptions) {
    this.#router = router;
    this.#log = log;
    this.#metrics = metrics;
    const core = kc.makeApiClient(CoreV1Api);
    const handlers = {
      add: (pod: V1Pod) => this.#enqueue("ADDED", pod),
      update: (pod: V1Pod) => this.#enqueue("MODIFIED", pod),
      delete: (pod: V1Pod) => {
        this.#rememberDeleted(pod.metadata?.uid);
        this.#enqueue("DELETED", pod);
      },
    };
    const targets = opts.namespaces.length === 0 ? [undefined] : opts.namespaces;
    for (const namespace of targets) {
      const path = namespace ? `/api/v1/namespaces/${namespace}/pods` : "/api/v1/pods";
      const list = namespace ? () => core.listNamespacedPod({ namespace }) : () => core.listPodForAllNamespaces({});
      this.#informers.push(
        new SupervisedInformer<V1Pod>(kc, path, list, handlers, log, {
          name: `pods${namespace ? `/${namespace}` : ""}`,
          stallMs: opts.stallMs,
          maxBackoffMs: opts.maxBackoffMs,
          onRestart: (cause) => this.#metrics.watchRestarts.inc({ cause }),
          onSynced: () => this.#metrics.watchSynced.set(this.synced ? 1 : 0),
          transform: trimPod,
        }),
      );
    }
  }

  get synced(): boolean {
    return this.#informers.every((i) => i.synced);
  }

  /** One pod from the informers' caches, when one of them is complete and holds it. */
  cachedPod(namespace: string, name: string): V1Pod | undefined {
    for (const informer of this.#informers) {
      const pod = informer.cachedObject(namespace, name);
      if (pod) return pod;
    }
    return undefined;
  }

  /**
   * Whether the watch saw the pod with this UID deleted (within the last DELETED_KEPT pods): it is
   * gone for good, so a revocation need not ask the API server. False means "not known", never "alive".
   */
  seenDeleted(uid: string): boolean {
    return this.#deleted.has(uid);
  }

  #rememberDeleted(uid: string | undefined): void {
    if (!uid) return;
    this.#deleted.add(uid);
    if (this.#deleted.size > DELETED_KEPT) {
      const oldest = this.#deleted.values().next();
      if (!oldest.done) this.#deleted.delete(oldest.value);
    }
  }

  /** Every watched pod, from the informers' caches; undefined unless each of them is complete (the reconciler then lists). */
  cachedPods(): V1Pod[] | undefined {
    const pods: V1Pod[] = [];
    for (const informer of this.#informers) {
      const cached = informer.cached();
      if (!cached) return undefined;
      pods.push(...cached);
    }
    return pods;
  }

  async start(): Promise<void> {
    await Promise.all(this.#informers.map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#informers.map((i) => i.stop()));
    this.#metrics.watchSynced.set(0);
    await this.#chain;
  }

  /** Resolves when every queued event has been routed (tests, shutdown). */
  drained(): Promise<void> {
    return this.#chain;
  }

  #enqueue(type: PodEventType, pod: V1Pod): void {
    this.#chain = this.#chain.then(async () => {
      try {
        const result = await this.#router.route(type, pod, "watch");
        this.#metrics.watchEvents.inc({ source: "watch", type, action: result.action });
      } catch (err) {
        // The reconciler repairs anything a failed enqueue missed.
        this.#metrics.watchEvents.inc({ source: "watch", type, action: "error" });
        this.#log.warn(
          { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, type, error: messageOf(err) },
          "could not enqueue pod event",
        );
      }
    });
  }
}
