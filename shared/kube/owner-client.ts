import { AppsV1Api, type KubeConfig, type V1OwnerReference } from "@kubernetes/client-node";
import { classifyKubeError, kubeStatus } from "../errors/kube-errors.ts";
import type { OwnerLookup } from "../scopes/resolve.ts";

/** ReplicaSet → Deployment over @kubernetes/client-node (needs `get` on apps/replicasets). */
export function createOwnerLookup(kc: KubeConfig): OwnerLookup {
  const apps = kc.makeApiClient(AppsV1Api);
  return {
    async replicaSetOwner(namespace, name): Promise<V1OwnerReference | undefined> {
      try {
        const rs = await apps.readNamespacedReplicaSet({ namespace, name });
        const refs = rs.metadata?.ownerReferences ?? [];
        return refs.find((o) => o.controller === true) ?? refs[0];
      } catch (err) {
        if (kubeStatus(err) === 404) return undefined;
        throw classifyKubeError(err, `read replicaset ${namespace}/${name}`);
      }
    },
  };
}
