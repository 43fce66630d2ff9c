/** Background garbage collection of dependents whose owners (by UID) are all gone (spec §6.1). */
import { resourceForKind } from "./resources.ts";
import type { EmulatorState } from "./state.ts";
import type { ChangeEvent, KubeObject } from "./types.ts";

function ownerPresent(
  state: EmulatorState,
  dependent: KubeObject,
  ref: { apiVersion: string; kind: string; name: string; uid: string },
): boolean {
  const r = resourceForKind(ref.apiVersion, ref.kind);
  if (r === undefined) return true; // unknown kind: the real GC cannot resolve it and never deletes
  const owner = state.store.get(r.key, r.namespaced ? (dependent.metadata.namespace ?? "") : "", ref.name);
  return owner !== undefined && owner.metadata.uid === ref.uid;
}

/** Deletes `dependent` when none of its owners exists any more. */
function collect(state: EmulatorState, resource: string, ns: string, name: string, uid: string): void {
  const current = state.store.get(resource, ns, name);
  if (current === undefined || current.metadata.uid !== uid) return;
  const refs = current.metadata.ownerReferences ?? [];
  if (refs.length === 0 || refs.some((ref) => ownerPresent(state, current, ref))) return;
  state.deleteInternal(resource, current);
}

function scheduleCheck(state: EmulatorState, resource: string, obj: KubeObject): void {
  const { namespace = "", name = "", uid = "" } = obj.metadata;
  state.later(state.options.gcDelayMs, () => collect(state, resource, namespace, name, uid));
}

/**
 * Wires the GC to the store's change stream. Like the real GC's dependency graph, it keeps an
 * index owner UID -> dependents, so an owner's deletion costs a lookup, not a scan of the store.
 */
export function startGarbageCollector(state: EmulatorState): void {
  const dependents = new Map<string, Map<string, { resource: string; object: KubeObject }>>();
  const keyOf = (resource: string, obj: KubeObject) =>
    `${resource}/${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}/${obj.metadata.uid ?? ""}`;
  const unindex = (resource: string, obj: KubeObject) => {
    for (const ref of obj.metadata.ownerReferences ?? []) dependents.get(ref.uid)?.delete(keyOf(resource, obj));
  };
  state.store.subscribe((event: ChangeEvent) => {
    const { resource, object } = event;
    if (event.type === "DELETED") {
      unindex(resource, object);
      const uid = object.metadata.uid;
      if (uid === undefined) return;
      const owned = dependents.get(uid);
      dependents.delete(uid);
      for (const dependent of owned?.values() ?? []) scheduleCheck(state, dependent.resource, dependent.object);
      return;
    }
    const refs = object.metadata.ownerReferences ?? [];
    for (const ref of refs) {
      let set = dependents.get(ref.uid);
      if (set === undefined) dependents.set(ref.uid, (set = new Map()));
      set.set(keyOf(resource, object), { resource, object: { metadata: { ...object.metadata } } as KubeObject });
    }
    if (refs.length > 0 && object.metadata.deletionTimestamp === undefined) scheduleCheck(state, resource, object);
  });
}

/** propagationPolicy=Orphan: strip references to `uid` from its dependents before the owner goes. */
export function orphanDependents(state: EmulatorState, uid: string): void {
  for (const { resource, object } of state.store.all()) {
    const refs = object.metadata.ownerReferences ?? [];
    if (!refs.some((r) => r.uid === uid)) continue;
    const kept = refs.filter((r) => r.uid !== uid);
    if (kept.length > 0) object.metadata.ownerReferences = kept;
    else delete object.metadata.ownerReferences;
    state.store.put(resource, object);
  }
}
