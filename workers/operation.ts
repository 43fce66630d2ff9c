import type { Job } from "bullmq";
import { messageOf } from "../shared/errors/errors.ts";
import {
  OperationJobSchema,
  QUEUE,
  type OperationItem,
  type OperationJob,
  type OperationOutcome,
  type OperationTarget,
  type RevokeJob,
  type RevokeOutcome,
} from "../shared/jobs/job-types.ts";
import type { WorkerDeps } from "./deps.ts";
import { runJob } from "./job-runner.ts";

type RevokePod = (ref: RevokeJob) => Promise<RevokeOutcome>;

/**
 * operation: an on-call or CI action over targets the HTTP function already resolved (the
 * same list a dry run shows). revoke: whole pods are revoked now under the pod lock (forced:
 * live pods too, with a tombstone); single leases are revoked and the pod gets a rotation so
 * it has working credentials again. rotate: a forced renewal per pod (log in again, new
 * credentials, the old ones retire after the grace). What fails is queued for retry and reported.
 */
export function createOperationProcessor(deps: WorkerDeps, revokePod: RevokePod) {
  return runJob(
    deps,
    { queue: QUEUE.revoke, schema: OperationJobSchema, lockKey: () => undefined, onPermanent: "fail" },
    (data, job) => operate(deps, revokePod, data, job),
  );
}

async function operate(deps: WorkerDeps, revokePod: RevokePod, op: OperationJob, job: Job): Promise<OperationOutcome> {
  const items: OperationItem[] = [];
  const opKey = String(job.timestamp);
  let lastReport = 0;
  for (const target of op.targets) {
    items.push(await runTarget(deps, { op, opKey, revokePod }, target));
    if (items.length === op.targets.length || Date.now() - lastReport > 250) {
      lastReport = Date.now();
      await job.updateProgress({ done: items.length, total: op.targets.length });
    }
  }
  const failed = items.filter((i) => i.outcome === "failed").length;
  deps.log.info(
    { action: op.action, source: op.source, actor: op.actor, total: items.length, failed, job: job.id },
    "operation finished",
  );
  return { outcome: failed > 0 ? "partly-failed" : "completed", action: op.action, total: items.length, failed, items };
}

/** One operation being carried out: the job, its key (retry job ids derive from it), how a pod is revoked. */
interface OperationRun {
  readonly op: OperationJob;
  readonly opKey: string;
  readonly revokePod: RevokePod;
}

async function runTarget(deps: WorkerDeps, run: OperationRun, target: OperationTarget): Promise<OperationItem> {
  const { op, opKey, revokePod } = run;
  const pod = `${target.namespace}/${target.name}`;
  const ref = { uid: target.uid, namespace: target.namespace, name: target.name };
  const rotate = () => deps.producer.renew({ ...ref, force: true }, Number(opKey), 0);
  if (op.action === "rotate") return { pod, uid: target.uid, outcome: "rotation-queued", jobId: await rotate() };

  if (target.leases !== undefined) {
    const failedLeases: string[] = [];
    const retryJobIds: string[] = [];
    let error: string | undefined;
    for (const id of target.leases) {
      try {
        await deps.vault.revokeLease(id);
        deps.metrics.revocations.inc({ kind: "lease" });
      } catch (err) {
        failedLeases.push(id);
        error = messageOf(err);
        // The retire job revokes only what the record lists as retiring (workers/revoke.ts).
        await listAsRetiring(deps, target.uid, id);
        retryJobIds.push(await deps.producer.retire({ uid: target.uid, kind: "lease", id }, 0));
      }
    }
    // The pod lives on: give it fresh credentials now instead of at its next renewal.
    const jobId = await rotate();
    if (failedLeases.length > 0)
      return {
        pod,
        uid: target.uid,
        outcome: "failed",
        leases: failedLeases,
        error: error ?? "revoke failed",
        retryJobIds,
        jobId,
      };
    return { pod, uid: target.uid, outcome: "leases-revoked", leases: target.leases, jobId };
  }

  const revokeRef: RevokeJob = {
    ...ref,
    source: op.source,
    reason: `${op.source === "ci" ? "CI" : "on-call"} ${op.actor}: ${op.reason}`.slice(0, 200),
    force: true,
  };
  try {
    const locked = await deps.lock.run(target.uid, () => revokePod(revokeRef));
    if (!locked.locked) throw new Error("pod is busy (another job holds its lock)");
    const result = locked.value;
    if (result.outcome === "revoked") return { pod, uid: target.uid, outcome: "revoked" };
    return { pod, uid: target.uid, outcome: "nothing-to-revoke" };
  } catch (err) {
    const retryJobId = await deps.producer.forcedRevoke(revokeRef, opKey);
    deps.log.warn(
      { pod, uid: target.uid, error: messageOf(err), retryJob: retryJobId },
      "operation: revoke failed; queued for retry",
    );
    return { pod, uid: target.uid, outcome: "failed", error: messageOf(err), retryJobIds: [retryJobId] };
  }
}

/** Records a lease of the pod as retiring (under the pod lock), so its retire job may revoke it. */
async function listAsRetiring(deps: WorkerDeps, uid: string, id: string): Promise<void> {
  await deps.lock.run(uid, async () => {
    const record = await deps.index.get(uid);
    if (
      !record ||
      !record.leases.some((l) => l.id === id) ||
      record.retiring.some((r) => r.kind === "lease" && r.id === id)
    )
      return;
    await deps.index.put({ ...record, retiring: [...record.retiring, { kind: "lease", id, revokeAt: deps.now() }] });
  });
}
