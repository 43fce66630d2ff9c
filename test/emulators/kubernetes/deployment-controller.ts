/**
 * A minimal Deployment controller (kubernetes pkg/controller/deployment/{sync,rolling,recreate,
 * progress}.go and util/deployment_util.go). The ReplicaSet whose template equals the Deployment's
 * (ignoring pod-template-hash) is the new one; if none exists one is created, named
 * `<deployment>-<pod-template-hash>`, with the hash in its labels, selector and template and the
 * next `deployment.kubernetes.io/revision`. Rollouts surge the new ReplicaSet to spec.replicas at
 * once and scale old ones to 0 when the new one is fully ready (RollingUpdate with 100% surge;
 * Recreate scales old ones down first). Status and the Available/Progressing conditions are what
 * `kubectl rollout status` reads (kubectl pkg/polymorphichelpers/rollout_status.go).
 */
import { createObject } from "./crud-create.ts";
import { hooksFor } from "./hooks.ts";
import { internalRequest, recordEvent } from "./internal-request.ts";
import { deepEqual, sortKeys } from "./patch.ts";
import { controllerOf } from "./replicaset-controller.ts";
import type { EmulatorState } from "./state.ts";
import { ApiError } from "./status.ts";
import type { Json, KubeObject, UserInfo } from "./types.ts";
import { nowTime } from "./validation.ts";

const DEPLOYMENT_CONTROLLER: UserInfo = {
  username: "system:serviceaccount:kube-system:deployment-controller",
  groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
};
const HASH_LABEL = "pod-template-hash";
const REVISION = "deployment.kubernetes.io/revision";
const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/**
 * ComputeHash (pkg/controller/controller_utils.go): FNV-32a of the template (and collisionCount),
 * the decimal value encoded with rand.SafeEncodeString. The hashed bytes are the template's sorted
 * JSON, not Go's spew dump, so values differ from a real cluster's while keeping their shape.
 */
export function podTemplateHash(template: Json, collisionCount: number | undefined): string {
  let h = 0x811c9dc5;
  const input = Buffer.from(
    JSON.stringify(sortKeys(template)) + (collisionCount === undefined ? "" : String(collisionCount)),
  );
  for (const byte of input) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return [...String(h)].map((d) => SAFE_ALPHABET[d.charCodeAt(0) % SAFE_ALPHABET.length]).join("");
}

