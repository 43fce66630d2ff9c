/**
 * Which Vault replicas may receive unseal key shares. Jobs come through Redis, which is not
 * trusted (DESIGN.md, trust boundaries): a job only names a replica, and the worker resolves the
 * name against configuration — an address must be one of LEASEKEEPER_VAULT_REPLICAS; a pod must
 * be re-read from the API server, sit in LEASEKEEPER_VAULT_POD_NAMESPACE, match
 * LEASEKEEPER_VAULT_POD_SELECTOR and be controlled by a StatefulSet (the Helm chart's `vault`).
 */
import type { V1Pod } from "@kubernetes/client-node";
import { matchesLabelSelector, parseLabelSelector, type LabelRequirement } from "../kube/label-selector.ts";

export interface ReplicaTrustSettings {
  /** LEASEKEEPER_VAULT_REPLICAS; when non-empty, only these addresses (and no pods) are trusted. */
  readonly vaultReplicas: readonly string[];
  readonly vaultPodNamespace: string;
  readonly vaultPodSelector: string;
}

export interface ReplicaTrust {
  /** The configured address equal to `addr` (normalised), or undefined. */
  address(addr: string): string | undefined;
  /** Why `pod` (as read from the API server) may not be unsealed by leasekeeper, or undefined. */
  podProblem(namespace: string, pod: V1Pod | undefined): string | undefined;
  /**
   * Whether this replica may start a new Raft cluster (auto-init): the first configured address, or
   * the StatefulSet's ordinal 0, as vault-helm initialises vault-0 and the others join it.
   */
  mayInitRaft(replica: { readonly addr: string; readonly podName: string | undefined }): boolean;
}

/** Compares URLs as Vault clients would dial them: scheme, host and port; a trailing slash ignored. */
function normalise(addr: string): string | undefined {
  try {
    const url = new URL(addr);
    if (url.username || url.password || url.search || url.hash) return undefined;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return undefined;
  }
}

export function createReplicaTrust(settings: ReplicaTrustSettings): ReplicaTrust {
  const addresses = new Map<string, string>();
  for (const a of settings.vaultReplicas) {
    const n = normalise(a);
    if (n) addresses.set(n, a);
  }
  const selector: LabelRequirement[] = parseLabelSelector(settings.vaultPodSelector);
  return {
    address(addr) {
      const n = normalise(addr);
      return n === undefined ? undefined : addresses.get(n);
    },
    mayInitRaft(replica) {
      if (replica.podName !== undefined) return /-0$/.test(replica.podName);
      const first = settings.vaultReplicas[0];
      return first !== undefined && normalise(first) === normalise(replica.addr);
    },
    podProblem(namespace, pod) {
      if (addresses.size > 0)
        return "replicas are configured by address (LEASEKEEPER_VAULT_REPLICAS); Vault pods are not unsealed";
      if (namespace !== settings.vaultPodNamespace)
        return `namespace ${namespace} is not LEASEKEEPER_VAULT_POD_NAMESPACE (${settings.vaultPodNamespace})`;
      if (!pod?.metadata?.uid) return undefined; // not there (yet): the caller retries
      if (pod.metadata.namespace !== settings.vaultPodNamespace) return "the pod read back is in another namespace";
      if (!matchesLabelSelector(pod.metadata.labels, selector))
        return `the pod does not match LEASEKEEPER_VAULT_POD_SELECTOR (${settings.vaultPodSelector})`;
      const controller = (pod.metadata.ownerReferences ?? []).find((r) => r.controller === true);
      if (controller?.kind !== "StatefulSet" || !controller.apiVersion.startsWith("apps/"))
        return "the pod is not controlled by a StatefulSet";
      return undefined;
    },
  };
}
