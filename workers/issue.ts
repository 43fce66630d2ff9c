import type { V1Pod } from "@kubernetes/client-node";
import { PermanentError, isPermanent } from "../shared/errors/errors.ts";
import type { LeaseRecord, PodRecord, Retiring } from "../shared/index/pod-record.ts";
import { isPodsSecret, readSecretRecovery } from "../shared/kube/pod-secret.ts";
import { isAlreadyExists } from "../shared/errors/kube-errors.ts";
import { IssueJobSchema, QUEUE, type IssueJob, type IssueOutcome } from "../shared/jobs/job-types.ts";
import type { PodRequest } from "../shared/pods/pod-contract.ts";
import { readPodContract } from "../shared/pods/read-contract.ts";
import type { VaultAuth } from "../shared/ports/vault-kube.ts";
import { isTerminal } from "../shared/pods/pod-state.ts";
import { loginAsPod, readSecrets, writePodSecret } from "./credentials.ts";
import type { WorkerDeps } from "./deps.ts";
import { podEvent } from "./events.ts";
import { currentPod } from "./pod-lookup.ts";
import { runJob, type Indexed } from "./job-runner.ts";
import { trustedAccessors, trustedLeases } from "./trusted-ids.ts";
import { scheduleRenew } from "./schedule.ts";

/**
 * issue: pod still exists with the same UID and is opted in; not already issued;
 * TokenRequest -> Vault login -> record the accessor (before any lease exists) -> read each
 * secret -> write the Secret -> record leases -> schedule renew -> Event.
 */
export function createIssueProcessor(deps: WorkerDeps) {
  return runJob(
    deps,
    { queue: QUEUE.issue, schema: IssueJobSchema, lockKey: (data) => data.uid, readsIndex: true },
    (data, _job, indexed) => issue(deps, data, indexed),
  );
}

async function issue(deps: WorkerDeps, ref: IssueJob, indexed: Indexed | undefined): Promise<IssueOutcome> {
  const pod = await currentPod(deps, ref);
  if (!pod || pod.metadata?.uid !== ref.uid) return { outcome: "pod-gone" };
  if (isTerminal(pod) || pod.metadata?.deletionTimestamp) return { outcome: "pod-terminal" };
  const contract = readPodContract(pod, deps.settings);
  if (contract.kind === "not-opted-in") return { outcome: "not-opted-in" };
  if (contract.kind === "invalid") return fail(deps, ref, new PermanentError(contract.reason, "InvalidAnnotations"));
  const request = contract.request;

  const { record: existing, mark } = await (indexed ?? deps.index.getWithMark(ref.uid));
  if (existing && existing.state !== "issuing") return { outcome: "already-issued" };
  // Revoked by on-call while alive: stays revoked until the pod is replaced (new UID).
  if (mark) return { outcome: "revoked-by-operator" };
  const retiring: Retiring[] = [];
  const graceAt = deps.now() + deps.settings.rotationGraceSeconds * 1000;
  if (existing) {
    // A previous attempt died between login and Secret: the leases it recorded go now,
    // synchronously, then its token (with any lease read after the last record, lazily).
    await revokeAttempt(deps, existing.accessor, existing.leases);
  }
  // Only a retried pod is known to have a Secret already; a first issue tries to create it and
  // reads the existing one only on AlreadyExists (index lost while the pod lived).
  let previous = existing ? await deps.kube.readSecret(ref.namespace, request.secretName) : undefined;

  let auth;
  try {
    auth = await loginAsPod(deps, pod, ref, request);
  } catch (err) {
    if (isPermanent(err)) return fail(deps, ref, err);
    throw err;
  }
  const record = issuingRecord(deps, { ref, pod, request }, auth, retiring);
  await deps.index.put(record);

  // Each lease is recorded as soon as it exists, so a crash before the Secret is written leaves its id.
  const onLease = async (lease: LeaseRecord) => {
    record.leases = [...record.leases, lease];
    await deps.index.put(record);
  };
  try {
    const read = await readSecrets(deps, auth.token, request.secrets, { ...request, onLease });
    const content = { accessor: auth.accessor, leases: read.leases, retiring, files: read.files };
    try {
      await writePodSecret(deps, { ref, request }, content, previous);
    } catch (err) {
      if (previous || !isAlreadyExists(err)) throw err;
      previous = await deps.kube.readSecret(ref.namespace, request.secretName);
      // Only this pod's own Secret is recovered from; any other one is refused by writePodSecret.
      const recovery = previous && isPodsSecret(previous, ref) ? readSecretRecovery(previous) : undefined;
      if (recovery) {
        // The index was lost but the pod's Secret survived: its old credentials retire after the grace.
        for (const lease of trustedLeases(deps, recovery))
          retiring.push({ kind: "lease", id: lease.id, revokeAt: graceAt });
        for (const accessor of await trustedAccessors(deps, recovery))
          retiring.push({ kind: "accessor", id: accessor, revokeAt: graceAt });
      }
      await writePodSecret(deps, { ref, request }, content, previous);
    }
    record.leases = read.leases;
  } catch (err) {
    if (!isPermanent(err)) throw err;
    await revokeAttempt(deps, auth.accessor, record.leases);
    await deps.index.delete(ref.uid);
    return fail(deps, ref, err);
  }

  record.state = "issued";
  await scheduleRenew(deps, record);
  for (const item of retiring)
    await deps.producer.retire({ uid: ref.uid, kind: item.kind, id: item.id }, item.revokeAt - deps.now());

  const created = pod.metadata?.creationTimestamp;
  if (created) deps.metrics.issueSeconds.observe(Math.max(0, deps.now() - new Date(created).getTime()) / 1000);
  const files = request.secrets.map((s) => s.file).join(", ");
  deps.log.info(
    { pod: `${ref.namespace}/${ref.name}`, uid: ref.uid, role: request.role, files, leases: record.leases.length },
    "credentials issued",
  );
  await podEvent(
    deps,
    ref,
    "CredentialsIssued",
    `Issued ${request.secrets.length} credential file(s) (${files}) into Secret ${request.secretName} with Vault role ${request.role}`,
  );
  return { outcome: "issued", leases: record.leases.filter((l) => l.id !== "").length, secret: request.secretName };
}