function withoutHash(template: Json): Json {
  const copy = JSON.parse(JSON.stringify(template ?? {})) as Json;
  if (copy.metadata?.labels !== undefined) {
    delete copy.metadata.labels[HASH_LABEL];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  return copy;
}

const revisionOf = (o: KubeObject): number => Number(o.metadata.annotations?.[REVISION] ?? 0);
const replicasOf = (o: KubeObject): number => Number(o.spec?.replicas ?? 1);

function resolve(value: Json, total: number, roundUp: boolean): number {
  if (typeof value === "number") return value;
  const pct = Number(String(value ?? "0").replace("%", "")) / 100;
  return roundUp ? Math.ceil(pct * total) : Math.floor(pct * total);
}

function scale(state: EmulatorState, d: KubeObject, rs: KubeObject, to: number): void {
  const from = replicasOf(rs);
  if (from === to) return;
  rs.spec.replicas = to;
  rs.metadata.annotations = {
    ...rs.metadata.annotations,
    "deployment.kubernetes.io/desired-replicas": String(replicasOf(d)),
  };
  state.store.put("apps/replicasets", rs);
  recordEvent(
    state,
    d,
    "Normal",
    "ScalingReplicaSet",
    `Scaled ${to > from ? "up" : "down"} replica set ${rs.metadata.name ?? ""} from ${from} to ${to}`,
    "deployment-controller",
  );
}

async function createNewReplicaSet(state: EmulatorState, d: KubeObject, revision: number): Promise<void> {
  const template: Json = d.spec.template;
  const hash = podTemplateHash(template, d.status?.collisionCount);
  const labels = { ...template.metadata?.labels, [HASH_LABEL]: hash };
  const desired = replicasOf(d);
  const surge =
    d.spec.strategy?.type === "Recreate"
      ? 0
      : resolve(d.spec.strategy?.rollingUpdate?.maxSurge ?? "25%", desired, true);
  const rs: KubeObject = {
    kind: "ReplicaSet",
    apiVersion: "apps/v1",
    metadata: {
      name: `${d.metadata.name ?? ""}-${hash}`,
      namespace: d.metadata.namespace,
      labels,
      annotations: {
        "deployment.kubernetes.io/desired-replicas": String(desired),
        "deployment.kubernetes.io/max-replicas": String(desired + surge),
        [REVISION]: String(revision),
      },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          name: d.metadata.name ?? "",
          uid: d.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas: d.spec.strategy?.type === "Recreate" ? 0 : desired,
      minReadySeconds: d.spec.minReadySeconds ?? 0,
      selector: { ...d.spec.selector, matchLabels: { ...d.spec.selector?.matchLabels, [HASH_LABEL]: hash } },
      template: { ...template, metadata: { ...template.metadata, labels } },
    },
  };
  try {
    await createObject(
      internalRequest(state, "apps/replicasets", d.metadata.namespace ?? "", DEPLOYMENT_CONTROLLER),
      hooksFor("apps/replicasets"),
      rs,
    );
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    recordEvent(
      state,
      d,
      "Warning",
      "FailedCreate",
      `Failed to create new replica set "${String(rs.metadata.name)}": ${err.message}`,
      "deployment-controller",
    );
    return;
  }
  recordEvent(
    state,
    d,
    "Normal",
    "ScalingReplicaSet",
    `Scaled up replica set ${String(rs.metadata.name)} from 0 to ${String(rs.spec.replicas)}`,
    "deployment-controller",
  );
}

function condition(previous: Json[], type: string, status: string, reason: string, message: string): Json {
  const now = nowTime();
  const old = previous.find((c) => c.type === type);
  const same = old !== undefined && old.status === status;
  const unchanged = same && old.reason === reason && old.message === message;
  return {
    type,
    status,
    lastUpdateTime: unchanged ? old.lastUpdateTime : now,
    lastTransitionTime: same ? old.lastTransitionTime : now,
    reason,
    message,
  };
}

function writeStatus(state: EmulatorState, d: KubeObject, owned: KubeObject[], newRs: KubeObject | undefined): void {
  const desired = replicasOf(d);
  const sum = (f: string): number => owned.reduce((n, rs) => n + Number(rs.status?.[f] ?? 0), 0);
  const replicas = sum("replicas");
  const available = sum("availableReplicas");
  const updated = Number(newRs?.status?.replicas ?? 0);
  const status: Json = { observedGeneration: d.metadata.generation ?? 1 };
  if (replicas > 0) status.replicas = replicas;
  if (updated > 0) status.updatedReplicas = updated;
  if (sum("readyReplicas") > 0) status.readyReplicas = sum("readyReplicas");
  if (available > 0) status.availableReplicas = available;
  if (desired - available > 0) status.unavailableReplicas = desired - available;
  const maxUnavailable =
    d.spec.strategy?.type === "Recreate"
      ? 0
      : resolve(d.spec.strategy?.rollingUpdate?.maxUnavailable ?? "25%", desired, false);
  const previous: Json[] = d.status?.conditions ?? [];
  const complete = updated === desired && replicas === desired && available === desired;
  const rsName = newRs?.metadata.name ?? "";
  status.conditions = [
    available >= desired - maxUnavailable
      ? condition(previous, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
      : condition(
          previous,
          "Available",
          "False",
          "MinimumReplicasUnavailable",
          "Deployment does not have minimum availability.",
        ),
    complete
      ? condition(
          previous,
          "Progressing",
          "True",
          "NewReplicaSetAvailable",
          `ReplicaSet "${rsName}" has successfully progressed.`,
        )
      : condition(previous, "Progressing", "True", "ReplicaSetUpdated", `ReplicaSet "${rsName}" is progressing.`),
  ];
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  const annotations =
    newRs === undefined ? d.metadata.annotations : { ...d.metadata.annotations, [REVISION]: String(revisionOf(newRs)) };
  if (deepEqual(status, d.status ?? {}) && deepEqual(annotations, d.metadata.annotations)) return;
  d.status = status;
  if (annotations !== undefined) d.metadata.annotations = annotations;
  state.store.put("apps/deployments", d);
}

export async function syncDeployment(state: EmulatorState, namespace: string, name: string): Promise<void> {
  const d = state.store.get("apps/deployments", namespace, name);
  if (
    d === undefined ||
    d.metadata.deletionTimestamp !== undefined ||
    d.spec?.template === undefined ||
    d.spec?.selector === undefined
  )
    return;
  const owned = state.store
    .list("apps/replicasets", namespace)
    .filter((rs) => controllerOf(rs, "Deployment")?.uid === d.metadata.uid);
  const target = withoutHash(d.spec.template);
  const newRs = owned.find((rs) => deepEqual(withoutHash(rs.spec?.template), target));
  const maxRevision = Math.max(0, ...owned.map(revisionOf));
  if (newRs === undefined) {
    if (d.spec.paused !== true) await createNewReplicaSet(state, d, maxRevision + 1);
    else writeStatus(state, d, owned, undefined);
    return; // the new ReplicaSet's ADDED event brings the next sync
  }
  const olds = owned.filter((rs) => rs !== newRs);
  if (revisionOf(newRs) < maxRevision && d.spec.paused !== true) {
    // a rollback to an older template: it becomes the newest revision
    newRs.metadata.annotations = { ...newRs.metadata.annotations, [REVISION]: String(maxRevision + 1) };
    state.store.put("apps/replicasets", newRs);
    return;
  }
  const desired = replicasOf(d);
  const recreate = d.spec.strategy?.type === "Recreate";
  const oldsGone = olds.every((rs) => Number(rs.status?.replicas ?? 0) === 0);
  if (!recreate || oldsGone) scale(state, d, newRs, desired);
  const newReady = Number(newRs.status?.readyReplicas ?? 0) >= desired && replicasOf(newRs) === desired;
  if (recreate || newReady) for (const rs of olds) scale(state, d, rs, 0);
  const fresh = state.store
    .list("apps/replicasets", namespace)
    .filter((rs) => controllerOf(rs, "Deployment")?.uid === d.metadata.uid);
  writeStatus(
    state,
    d,
    fresh,
    fresh.find((rs) => rs.metadata.uid === newRs.metadata.uid),
  );
}
