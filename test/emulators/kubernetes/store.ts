/** Object storage with one global resourceVersion counter and a bounded change history. */
import { clone } from "./patch.ts";
import type { ChangeEvent, KubeObject } from "./types.ts";

export type ChangeListener = (event: ChangeEvent) => void;

function storeKey(resource: string, namespace: string, name: string): string {
  return `${resource}|${namespace}|${name}`;
}

export class Store {
  private rv = 1;
  private readonly objects = new Map<string, KubeObject>();
  private history: ChangeEvent[] = [];
  /** Changes with rv <= compactedRv are gone from history; watching from an older RV is a 410. */
  private compactedRv = 1;
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly historyLimit: number) {}

  currentRv(): number {
    return this.rv;
  }

  oldestWatchableRv(): number {
    return this.compactedRv;
  }

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const found = this.objects.get(storeKey(resource, namespace, name));
    return found === undefined ? undefined : clone(found);
  }

  /** Objects of a resource (optionally one namespace), sorted by namespace then name. */
  list(resource: string, namespace?: string): KubeObject[] {
    const prefix = namespace === undefined ? `${resource}|` : `${resource}|${namespace}|`;
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    return keys.map((k) => clone(this.objects.get(k) as KubeObject));
  }

  findByUid(uid: string): { resource: string; object: KubeObject } | undefined {
    for (const [k, v] of this.objects) {
      if (v.metadata.uid === uid) return { resource: k.split("|")[0] ?? "", object: clone(v) };
    }
    return undefined;
  }

  /** Every stored object of every resource (for GC scans). */
  all(): { resource: string; object: KubeObject }[] {
    return [...this.objects.entries()].map(([k, v]) => ({ resource: k.split("|")[0] ?? "", object: clone(v) }));
  }

  /** Writes (creates or replaces) an object, stamping a new resourceVersion. Returns the stored copy. */
  put(resource: string, object: KubeObject): KubeObject {
    const ns = object.metadata.namespace ?? "";
    const name = object.metadata.name ?? "";
    const key = storeKey(resource, ns, name);
    const old = this.objects.get(key);
    const stored = clone(object);
    stored.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, stored);
    const event: ChangeEvent = {
      rv: this.rv,
      type: old === undefined ? "ADDED" : "MODIFIED",
      resource,
      namespace: ns,
      object: clone(stored),
    };
    if (old !== undefined) event.old = clone(old);
    this.record(event);
    return clone(stored);
  }

  /** Removes an object; the DELETED event carries its last state stamped with the deletion RV. */
  remove(resource: string, namespace: string, name: string): KubeObject | undefined {
    const key = storeKey(resource, namespace, name);
    const old = this.objects.get(key);
    if (old === undefined) return undefined;
    this.objects.delete(key);
    const last = clone(old);
    last.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, type: "DELETED", resource, namespace, object: clone(last), old: clone(old) });
    return last;
  }

  /** Changes after `rv` (exclusive), or undefined when history no longer reaches back that far. */
  since(rv: number): ChangeEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    return this.history.filter((e) => e.rv > rv);
  }

  /** Forgets all history: every RV older than the current one becomes too old to watch from. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(event: ChangeEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      const last = dropped[dropped.length - 1];
      if (last !== undefined) this.compactedRv = last.rv;
    }
    for (const l of [...this.listeners]) l(event);
  }
}