/** The record of an issue in progress: the new token's accessor is known before any lease exists. */
function issuingRecord(
  deps: WorkerDeps,
  target: { ref: IssueJob; pod: V1Pod; request: PodRequest },
  auth: VaultAuth,
  retiring: Retiring[],
): PodRecord {
  const { ref, pod, request } = target;
  const now = deps.now();
  return {
    uid: ref.uid,
    namespace: ref.namespace,
    name: ref.name,
    serviceAccount: pod.spec?.serviceAccountName || "default",
    role: request.role,
    authPath: request.authPath,
    secretName: request.secretName,
    state: "issuing",
    accessor: auth.accessor,
    encryptedToken: deps.sealBox.seal(auth.token, ref.uid),
    tokenExpiresAt: now + auth.ttlSeconds * 1000,
    tokenTtlSeconds: auth.ttlSeconds,
    tokenRenewable: auth.renewable,
    leases: [],
    retiring,
    issuedAt: now,
    rotations: 0,
  };
}

/** Revokes what an unfinished attempt created: its recorded leases synchronously, then its token. */
async function revokeAttempt(deps: WorkerDeps, accessor: string, leases: readonly LeaseRecord[]): Promise<void> {
  for (const lease of leases) {
    if (!lease.id) continue;
    await deps.vault.revokeLease(lease.id);
    deps.metrics.revocations.inc({ kind: "lease" });
  }
  await deps.vault.revokeAccessor(accessor);
  deps.metrics.revocations.inc({ kind: "token" });
}

async function fail(deps: WorkerDeps, ref: IssueJob, err: PermanentError): Promise<never> {
  deps.log.warn(
    { pod: `${ref.namespace}/${ref.name}`, uid: ref.uid, reason: err.reason, error: err.message },
    "issue failed",
  );
  await podEvent(deps, ref, "IssueFailed", `${err.reason}: ${err.message}`);
  throw err;
}
