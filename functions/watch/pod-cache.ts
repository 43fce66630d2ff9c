import { Watch, type KubeConfig, type V1Pod } from "@kubernetes/client-node";

/**
 * What the pod cache keeps of each pod: only the fields leasekeeper reads from a watched or cached
 * pod (shared/pods/pod-state.ts, pod-contract.ts, read-contract.ts, injector-annotations.ts,
 * pod-events.ts; workers/reconciler.ts; workers/issue.ts, which also reads creationTimestamp for its
 * latency metric), as controller-runtime's cache.Options.DefaultTransform /
 * client-go's TransformFunc trims objects before the informer stores them. A pod's spec and status
 * (containers, volumes, conditions, container statuses) and managedFields are most of its bytes and
 * are never read here. resourceVersion stays: the informer resumes its watch from it.
 */
export function trimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const metadata: V1Pod["metadata"] = {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    creationTimestamp: m.creationTimestamp,
    generateName: m.generateName,
    labels: m.labels,
    annotations: m.annotations,
    ownerReferences: m.ownerReferences,
    deletionTimestamp: m.deletionTimestamp,
  };
  const trimmed: V1Pod = { apiVersion: pod.apiVersion, kind: pod.kind, metadata: dropUndefined(metadata) };
  if (pod.spec?.serviceAccountName !== undefined)
    trimmed.spec = { serviceAccountName: pod.spec.serviceAccountName, containers: [] };
  if (pod.status?.phase !== undefined) trimmed.status = { phase: pod.status.phase };
  return dropUndefined(trimmed);
}

function dropUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

/**
 * A client-node Watch whose ADDED/MODIFIED/DELETED objects pass through `transform` before the
 * ListWatch stores them (client-node's ListWatch has no transform hook of its own; it stores what
 * its Watch hands over). Bookmarks and ERROR statuses pass unchanged.
 */
export class TransformingWatch<T> extends Watch {
  readonly #transform: (obj: T) => T;

  constructor(kc: KubeConfig, transform: (obj: T) => T) {
    super(kc);
    this.#transform = transform;
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const transform = this.#transform;
    return super.watch(
      path,
      queryParams,
      (phase, obj, watchObj) =>
        callback(
          phase,
          phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED" ? transform(obj as T) : obj,
          watchObj,
        ),
      done,
    );
  }
}
