import type { V1OwnerReference, V1Pod } from "@kubernetes/client-node";
import type { PodIndex } from "../index/pod-index.ts";
import type { PodRecord } from "../index/pod-record.ts";
import type { KubePort } from "../ports/vault-kube.ts";
import type { Scope, WorkloadKind } from "./scope.ts";

/** Who owns a ReplicaSet (the Deployment hop of an ownerReferences walk). */
export interface OwnerLookup {
  replicaSetOwner(namespace: string, name: string): Promise<V1OwnerReference | undefined>;
}

export interface ResolveDeps {
  readonly index: PodIndex;
  readonly kube: KubePort;
  readonly owners: OwnerLookup;
}

/** A pod whose credentials a scope reaches: all of them, or (lease / prefix scopes) only some leases. */
export interface ResolvedTarget {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly role: string;
  readonly state: PodRecord["state"];
  readonly leases: ReadonlyArray<{ id: string; path: string; file: string; expiresAt: string }>;
  readonly tokenExpiresAt: string;
  /** Set when only these leases are meant, not the pod token and the whole Secret. */
  readonly onlyLeases?: readonly string[];
}

/**
 * Resolves a scope against the pod index (and, for workloads, the pods' ownerReferences). Nothing matched → [].
 * Pod, pod-uid, namespace and workload scopes read only their namespace's (or one) record; lease and
 * path-prefix scopes name no namespace and read the whole index.
 */
export async function resolveScope(deps: ResolveDeps, scope: Scope): Promise<ResolvedTarget[]> {
  switch (scope.type) {
    case "lease":
      return (await deps.index.all()).filter((r) => leaseIdsOf(r).includes(scope.id)).map((r) => target(r, [scope.id]));
    case "pod":
      return (await deps.index.byName(scope.namespace, scope.name)).map((r) => target(r));
    case "pod-uid": {
      const record = await deps.index.get(scope.uid);
      return record ? [target(record)] : [];
    }
    case "namespace":
      return (await deps.index.inNamespace(scope.namespace)).map((r) => target(r));
    case "path-prefix":
      return (await deps.index.all()).flatMap((r) => {
        const ids = r.leases
          .filter((l) => l.id && (l.path.startsWith(scope.prefix) || l.id.startsWith(scope.prefix)))
          .map((l) => l.id);
        return ids.length > 0 ? [target(r, ids)] : [];
      });
    case "workload": {
      const inNamespace = await deps.index.inNamespace(scope.namespace);
      if (inNamespace.length === 0) return [];
      const pods = await deps.kube.listPods([scope.namespace]);
      const owned = new Set<string>();
      const rsOwners = new Map<string, Promise<V1OwnerReference | undefined>>();
      for (const pod of pods) {
        if (await ownedBy(deps, pod, scope, rsOwners)) owned.add(pod.metadata?.uid ?? "");
      }
      return inNamespace.filter((r) => owned.has(r.uid)).map((r) => target(r));
    }
  }
}

async function ownedBy(
  deps: ResolveDeps,
  pod: V1Pod,
  workload: { readonly kind: WorkloadKind; readonly name: string },
  cache: Map<string, Promise<V1OwnerReference | undefined>>,
): Promise<boolean> {
  const { kind, name } = workload;
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return false;
  if (kind !== "Deployment") return owner.kind === kind && owner.name === name;
  if (owner.kind !== "ReplicaSet") return false;
  const namespace = pod.metadata?.namespace ?? "";
  let lookup = cache.get(owner.name);
  if (!lookup) {
    lookup = deps.owners.replicaSetOwner(namespace, owner.name);
    cache.set(owner.name, lookup);
  }
  const rsOwner = await lookup;
  return rsOwner?.kind === "Deployment" && rsOwner.name === name;
}

function leaseIdsOf(record: PodRecord): string[] {
  return [
    ...record.leases.map((l) => l.id),
    ...record.retiring.filter((r) => r.kind === "lease").map((r) => r.id),
  ].filter(Boolean);
}

function target(record: PodRecord, onlyLeases?: string[]): ResolvedTarget {
  return {
    uid: record.uid,
    namespace: record.namespace,
    name: record.name,
    role: record.role,
    state: record.state,
    leases: record.leases
      .filter((l) => l.id && (!onlyLeases || onlyLeases.includes(l.id)))
      .map((l) => ({ id: l.id, path: l.path, file: l.file, expiresAt: new Date(l.expiresAt).toISOString() })),
    tokenExpiresAt: new Date(record.tokenExpiresAt).toISOString(),
    ...(onlyLeases ? { onlyLeases } : {}),
  };
}
