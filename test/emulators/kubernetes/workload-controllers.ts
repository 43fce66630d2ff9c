/**
 * Runs the ReplicaSet and Deployment controllers off the store's change stream, like
 * kube-controller-manager's informer-driven work queues: each change enqueues its object and its
 * controlling owner; a key is synced once per burst of changes. Only with the
 * `workloadControllers` option: tests that place hand-made Deployments and ReplicaSets with
 * control.put keep them as written.
 */
import { syncDeployment } from "./deployment-controller.ts";
import { controllerOf, syncReplicaSet } from "./replicaset-controller.ts";
import type { EmulatorState } from "./state.ts";

const RETRY_MS = 1000;

export function startWorkloadControllers(state: EmulatorState): void {
  const queued = new Set<string>();
  const run = async (kind: string, ns: string, name: string): Promise<void> => {
    if (kind === "deployment") await syncDeployment(state, ns, name);
    else if (await syncReplicaSet(state, ns, name)) enqueue(kind, ns, name, RETRY_MS);
  };
  const enqueue = (kind: string, ns: string, name: string, delayMs = 10): void => {
    const key = `${kind}/${ns}/${name}`;
    if (queued.has(key)) return;
    queued.add(key);
    state.later(delayMs, () => {
      queued.delete(key);
      run(kind, ns, name).catch((err: unknown) => state.internalErrors.push(err));
    });
  };
  state.store.subscribe((ev) => {
    const o = ev.object;
    const ns = o.metadata.namespace ?? "";
    if (ev.resource === "apps/deployments") enqueue("deployment", ns, o.metadata.name ?? "");
    if (ev.resource === "apps/replicasets") {
      enqueue("replicaset", ns, o.metadata.name ?? "");
      const owner = controllerOf(o, "Deployment");
      if (owner !== undefined) enqueue("deployment", ns, owner.name);
    }
    if (ev.resource === "pods") {
      const owner = controllerOf(o, "ReplicaSet");
      if (owner !== undefined) enqueue("replicaset", ns, owner.name);
    }
  });
}
