import { MAX_RECOVERY_IDS, type SecretRecovery } from "../shared/kube/pod-secret.ts";
import type { WorkerDeps } from "./deps.ts";

/**
 * What a per-pod Secret's annotations say may be revoked with leasekeeper's own power. Anyone who
 * may edit Secrets in the namespace can edit those annotations, so an accessor is used only when
 * Vault says its token was issued to a service account of that namespace; lease ids from
 * annotations are not used at all (revoking the pod token revokes every lease under it). At most
 * 1 + MAX_RECOVERY_IDS lookups per Secret.
 */
export async function trustedAccessors(deps: WorkerDeps, recovery: SecretRecovery): Promise<string[]> {
  if (recovery.dropped > 0) {
    deps.log.warn({ secret: `${recovery.namespace}/${recovery.name}`, ignored: recovery.dropped, limit: MAX_RECOVERY_IDS }, "a Secret lists more ids than leasekeeper ever writes; the extra ones are ignored");
  }
  const candidates = new Set<string>();
  if (recovery.accessor) candidates.add(recovery.accessor);
  for (const item of recovery.retiring) if (item.kind === "accessor") candidates.add(item.id);
  const trusted: string[] = [];
  for (const accessor of candidates) {
    const meta = await deps.vault.lookupAccessor(accessor);
    if (meta === undefined) continue; // already gone: nothing to revoke
    if (meta.service_account_namespace === recovery.namespace) trusted.push(accessor);
    else deps.log.warn({ secret: `${recovery.namespace}/${recovery.name}` }, "a Secret names a Vault token that is not this namespace's; ignored");
  }
  return trusted;
}
