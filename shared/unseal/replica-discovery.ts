import type { ReplicaRef } from "./replicas.ts";
import type { VaultPodsPort } from "./vault-pods.ts";

export interface DiscoverySettings {
  /** Configured replica addresses; when non-empty, pods are not looked up. */
  readonly addresses: readonly string[];
  readonly podNamespace: string;
  readonly podSelector: string;
}

/** Lists the Vault replicas to unseal: the configured addresses, or the Vault server pods. */
export function createReplicaDiscovery(pods: VaultPodsPort, settings: DiscoverySettings) {
  return {
    async list(): Promise<ReplicaRef[]> {
      if (settings.addresses.length > 0) return settings.addresses.map((addr) => ({ kind: "address" as const, addr }));
      const found = await pods.listVaultPods(settings.podNamespace, settings.podSelector);
      return found
        .filter((p) => p.metadata?.name && !p.metadata.deletionTimestamp)
        .map((p) => ({
          kind: "pod" as const,
          namespace: p.metadata?.namespace ?? settings.podNamespace,
          name: p.metadata?.name as string,
        }));
    },
  };
}

export type ReplicaDiscovery = ReturnType<typeof createReplicaDiscovery>;
