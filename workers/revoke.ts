import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import type { RevokedMark } from "../shared/index/pod-index.ts";
import type { PodRecord } from "../shared/index/pod-record.ts";
import {
  holdsRevokeFinalizer,
  isPodsSecret,
  readSecretRecovery,
  type SecretRecovery,
} from "../shared/kube/pod-secret.ts";
import {
  QUEUE,
  RetireJobSchema,
  RevokeJobSchema,
  type RetireJob,
  type RevokeJob,
  type RevokeOutcome,
  type RevokeQueueJob,
} from "../shared/jobs/job-types.ts";
import { isTerminal } from "../shared/pods/pod-state.ts";
import type { WorkerDeps } from "./deps.ts";
import { podEvent } from "./events.ts";
import { byJobName, runJob, type Indexed } from "./job-runner.ts";
import { trustedAccessors, trustedLeases } from "./trusted-ids.ts";
import { createOperationProcessor } from "./operation.ts";

/**
 * revoke: when the pod is gone (deleted, UID changed) or terminal. What the index knows (its
 * lease ids, token accessor, retiring ids) is revoked first: leases synchronously, then the pod
 * token by accessor (unknown ids are fine). Only then are the Secret's annotations read (tagged
 * lease ids, accessors confirmed by Vault's lookup), so a lost index costs neither an orphan nor a
 * lazy revoke, while a failing lookup never delays revoking what is known. Then the Secret is
 * deleted and released from its finalizer, the renewal cancelled and the index entry dropped.
 */
export function createRevokeProcessor(deps: WorkerDeps) {
  return byJobName<RevokeQueueJob>(deps, QUEUE.revoke, {
    revoke: runJob(
      deps,
      { queue: QUEUE.revoke, schema: RevokeJobSchema, lockKey: (data) => data.uid, readsIndex: true },
      (data, _job, read) => revoke(deps, data, read),
    ),
    retire: runJob(deps, { queue: QUEUE.revoke, schema: RetireJobSchema, lockKey: (data) => data.uid }, (data) =>
      retire(deps, data),
    ),
    operation: createOperationProcessor(deps, (ref) => revoke(deps, ref)),
  });
}

/** Lease ids and token accessors to revoke, or revoked. */
interface Revocations {
  readonly leaseIds: Set<string>;
  readonly accessors: Set<string>;
}

/**
 * Leases first and synchronously (sys/leases/revoke, sync), so database users are gone when this
 * returns; then the tokens, which take any lease we could not know only lazily (Vault's expiration
 * manager). What is in `done` already is skipped; what gets revoked is added to it.
 */
async function revokeAll(deps: WorkerDeps, done: Revocations, todo: Revocations): Promise<void> {
  for (const id of todo.leaseIds) {
    if (done.leaseIds.has(id)) continue;
    await deps.vault.revokeLease(id);
    deps.metrics.revocations.inc({ kind: "lease" });
    done.leaseIds.add(id);
  }
  for (const accessor of todo.accessors) {
    if (done.accessors.has(accessor)) continue;
    await deps.vault.revokeAccessor(accessor);
    deps.metrics.revocations.inc({ kind: "token" });
    done.accessors.add(accessor);
  }
}

/** What the index record names: Redis holds only what leasekeeper wrote, so no lookup is needed. */
function indexed(record: PodRecord | undefined): Revocations {
  const known: Revocations = { leaseIds: new Set(), accessors: new Set() };
  if (!record) return known;
  known.accessors.add(record.accessor);
  for (const lease of record.leases) if (lease.id) known.leaseIds.add(lease.id);
  for (const item of record.retiring) (item.kind === "lease" ? known.leaseIds : known.accessors).add(item.id);
  return known;
}

/**
 * What the Secrets' annotations add: lease ids whose tag verifies, and accessors Vault confirms
 * (lookup-accessor) were issued to the namespace. Accessors revoked already are not looked up.
 */
async function annotated(deps: WorkerDeps, secrets: readonly V1Secret[], done: Revocations): Promise<Revocations> {
  const extra: Revocations = { leaseIds: new Set(), accessors: new Set() };
  for (const secret of secrets) {
    const recovery = readSecretRecovery(secret);
    if (!recovery) continue;
    for (const lease of trustedLeases(deps, recovery)) extra.leaseIds.add(lease.id);
    const unknown: SecretRecovery = {
      ...recovery,
      accessor: recovery.accessor && !done.accessors.has(recovery.accessor) ? recovery.accessor : undefined,
      retiring: recovery.retiring.filter((r) => r.kind !== "accessor" || !done.accessors.has(r.id)),
    };
    for (const accessor of await trustedAccessors(deps, unknown)) extra.accessors.add(accessor);
  }
  return extra;
}

