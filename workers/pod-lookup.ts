import type { V1Pod } from "@kubernetes/client-node";
import type { PodRef } from "../shared/pods/pod-state.ts";
import type { WorkerDeps } from "./deps.ts";

/**
 * The pod a job is about, as current as the event that queued it: from the watcher's synced
 * cache when it holds that pod UID (the cache is updated before the watcher routes an event, so
 * it is never older than the event), else one GET. A pod deleted or replaced since still cannot
 * get credentials: the TokenRequest is bound to the pod's UID and the API server refuses it.
 */
export async function currentPod(deps: WorkerDeps, ref: PodRef): Promise<V1Pod | undefined> {
  const cached = deps.podCache?.cachedPod(ref.namespace, ref.name);
  if (cached?.metadata?.uid === ref.uid) return cached;
  return deps.kube.readPod(ref.namespace, ref.name);
}
