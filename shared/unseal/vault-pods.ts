import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { classifyKubeError, kubeStatus } from "../errors/kube-errors.ts";

/** The Kubernetes calls replica discovery needs: Vault server pods by label selector. */
export interface VaultPodsPort {
  listVaultPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  readPod(namespace: string, name: string): Promise<V1Pod | undefined>;
}

export function createVaultPodsClient(kc: KubeConfig): VaultPodsPort {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async listVaultPods(namespace, labelSelector) {
      try {
        return (await core.listNamespacedPod({ namespace, labelSelector })).items;
      } catch (err) {
        throw classifyKubeError(err, `list vault pods in ${namespace} (${labelSelector})`);
      }
    },
    async readPod(namespace, name) {
      try {
        return await core.readNamespacedPod({ namespace, name });
      } catch (err) {
        if (kubeStatus(err) === 404) return undefined;
        throw classifyKubeError(err, `read vault pod ${namespace}/${name}`);
      }
    },
  };
}

/** When the Vault container last started (it starts sealed), if the pod says so. */
export function containerStartedAt(pod: V1Pod, container?: string): Date | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  const status = (container ? statuses.find((s) => s.name === container) : undefined) ?? statuses[0];
  const started = status?.state?.running?.startedAt;
  return started ? new Date(started) : undefined;
}