async function revoke(deps: WorkerDeps, job: RevokeJob, read?: Indexed): Promise<RevokeOutcome> {
  const { record, mark } = await (read ?? deps.index.getWithMark(job.uid));
  // The payload (an event, Redis) only names the pod: where the pod with this UID lives comes from
  // the index or the tombstone when they know it, and whether it lives from the API server.
  const ref: RevokeJob = {
    ...job,
    ...(record
      ? { namespace: record.namespace, name: record.name }
      : mark?.namespace && mark.name
        ? { namespace: mark.namespace, name: mark.name }
        : {}),
  };
  // A pod the watch saw deleted is gone for good (UIDs are never reused): no GET for it.
  const pod = deps.podCache?.seenDeleted?.(ref.uid) ? undefined : await deps.kube.readPod(ref.namespace, ref.name);
  const sameUid = pod?.metadata?.uid === ref.uid;
  const alive = pod !== undefined && sameUid && !isTerminal(pod);
  if (alive && !ref.force) return { outcome: "pod-alive" };
  // Forced (on-call) while alive: the tombstone goes first, so no issue can slip in between.
  if (alive)
    await deps.index.markRevoked(ref.uid, {
      at: deps.now(),
      source: ref.source,
      reason: ref.reason,
      namespace: ref.namespace,
      name: ref.name,
    });
  else if (mark) await clearTombstoneIfGone(deps, ref.uid, mark, { ...ref, pod });

  // What the index knows goes before anything else is asked (a Secret read or a lookup may fail).
  const revoked: Revocations = { leaseIds: new Set(), accessors: new Set() };
  await revokeAll(deps, revoked, indexed(record));
  const secrets = await podSecrets(deps, ref, record?.secretName);
  if (!record && secrets.length === 0) return { outcome: "nothing-to-revoke" };
  await revokeAll(deps, revoked, await annotated(deps, secrets, revoked));
  const { leaseIds, accessors } = revoked;
  // Only now, every revocation done, may the Secret go: deleted (or its pending deletion left to
  // finish), then released from FINALIZER_REVOKE. A failure above throws first, the job retries,
  // and the finalizer keeps the Secret and what it names until a retry succeeds.
  let secretDeleted = false;
  for (const secret of secrets) {
    const name = secret.metadata?.name;
    if (!name) continue;
    if (!secret.metadata?.deletionTimestamp) await deps.kube.deleteSecret(ref.namespace, name);
    if (holdsRevokeFinalizer(secret)) await deps.kube.releaseSecret(ref.namespace, name, secret.metadata?.uid ?? "");
    secretDeleted = true;
  }
  // The renewal waits as a timer (dropped with the record) unless it is a queued job by now.
  if (!(await deps.index.delete(ref.uid, record?.renewJobId))) await deps.producer.removeRenewJob(record?.renewJobId);
  deps.log.info(
    {
      pod: `${ref.namespace}/${ref.name}`,
      uid: ref.uid,
      reason: ref.reason,
      leases: leaseIds.size,
      tokens: accessors.size,
    },
    "credentials revoked",
  );
  // On the pod while it exists; once it is gone, on its namespace, naming the pod.
  const what = `${leaseIds.size} lease(s) and ${accessors.size === 1 ? "the" : accessors.size} Vault token${accessors.size === 1 ? "" : "s"}`;
  if (pod && sameUid) await podEvent(deps, ref, "CredentialsRevoked", `Revoked ${what} of the pod (${ref.reason})`);
  else
    await podEvent(
      deps,
      { ...ref, onNamespace: true },
      "CredentialsRevoked",
      `Revoked ${what} of pod ${ref.name} (uid ${ref.uid}), which is gone (${ref.reason})`,
    );
  return { outcome: "revoked", leases: leaseIds.size, tokenRevoked: accessors.size > 0, secretDeleted };
}

/**
 * Revokes one lease or token replaced by rotation, once its grace has passed. The job names an id,
 * but Redis is not trusted: only an id the pod's index record lists as retiring is revoked.
 */
async function retire(deps: WorkerDeps, data: RetireJob): Promise<{ outcome: "retired" | "not-retiring" }> {
  const record = await deps.index.get(data.uid);
  const listed = record?.retiring.some((r) => r.kind === data.kind && r.id === data.id) === true;
  if (!record || !listed) {
    deps.log.warn(
      { uid: data.uid, kind: data.kind },
      "retire job names nothing the pod's record lists as retiring; nothing revoked",
    );
    return { outcome: "not-retiring" };
  }
  if (data.kind === "lease") await deps.vault.revokeLease(data.id);
  else await deps.vault.revokeAccessor(data.id);
  deps.metrics.revocations.inc({ kind: data.kind === "lease" ? "lease" : "token" });
  await deps.index.put({
    ...record,
    retiring: record.retiring.filter((r) => !(r.kind === data.kind && r.id === data.id)),
  });
  return { outcome: "retired" };
}

/**
 * An on-call tombstone stays until the API server shows no pod with this UID where the tombstone
 * was set. A payload naming another (or no) pod cannot clear it; a tombstone written before it
 * recorded the pod's place is kept (harmless: a replacement pod has a new UID).
 */
async function clearTombstoneIfGone(
  deps: WorkerDeps,
  uid: string,
  mark: RevokedMark,
  seen: { namespace: string; name: string; pod: V1Pod | undefined },
): Promise<void> {
  if (!mark.namespace || !mark.name) return;
  const pod =
    mark.namespace === seen.namespace && mark.name === seen.name
      ? seen.pod
      : await deps.kube.readPod(mark.namespace, mark.name);
  if (pod?.metadata?.uid !== uid) await deps.index.clearRevoked(uid);
}

/**
 * The pod's Secret(s): read by name when the index knows it (one GET), listed by the pod-UID
 * label otherwise (the index was lost), so recovery never depends on Redis. Only Secrets that are
 * the pod's own (isPodsSecret) are read or deleted.
 */
async function podSecrets(deps: WorkerDeps, ref: RevokeJob, secretName: string | undefined): Promise<V1Secret[]> {
  if (secretName) {
    // Gone (garbage-collected with the pod) or already another pod's: nothing of ours to read or delete.
    const secret = await deps.kube.readSecret(ref.namespace, secretName);
    return secret && isPodsSecret(secret, ref) ? [secret] : [];
  }
  return (await deps.kube.listManagedSecrets([ref.namespace], ref.uid)).filter((s) => isPodsSecret(s, ref));
}
