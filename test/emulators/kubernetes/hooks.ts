/** Which per-resource hooks the generic flow uses, and the internal delete the GC calls. */
import { coreEventHooks, eventsV1Hooks, leaseHooks } from "./handlers/leases.ts";
import { namespaceHooks } from "./handlers/namespaces.ts";
import { podHooks } from "./handlers/pods.ts";
import { secretHooks } from "./handlers/secrets.ts";
import { serviceHooks } from "./handlers/services.ts";
import { webhookConfigHooks } from "./handlers/webhook-configs.ts";
import { deploymentHooks, replicaSetHooks } from "./handlers/workloads.ts";
import { deletePod } from "./pod-deletion.ts";
import type { ResourceHooks } from "./request.ts";
import type { EmulatorState } from "./state.ts";
import type { KubeObject } from "./types.ts";
import { nowTime } from "./validation.ts";

const HOOKS: Record<string, ResourceHooks> = {
  pods: podHooks,
  secrets: secretHooks,
  services: serviceHooks,
  namespaces: namespaceHooks,
  events: coreEventHooks,
  "events.k8s.io/events": eventsV1Hooks,
  "coordination.k8s.io/leases": leaseHooks,
  "apps/deployments": deploymentHooks,
  "apps/replicasets": replicaSetHooks,
  "admissionregistration.k8s.io/mutatingwebhookconfigurations": webhookConfigHooks,
};

export function hooksFor(key: string): ResourceHooks {
  return HOOKS[key] ?? {};
}

/**
 * The garbage collector's delete of a dependent. The real GC deletes through the API server
 * (kubernetes/pkg/controller/garbagecollector/garbagecollector.go attemptToDeleteItem →
 * operations.go deleteObject, propagationPolicy Background), so the registry's finalizer handling
 * applies as for any client (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go
 * Delete → updateForGracefulDeletionAndFinalizers): an object with finalizers only gets a
 * deletionTimestamp (a MODIFIED event) and stays, listed and watched, until an update removes the
 * last finalizer (crud-update.ts finishIfReleased).
 */
export function deleteInternal(state: EmulatorState, resource: string, obj: KubeObject): void {
  if (resource === "pods") {
    deletePod(state, obj, undefined);
    return;
  }
  const m = obj.metadata;
  if ((m.finalizers ?? []).length > 0) {
    if (m.deletionTimestamp !== undefined) return;
    m.deletionTimestamp = nowTime();
    m.deletionGracePeriodSeconds = 0;
    state.store.put(resource, obj);
    return;
  }
  state.store.remove(resource, m.namespace ?? "", m.name ?? "");
}
