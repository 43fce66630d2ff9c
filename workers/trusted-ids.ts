import {
  leaseTagContext,
  MAX_RECOVERY_IDS,
  type AnnotatedLease,
  type SecretRecovery,
} from "../shared/kube/pod-secret.ts";
import type { WorkerDeps } from "./deps.ts";

/**
 * What a per-pod Secret's annotations say may be revoked with leasekeeper's own power. Anyone who
 * may edit Secrets in the namespace can edit those annotations, so an accessor is used only when
 * Vault says its token was issued to a service account of that namespace, and a lease id only
 * with its tag (trustedLeases below). At most 1 + MAX_RECOVERY_IDS lookups per Secret.
 */
export async function trustedAccessors(deps: WorkerDeps, recovery: SecretRecovery): Promise<string[]> {
  if (recovery.dropped > 0) {
    deps.log.warn(
      { secret: `${recovery.namespace}/${recovery.name}`, ignored: recovery.dropped, limit: MAX_RECOVERY_IDS },
      "a Secret lists more ids than leasekeeper ever writes; the extra ones are ignored",
    );
  }
  const candidates = new Set<string>();
  if (recovery.accessor) candidates.add(recovery.accessor);
  for (const item of recovery.retiring) if (item.kind === "accessor") candidates.add(item.id);
  const trusted: string[] = [];
  for (const accessor of candidates) {
    const meta = await deps.vault.lookupAccessor(accessor);
    if (meta === undefined) continue; // already gone: nothing to revoke
    if (meta.service_account_namespace === recovery.namespace) trusted.push(accessor);
    else
      deps.log.warn(
        { secret: `${recovery.namespace}/${recovery.name}` },
        "a Secret names a Vault token that is not this namespace's; ignored",
      );
  }
  return trusted;
}

/**
 * Lease ids from a Secret's annotations that leasekeeper itself wrote for this pod: each carries a
 * tag (HMAC under the index key) bound to the pod's namespace and UID, so a made-up id, or one
 * copied from another pod's Secret, is ignored. These are revoked with sys/leases/revoke, which is
 * synchronous (the database user is gone on return); revoking a token takes its leases only
 * lazily. After an index-key change no tag verifies: then only the token remains (lazily).
 */
export function trustedLeases(deps: WorkerDeps, recovery: SecretRecovery): AnnotatedLease[] {
  const context = leaseTagContext({ namespace: recovery.namespace, uid: recovery.podUid });
  const trusted = recovery.leases.filter((l) => deps.sealBox.verifyTag(l.tag, l.id, context));
  if (trusted.length < recovery.leases.length) {
    deps.log.warn(
      { secret: `${recovery.namespace}/${recovery.name}`, ignored: recovery.leases.length - trusted.length },
      "a Secret names lease ids whose tag does not verify (not written by leasekeeper for this pod, or before an index-key change); ignored",
    );
  }
  return trusted;
}
