import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { messageOf } from "../../shared/errors/errors.ts";
import type { Log } from "../../shared/observability/log.ts";
import { TransformingWatch } from "./pod-cache.ts";

export interface InformerHandlers<T> {
  add(obj: T): void;
  update(obj: T): void;
  /** Also called for objects that vanished while the watch was being replaced. */
  delete(obj: T): void;
}

export interface SupervisedInformerOptions<T = unknown> {
  readonly name: string;
  /** Restart when nothing (event, connect, list) was seen for this long; 0 disables. */
  readonly stallMs: number;
  readonly maxBackoffMs?: number;
  readonly onRestart?: (cause: "error" | "stall") => void;
  readonly onSynced?: (synced: boolean) => void;
  /** Applied to every object before the cache stores it (listed or watched): keep only what is read. */
  readonly transform?: (obj: T) => T;
}

/**
 * A client-node ListWatch that keeps running. client-node 1.x stops an informer for good on any
 * error, and an aborted informer reports its own abort as an error; so every (re)start builds a
 * fresh ListWatch under a new generation and callbacks from older generations are ignored.
 * "Synced" means the newest list succeeded. Objects the previous cache held that the new list
 * lacks are reported as deleted (deletions missed while the watch was down are not lost).
 */
export class SupervisedInformer<T extends KubernetesObject> {
  readonly #kc: KubeConfig;
  readonly #path: string;
  readonly #list: () => Promise<{ items: T[] }>;
  readonly #handlers: InformerHandlers<T>;
  readonly #opts: SupervisedInformerOptions<T>;
  readonly #log: Log;
  readonly #labelSelector: string | undefined;
  #generation = 0;
  /** The generation whose list completed: its cache holds every object, kept current by the watch. */
  #listedGeneration = -1;
  #current: ListWatch<T> | undefined;
  #attempt = 0;
  #synced = false;
  #stopped = true;
  #lastActivity = Date.now();
  #watchdog: NodeJS.Timeout | undefined;
  #pending: NodeJS.Timeout | undefined;

  constructor(
    kc: KubeConfig,
    path: string,
    list: () => Promise<{ items: T[] }>,
    handlers: InformerHandlers<T>,
    log: Log,
    opts: SupervisedInformerOptions<T>,
    labelSelector?: string,
  ) {
    this.#kc = kc;
    this.#path = path;
    this.#list = list;
    this.#handlers = handlers;
    this.#log = log;
    this.#opts = opts;
    this.#labelSelector = labelSelector;
  }

  get synced(): boolean {
    return !this.#stopped && this.#synced;
  }

  /**
   * The objects the cache holds, when it is complete: the current generation has listed and its
   * watch has not failed since. Undefined while starting, restarting or re-listing (after a 410, an
   * error or a stall), when a new ListWatch's cache is still empty or partial.
   */
  cached(): T[] | undefined {
    if (!this.synced || this.#listedGeneration !== this.#generation || !this.#current) return undefined;
    return [...this.#current.list()];
  }

  /** One object from the complete cache (see cached()); undefined when absent or the cache is not complete. */
  cachedObject(namespace: string, name: string): T | undefined {
    if (!this.synced || this.#listedGeneration !== this.#generation) return undefined;
    return this.#current?.get(name, namespace);
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#launch([]);
    if (this.#opts.stallMs > 0) {
      this.#watchdog = setInterval(() => this.#checkStall(), Math.max(1000, Math.floor(this.#opts.stallMs / 4)));
      this.#watchdog.unref();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#generation++;
    if (this.#watchdog) clearInterval(this.#watchdog);
    if (this.#pending) clearTimeout(this.#pending);
    this.#setSynced(false);
    await this.#current?.stop().catch(() => undefined);
  }

  #setSynced(synced: boolean): void {
    if (this.#synced === synced) return;
    this.#synced = synced;
    this.#opts.onSynced?.(synced);
  }

  /** Starts a new generation; `known` is what the previous cache held. */
  async #launch(known: T[]): Promise<void> {
    if (this.#stopped) return;
    const generation = ++this.#generation;
    const live = () => generation === this.#generation && !this.#stopped;
    const transform = this.#opts.transform;
    const list = async () => {
      const listed = await this.#list();
      const result = transform ? { ...listed, items: listed.items.map(transform) } : listed;
      if (live()) {
        this.#attempt = 0;
        this.#lastActivity = Date.now();
        const present = new Set(result.items.map((o) => o.metadata?.uid));
        for (const gone of known) if (!present.has(gone.metadata?.uid)) this.#handlers.delete(gone);
        known = [];
        this.#listedGeneration = generation;
        this.#setSynced(true);
      }
      return result;
    };
    const watch = transform ? new TransformingWatch(this.#kc, transform) : new Watch(this.#kc);
    const informer = new ListWatch<T>(this.#path, watch, list, false, this.#labelSelector);
    const guard = (fn: (obj: T) => void) => (obj: T) => {
      if (!live()) return;
      this.#lastActivity = Date.now();
      fn(obj);
    };
    informer.on(
      "add",
      guard((o) => this.#handlers.add(o)),
    );
    informer.on(
      "update",
      guard((o) => this.#handlers.update(o)),
    );
    informer.on(
      "delete",
      guard((o) => this.#handlers.delete(o)),
    );
    informer.on("connect", () => {
      if (live()) this.#lastActivity = Date.now();
    });
    informer.on("error", (err: unknown) => {
      if (!live()) return;
      this.#setSynced(false);
      this.#opts.onRestart?.("error");
      this.#log.warn(
        { informer: this.#opts.name, error: messageOf(err), attempt: this.#attempt + 1 },
        "watch failed; restarting with backoff",
      );
      this.#restart(this.#attempt + 1);
    });
    this.#current = informer;
    await informer.start();
  }

  #restart(attempt: number): void {
    if (this.#stopped) return;
    this.#attempt = attempt;
    const previous = this.#current;
    const known = previous ? [...previous.list()] : [];
    this.#generation++; // callbacks of the previous informer (its abort included) are now stale
    void previous?.stop().catch(() => undefined);
    const cap = this.#opts.maxBackoffMs ?? 30_000;
    const delay = attempt === 0 ? 0 : Math.min(cap, 250 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2);
    if (this.#pending) clearTimeout(this.#pending);
    this.#pending = setTimeout(() => {
      this.#launch(known).catch((err: unknown) => {
        this.#log.warn({ informer: this.#opts.name, error: messageOf(err) }, "watch start failed; retrying");
        this.#restart(this.#attempt + 1);
      });
    }, delay);
  }

  #checkStall(): void {
    if (this.#stopped || Date.now() - this.#lastActivity < this.#opts.stallMs) return;
    this.#log.warn(
      { informer: this.#opts.name, silentMs: Date.now() - this.#lastActivity },
      "watch silent for too long; restarting it",
    );
    this.#opts.onRestart?.("stall");
    this.#lastActivity = Date.now();
    this.#restart(0);
  }
}
