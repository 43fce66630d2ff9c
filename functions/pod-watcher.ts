import { CoreV1Api, ListWatch, Watch, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { messageOf } from "../shared/errors/errors.ts";
import type { Log } from "../shared/observability/log.ts";
import type { Metrics } from "../shared/observability/metrics.ts";
import type { PodEventRouter, PodEventType } from "../shared/pods/pod-events.ts";

export interface PodWatcherOptions {
  /** Namespaces to watch; empty: all. */
  readonly namespaces: readonly string[];
  /** Restart the watch when nothing (event or reconnect) was seen for this long. */
  readonly stallMs: number;
  readonly maxBackoffMs?: number;
}

/**
 * List + watch of pods (one informer per namespace, or one for all), feeding the same
 * router as the CloudEvents endpoint. Any error restarts it with capped exponential backoff;
 * a 410 makes the informer re-list (which surfaces deletions missed meanwhile); a watchdog
 * restarts a watch that has gone silent.
 */
export class PodWatcher {
  readonly #informers: ListWatch<V1Pod>[] = [];
  readonly #router: PodEventRouter;
  readonly #log: Log;
  readonly #metrics: Metrics;
  readonly #opts: PodWatcherOptions;
  #chain: Promise<void> = Promise.resolve();
  #synced = new Set<number>();
  #lastActivity = Date.now();
  #watchdog: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(kc: KubeConfig, router: PodEventRouter, log: Log, metrics: Metrics, opts: PodWatcherOptions) {
    this.#router = router;
    this.#log = log;
    this.#metrics = metrics;
    this.#opts = opts;
    const core = kc.makeApiClient(CoreV1Api);
    const targets = opts.namespaces.length === 0 ? [undefined] : opts.namespaces;
    for (const namespace of targets) {
      const path = namespace ? `/api/v1/namespaces/${namespace}/pods` : "/api/v1/pods";
      const list = namespace ? () => core.listNamespacedPod({ namespace }) : () => core.listPodForAllNamespaces({});
      this.#informers.push(new ListWatch<V1Pod>(path, new Watch(kc), list, false));
    }
    this.#informers.forEach((informer, i) => this.#wire(informer, i));
  }

  get synced(): boolean {
    return !this.#stopped && this.#synced.size === this.#informers.length;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#lastActivity = Date.now();
    await Promise.all(this.#informers.map((informer, i) => this.#startOne(informer, i, 0)));
    const every = Math.max(1000, Math.floor(this.#opts.stallMs / 4));
    this.#watchdog = setInterval(() => this.#checkStall(), every);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#synced.clear();
    this.#metrics.watchSynced.set(0);
    await Promise.all(this.#informers.map((informer) => informer.stop()));
    await this.#chain;
  }

  /** Resolves when every queued event has been routed (tests, shutdown). */
  drained(): Promise<void> {
    return this.#chain;
  }

  #wire(informer: ListWatch<V1Pod>, i: number): void {
    const handle = (type: PodEventType) => (pod: V1Pod) => this.#enqueue(type, pod);
    informer.on("add", handle("ADDED"));
    informer.on("update", handle("MODIFIED"));
    informer.on("delete", handle("DELETED"));
    informer.on("connect", () => {
      this.#lastActivity = Date.now();
    });
    informer.on("error", (err: unknown) => {
      if (this.#stopped) return;
      this.#synced.delete(i);
      this.#metrics.watchSynced.set(0);
      this.#metrics.watchRestarts.inc({ cause: "error" });
      this.#log.warn({ error: messageOf(err) }, "pod watch failed; restarting with backoff");
      void this.#startOne(informer, i, 1);
    });
  }

  async #startOne(informer: ListWatch<V1Pod>, i: number, attempt: number): Promise<void> {
    if (this.#stopped) return;
    if (attempt > 0) {
      const cap = this.#opts.maxBackoffMs ?? 30_000;
      const delay = Math.min(cap, 250 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2);
      await new Promise((r) => setTimeout(r, delay));
      if (this.#stopped) return;
    }
    try {
      await informer.start();
      this.#lastActivity = Date.now();
      this.#synced.add(i);
      if (this.synced) this.#metrics.watchSynced.set(1);
    } catch (err) {
      this.#log.warn({ error: messageOf(err), attempt }, "pod list failed; retrying");
      return this.#startOne(informer, i, attempt + 1);
    }
  }

  #enqueue(type: PodEventType, pod: V1Pod): void {
    this.#lastActivity = Date.now();
    this.#chain = this.#chain.then(async () => {
      try {
        const result = await this.#router.route(type, pod, "watch");
        this.#metrics.watchEvents.inc({ source: "watch", type, action: result.action });
      } catch (err) {
        // The reconciler repairs anything a failed enqueue missed.
        this.#metrics.watchEvents.inc({ source: "watch", type, action: "error" });
        this.#log.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, type, error: messageOf(err) }, "could not enqueue pod event");
      }
    });
  }

  #checkStall(): void {
    if (this.#stopped || Date.now() - this.#lastActivity < this.#opts.stallMs) return;
    this.#log.warn({ silentMs: Date.now() - this.#lastActivity }, "pod watch silent for too long; restarting it");
    this.#metrics.watchRestarts.inc({ cause: "stall" });
    this.#lastActivity = Date.now();
    this.#informers.forEach((informer, i) => {
      void informer.stop().then(() => this.#startOne(informer, i, 0));
    });
  }
}
