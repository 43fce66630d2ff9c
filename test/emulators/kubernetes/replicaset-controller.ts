/**
 * A minimal ReplicaSet controller (kubernetes pkg/controller/replicaset/replica_set.go): keeps
 * spec.replicas active pods per ReplicaSet, created through the API's create path (defaults,
 * ServiceAccount admission, mutating webhooks) from the template with generateName `<rs>-` and a
 * controller ownerReference (pkg/controller/controller_utils.go getPodsFromTemplate), deletes
 * surplus pods not-ready and newest first (getPodsToDelete), and writes status counts.
 */
import { createObject } from "./crud-create.ts";
import { hooksFor } from "./hooks.ts";
import { internalRequest, recordEvent } from "./internal-request.ts";
import { deepEqual } from "./patch.ts";
import type { EmulatorState } from "./state.ts";
import { ApiError } from "./status.ts";
import type { Json, KubeObject, OwnerReference, UserInfo } from "./types.ts";

const RS_CONTROLLER: UserInfo = {
  username: "system:serviceaccount:kube-system:replicaset-controller",
  groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
};

export function controllerOf(obj: KubeObject, kind: string): OwnerReference | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true && r.kind === kind);
}

export const isPodReady = (p: KubeObject): boolean =>
  (p.status?.conditions ?? []).some((c: Json) => c.type === "Ready" && c.status === "True");

function isActive(p: KubeObject): boolean {
  return p.metadata.deletionTimestamp === undefined && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
}

function ownedPods(state: EmulatorState, rs: KubeObject): KubeObject[] {
  return state.store
    .list("pods", rs.metadata.namespace ?? "")
    .filter((p) => controllerOf(p, "ReplicaSet")?.uid === rs.metadata.uid);
}

function podFromTemplate(rs: KubeObject): KubeObject {
  const t: Json = rs.spec?.template ?? {};
  const ref: OwnerReference = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    name: rs.metadata.name ?? "",
    uid: rs.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
  const metadata: KubeObject["metadata"] = {
    generateName: `${rs.metadata.name ?? ""}-`,
    namespace: rs.metadata.namespace,
    ownerReferences: [ref],
  };
  if (t.metadata?.labels !== undefined) metadata.labels = { ...t.metadata.labels };
  if (t.metadata?.annotations !== undefined) metadata.annotations = { ...t.metadata.annotations };
  if (t.metadata?.finalizers !== undefined) metadata.finalizers = [...t.metadata.finalizers];
  return { kind: "Pod", apiVersion: "v1", metadata, spec: JSON.parse(JSON.stringify(t.spec ?? {})) as Json };
}

/** getPodsToDelete's ranking, reduced: unscheduled, then not ready, then newest first. */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const rank = (p: KubeObject): number => ((p.spec?.nodeName ?? "") === "" ? 0 : isPodReady(p) ? 2 : 1);
  return (
    rank(a) - rank(b) ||
    String(b.metadata.creationTimestamp ?? "").localeCompare(String(a.metadata.creationTimestamp ?? ""))
  );
}

/** One reconcile; returns true when it should run again soon (a pod create failed). */
export async function syncReplicaSet(state: EmulatorState, namespace: string, name: string): Promise<boolean> {
  const rs = state.store.get("apps/replicasets", namespace, name);
  if (rs === undefined || rs.metadata.deletionTimestamp !== undefined) return false;
  const want = Number(rs.spec?.replicas ?? 1);
  const active = ownedPods(state, rs).filter(isActive);
  let retry = false;
  for (let i = active.length; i < want; i++) {
    try {
      const created = await createObject(
        internalRequest(state, "pods", namespace, RS_CONTROLLER),
        hooksFor("pods"),
        podFromTemplate(rs),
      );
      recordEvent(
        state,
        rs,
        "Normal",
        "SuccessfulCreate",
        `Created pod: ${String(created.body.metadata.name)}`,
        "replicaset-controller",
      );
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      recordEvent(state, rs, "Warning", "FailedCreate", `Error creating: ${err.message}`, "replicaset-controller");
      retry = true;
      break;
    }
  }
  for (const pod of [...active].sort(deletionOrder).slice(0, Math.max(0, active.length - want))) {
    state.deleteInternal("pods", pod);
    recordEvent(
      state,
      rs,
      "Normal",
      "SuccessfulDelete",
      `Deleted pod: ${pod.metadata.name ?? ""}`,
      "replicaset-controller",
    );
  }
  writeStatus(state, rs);
  return retry;
}

function writeStatus(state: EmulatorState, rs: KubeObject): void {
  const current = state.store.get("apps/replicasets", rs.metadata.namespace ?? "", rs.metadata.name ?? "");
  if (current === undefined) return;
  const pods = ownedPods(state, current).filter(isActive);
  const ready = pods.filter(isPodReady).length;
  const status: Json = { replicas: pods.length, observedGeneration: current.metadata.generation ?? 1 }; // zero counts are omitempty
  if (pods.length > 0) status.fullyLabeledReplicas = pods.length;
  if (ready > 0) {
    status.readyReplicas = ready;
    status.availableReplicas = ready; // minReadySeconds is not modelled: ready counts as available
  }
  if (deepEqual(status, current.status ?? {})) return;
  current.status = status;
  state.store.put("apps/replicasets", current);
}
