import type { V1Secret } from "@kubernetes/client-node";
import { LABEL_POD_UID } from "../shared/kube/labels.ts";
import { readSecretRecovery } from "../shared/kube/pod-secret.ts";
import { QUEUE, RetireJobSchema, RevokeJobSchema, type RetireJob, type RevokeJob, type RevokeOutcome } from "../shared/jobs/job-types.ts";
import { isTerminal } from "../shared/pods/pod-state.ts";
import type { WorkerDeps } from "./deps.ts";
import { podEvent } from "./events.ts";
import { runJob } from "./job-runner.ts";
import { trustedAccessors } from "./trusted-ids.ts";
import { createOperationProcessor } from "./operation.ts";

/**
 * revoke: when the pod is gone (deleted, UID changed) or terminal. Revokes every lease and
 * the pod token by accessor (unknown ids are fine), deletes the Secret, cancels the renewal
 * and drops the index entry. The Secret's annotations are read too, so a lost index does not
 * leave an orphan.
 */
export function createRevokeProcessor(deps: WorkerDeps) {
  const revokeBody = runJob(deps, QUEUE.revoke, RevokeJobSchema, (data) => revoke(deps, data), (data) => data.uid);
  const retireBody = runJob(deps, QUEUE.revoke, RetireJobSchema, (data) => retire(deps, data), (data) => data.uid);
  const operationBody = createOperationProcessor(deps, (ref) => revoke(deps, ref));
  return (job: Parameters<typeof revokeBody>[0], token?: string) =>
    job.name === "retire" ? retireBody(job, token) : job.name === "operation" ? operationBody(job, token) : revokeBody(job, token);
}

async function revoke(deps: WorkerDeps, ref: RevokeJob): Promise<RevokeOutcome> {
  const pod = await deps.kube.readPod(ref.namespace, ref.name);
  const sameUid = pod?.metadata?.uid === ref.uid;
  const alive = pod !== undefined && sameUid && !isTerminal(pod);
  if (alive && !ref.force) return { outcome: "pod-alive" };
  // The pod was replaced or is gone: an on-call tombstone for this UID has done its job.
  if (!pod || !sameUid) await deps.index.clearRevoked(ref.uid);
  // Forced (on-call) while alive: the tombstone goes first, so no issue can slip in between.
  if (alive) await deps.index.markRevoked(ref.uid, { at: deps.now(), source: ref.source, reason: ref.reason });

  const record = await deps.index.get(ref.uid);
  const secrets = await podSecrets(deps, ref, record?.secretName);
  const leaseIds = new Set<string>();
  const accessors = new Set<string>();
  if (record) {
    accessors.add(record.accessor);
    for (const lease of record.leases) if (lease.id) leaseIds.add(lease.id);
    for (const item of record.retiring) (item.kind === "lease" ? leaseIds : accessors).add(item.id);
  }
  for (const secret of secrets) {
    const recovery = readSecretRecovery(secret);
    if (!recovery) continue;
    for (const accessor of await trustedAccessors(deps, recovery)) accessors.add(accessor);
  }
  if (!record && secrets.length === 0) return { outcome: "nothing-to-revoke" };

  // Leases first and synchronously, so database users are gone when this returns; then the token.
  for (const id of leaseIds) {
    await deps.vault.revokeLease(id);
    deps.metrics.revocations.inc({ kind: "lease" });
  }
  for (const accessor of accessors) {
    await deps.vault.revokeAccessor(accessor);
    deps.metrics.revocations.inc({ kind: "token" });
  }
  let secretDeleted = false;
  for (const secret of secrets) {
    const name = secret.metadata?.name;
    if (!name) continue;
    await deps.kube.deleteSecret(ref.namespace, name);
    secretDeleted = true;
  }
  await deps.producer.cancelRenew(record?.renewJobId);
  await deps.index.delete(ref.uid);
  deps.log.info({ pod: `${ref.namespace}/${ref.name}`, uid: ref.uid, reason: ref.reason, leases: leaseIds.size, tokens: accessors.size }, "credentials revoked");
  // On the pod while it exists; once it is gone, on its namespace, naming the pod.
  const what = `${leaseIds.size} lease(s) and ${accessors.size === 1 ? "the" : accessors.size} Vault token${accessors.size === 1 ? "" : "s"}`;
  if (pod && sameUid) await podEvent(deps, ref, "CredentialsRevoked", `Revoked ${what} of the pod (${ref.reason})`);
  else await podEvent(deps, ref, "CredentialsRevoked", `Revoked ${what} of pod ${ref.name} (uid ${ref.uid}), which is gone (${ref.reason})`, { onNamespace: true });
  return { outcome: "revoked", leases: leaseIds.size, tokenRevoked: accessors.size > 0, secretDeleted };
}

/** Revokes one lease or token replaced by rotation, once its grace has passed. */
async function retire(deps: WorkerDeps, data: RetireJob): Promise<{ outcome: "retired" }> {
  if (data.kind === "lease") await deps.vault.revokeLease(data.id);
  else await deps.vault.revokeAccessor(data.id);
  deps.metrics.revocations.inc({ kind: data.kind === "lease" ? "lease" : "token" });
  const record = await deps.index.get(data.uid);
  if (record) {
    const retiring = record.retiring.filter((r) => !(r.kind === data.kind && r.id === data.id));
    if (retiring.length !== record.retiring.length) await deps.index.put({ ...record, retiring });
  }
  return { outcome: "retired" };
}

/**
 * The pod's Secret(s): read by name when the index knows it (one GET), listed by the pod-UID
 * label otherwise (the index was lost), so recovery never depends on Redis.
 */
async function podSecrets(deps: WorkerDeps, ref: RevokeJob, secretName: string | undefined): Promise<V1Secret[]> {
  if (secretName) {
    // Gone (garbage-collected with the pod) or already another pod's: nothing of ours to read or delete.
    const secret = await deps.kube.readSecret(ref.namespace, secretName);
    return secret?.metadata?.labels?.[LABEL_POD_UID] === ref.uid ? [secret] : [];
  }
  return deps.kube.listManagedSecrets([ref.namespace], ref.uid);
}
