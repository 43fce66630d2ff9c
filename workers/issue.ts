import type { Job } from "bullmq";
import { PermanentError, isPermanent } from "../shared/errors/errors.ts";
import { earliestExpiry, type PodRecord, type Retiring } from "../shared/index/pod-record.ts";
import { isPodsSecret, readSecretRecovery } from "../shared/kube/pod-secret.ts";
import { isAlreadyExists } from "../shared/errors/kube-errors.ts";
import { IssueJobSchema, QUEUE, type IssueJob, type IssueOutcome } from "../shared/jobs/job-types.ts";
import { readPodContract } from "../shared/pods/read-contract.ts";
import { isTerminal } from "../shared/pods/pod-state.ts";
import { loginAsPod, readSecrets, writePodSecret } from "./credentials.ts";
import type { WorkerDeps } from "./deps.ts";
import { podEvent } from "./events.ts";
import { runJob } from "./job-runner.ts";
import { trustedAccessors } from "./trusted-ids.ts";
import { nextWakeMs } from "./refresh.ts";
import { renewDelayMs } from "./schedule.ts";

/**
 * issue: pod still exists with the same UID and is opted in; not already issued;
 * TokenRequest -> Vault login -> record the accessor (before any lease exists) -> read each
 * secret -> write the Secret -> record leases -> schedule renew -> Event.
 */
export function createIssueProcessor(deps: WorkerDeps) {
  return runJob(deps, QUEUE.issue, IssueJobSchema, (data) => issue(deps, data), (data) => data.uid);
}

async function issue(deps: WorkerDeps, ref: IssueJob): Promise<IssueOutcome> {
  const pod = await deps.kube.readPod(ref.namespace, ref.name);
  if (!pod || pod.metadata?.uid !== ref.uid) return { outcome: "pod-gone" };
  if (isTerminal(pod) || pod.metadata?.deletionTimestamp) return { outcome: "pod-terminal" };
  const contract = readPodContract(pod, deps.settings);
  if (contract.kind === "not-opted-in") return { outcome: "not-opted-in" };
  if (contract.kind === "invalid") return fail(deps, ref, new PermanentError(contract.reason, "InvalidAnnotations"));
  const request = contract.request;

  const existing = await deps.index.get(ref.uid);
  if (existing && existing.state !== "issuing") return { outcome: "already-issued" };
  // Revoked by on-call while alive: stays revoked until the pod is replaced (new UID).
  if (await deps.index.revokedMark(ref.uid)) return { outcome: "revoked-by-operator" };
  const retiring: Retiring[] = [];
  const graceAt = deps.now() + deps.settings.rotationGraceSeconds * 1000;
  if (existing) {
    // A previous attempt died between login and Secret: its token (and any lease under it) goes now.
    await deps.vault.revokeAccessor(existing.accessor);
    deps.metrics.revocations.inc({ kind: "token" });
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
  const now = deps.now();
  const record: PodRecord = {
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
  await deps.index.put(record);

  try {
    const read = await readSecrets(deps, auth.token, request.secrets, request);
    const content = { accessor: auth.accessor, leases: read.leases, retiring, files: read.files };
    try {
      await writePodSecret(deps, ref, request, content, previous);
    } catch (err) {
      if (previous || !isAlreadyExists(err)) throw err;
      previous = await deps.kube.readSecret(ref.namespace, request.secretName);
      // Only this pod's own Secret is recovered from; any other one is refused by writePodSecret.
      const recovery = previous && isPodsSecret(previous, ref) ? readSecretRecovery(previous) : undefined;
      if (recovery) {
        // The index was lost but the pod's Secret survived: its old credentials retire after the grace.
        for (const accessor of await trustedAccessors(deps, recovery)) retiring.push({ kind: "accessor", id: accessor, revokeAt: graceAt });
      }
      await writePodSecret(deps, ref, request, content, previous);
    }
    record.leases = read.leases;
  } catch (err) {
    if (!isPermanent(err)) throw err;
    await deps.vault.revokeAccessor(auth.accessor);
    await deps.index.delete(ref.uid);
    return fail(deps, ref, err);
  }

  record.state = "issued";
  const leaseDelay = renewDelayMs(record, deps.now(), deps.settings.renewJitterPercent, deps.random);
  record.leaseRenewAt = deps.now() + leaseDelay;
  const delay = nextWakeMs(record, deps.now(), leaseDelay);
  record.renewJobId = await deps.producer.renew({ uid: ref.uid, namespace: ref.namespace, name: ref.name, force: false }, 1, delay, earliestExpiry(record));
  record.nextRenewAt = deps.now() + delay;
  await deps.index.put(record);
  for (const item of retiring) await deps.producer.retire({ uid: ref.uid, kind: item.kind, id: item.id }, item.revokeAt - deps.now());

  const created = pod.metadata?.creationTimestamp;
  if (created) deps.metrics.issueSeconds.observe(Math.max(0, deps.now() - new Date(created).getTime()) / 1000);
  const files = request.secrets.map((s) => s.file).join(", ");
  deps.log.info({ pod: `${ref.namespace}/${ref.name}`, uid: ref.uid, role: request.role, files, leases: record.leases.length }, "credentials issued");
  await podEvent(deps, ref, "CredentialsIssued", `Issued ${request.secrets.length} credential file(s) (${files}) into Secret ${request.secretName} with Vault role ${request.role}`);
  return { outcome: "issued", leases: record.leases.filter((l) => l.id !== "").length, secret: request.secretName };
}

async function fail(deps: WorkerDeps, ref: IssueJob, err: PermanentError): Promise<never> {
  deps.log.warn({ pod: `${ref.namespace}/${ref.name}`, uid: ref.uid, reason: err.reason, error: err.message }, "issue failed");
  await podEvent(deps, ref, "IssueFailed", `${err.reason}: ${err.message}`);
  throw err;
}

export type IssueJobHandle = Job<IssueJob, IssueOutcome>;
