/** Graceful pod deletion (spec §2.2): deletion mark (MODIFIED), then removal after the grace period. */
import type { EmulatorState } from "./state.ts";
import type { KubeObject } from "./types.ts";
import { nowTime } from "./validation.ts";

/** The grace a DELETE without one uses: the pod's own, capped by the emulator's podGraceSeconds. */
export function defaultGrace(state: EmulatorState, pod: KubeObject): number {
  const own = typeof pod.spec?.terminationGracePeriodSeconds === "number" ? pod.spec.terminationGracePeriodSeconds : 30;
  return Math.min(own, state.options.podGraceSeconds);
}

/** Deletes a pod like the registry does; returns the object the DELETE answers with. */
export function deletePod(state: EmulatorState, pod: KubeObject, requested: number | undefined): KubeObject {
  let grace = requested ?? defaultGrace(state, pod);
  if (grace < 0) grace = 1;
  const phase = pod.status?.phase;
  if ((pod.spec?.nodeName ?? "") === "" || phase === "Succeeded" || phase === "Failed") grace = 0;
  const m = pod.metadata;
  const ns = m.namespace ?? "";
  const name = m.name ?? "";
  let current: KubeObject;
  if (m.deletionTimestamp === undefined) {
    m.deletionTimestamp = nowTime(grace);
    m.deletionGracePeriodSeconds = grace;
    if (typeof m.generation === "number") m.generation += 1;
    current = state.store.put("pods", pod);
  } else if (grace < (m.deletionGracePeriodSeconds ?? 0)) {
    m.deletionTimestamp = nowTime(grace);
    m.deletionGracePeriodSeconds = grace;
    current = state.store.put("pods", pod);
  } else {
    return pod;
  }
  if (grace === 0 && (current.metadata.finalizers ?? []).length === 0) {
    return state.store.remove("pods", ns, name) ?? current;
  }
  return current;
}

/** Removes a pod at once: no deletion mark, no MODIFIED (what a force delete looks like to a fast watcher). */
export function forceRemovePod(state: EmulatorState, namespace: string, name: string): KubeObject | undefined {
  return state.store.remove("pods", namespace, name);
}

/** The kubelet's side: once the grace period is over, remove the pod (or wait for its finalizers). */
export function startPodReaper(state: EmulatorState): void {
  const scheduled = new Set<string>();
  state.store.subscribe((ev) => {
    if (ev.resource !== "pods" || ev.type === "DELETED") return;
    const m = ev.object.metadata;
    const grace = m.deletionGracePeriodSeconds;
    if (m.deletionTimestamp === undefined || grace === undefined || grace <= 0) return;
    const key = `${m.uid ?? ""}/${grace}`;
    if (scheduled.has(key)) return;
    scheduled.add(key);
    state.later(grace * 1000, () => {
      scheduled.delete(key);
      const pod = state.store.get("pods", m.namespace ?? "", m.name ?? "");
      if (pod === undefined || pod.metadata.uid !== m.uid || pod.metadata.deletionTimestamp === undefined) return;
      if ((pod.metadata.finalizers ?? []).length > 0) {
        if (pod.metadata.deletionGracePeriodSeconds === 0) return;
        pod.metadata.deletionGracePeriodSeconds = 0;
        state.store.put("pods", pod);
        return;
      }
      state.store.remove("pods", m.namespace ?? "", m.name ?? "");
    });
  });
}
