import { isPermanent, messageOf } from "../shared/errors/errors.ts";
import type { LeaseRecord, PodRecord } from "../shared/index/pod-record.ts";
import { QUEUE, RenewJobSchema, type RenewJob, type RenewOutcome } from "../shared/jobs/job-types.ts";
import { isTerminal } from "../shared/pods/pod-state.ts";
import type { WorkerDeps } from "./deps.ts";
import { podEvent } from "./events.ts";
import { runJob } from "./job-runner.ts";
import { reloginAndRotate, rotateLeases } from "./rotate.ts";
import { refreshDue } from "./refresh.ts";
import { scheduleRenew } from "./schedule.ts";
import { planRenewal, type LeaseStep, type ReloginCause, type RotationCause } from "./renew-plan.ts";
import { tokenRenewalPlan } from "./token-renewal.ts";

/**
 * renew: one job per pod renews its token and every lease, rotates what Vault will not
 * extend far enough, and schedules itself again at ~2/3 of the shortest remaining TTL.
 */
export function createRenewProcessor(deps: WorkerDeps) {
  return runJob(deps, { queue: QUEUE.renew, schema: RenewJobSchema, lockKey: (data) => data.uid }, (data, job) =>
    renew(deps, data, job.id),
  );
}

async function renew(deps: WorkerDeps, job: RenewJob, jobId: string | undefined): Promise<RenewOutcome> {
  const record = await deps.index.get(job.uid);
  if (!record || (record.renewJobId !== jobId && !job.force)) return { outcome: "stale" };
  // The pod is the one the record was issued for, wherever the payload says it is.
  const ref: RenewJob = { ...job, namespace: record.namespace, name: record.name };
  if (await deps.index.revokedMark(ref.uid)) {
    // Revoked by on-call while alive: nothing is renewed or re-issued; whatever the record holds goes.
    await deps.producer.revoke({
      uid: ref.uid,
      namespace: ref.namespace,
      name: ref.name,
      source: "renew",
      reason: "revoked by an operator (tombstone)",
      force: true,
    });
    deps.log.warn(
      { pod: `${ref.namespace}/${ref.name}`, uid: ref.uid },
      "renewal refused: the pod's credentials were revoked by an operator",
    );
    return { outcome: "revoked-by-operator" };
  }
  const pod = await deps.kube.readPod(ref.namespace, ref.name);
  if (!pod || pod.metadata?.uid !== ref.uid || isTerminal(pod)) {
    await deps.producer.revoke({
      uid: ref.uid,
      namespace: ref.namespace,
      name: ref.name,
      source: "renew",
      reason: "pod gone at renewal",
    });
    return { outcome: "pod-gone" };
  }
  const podLabel = `${ref.namespace}/${ref.name}`;

  let next: PodRecord;
  const plan = planRenewal(record, ref.force, deps.now());
  let cause: ReloginCause | undefined = plan.kind === "relogin" ? plan.cause : undefined;
  if (plan.kind === "renew" && plan.renewToken) cause = await renewToken(deps, record);
  let rotated = 0;
  if (cause !== undefined) {
    next = await reloginAndRotate(deps, pod, ref, record);
    rotated = next.leases.length;
    deps.metrics.rotations.inc({ cause });
    deps.log.info({ pod: podLabel, uid: ref.uid, cause }, "pod token replaced; all credentials rotated");
    await podEvent(
      deps,
      ref,
      "CredentialsRotated",
      `Logged in again (${cause}) and rotated ${next.leases.length} credential file(s) in Secret ${next.secretName}`,
    );
  } else {
    const token = deps.sealBox.open(record.encryptedToken ?? "", ref.uid);
    const { renewed, stale, trouble } =
      plan.kind === "renew" ? await renewLeases(deps, plan.leases) : { renewed: record.leases, stale: [], trouble: [] };
    next = { ...record, leases: renewed };
    if (stale.length > 0) {
      next = await rotateLeases(deps, { pod, ref }, next, { podToken: token, stale });
      rotated = stale.length;
      const leaseCause: RotationCause = trouble.length > 0 ? "lease-lost" : "max-ttl";
      deps.metrics.rotations.inc({ cause: leaseCause }, stale.length);
      const files = stale.map((l) => l.file).join(", ");
      deps.log.info({ pod: podLabel, uid: ref.uid, files }, "credentials rotated");
      await podEvent(
        deps,
        ref,
        "CredentialsRotated",
        `Rotated ${files} in Secret ${next.secretName}; the old lease(s) are revoked after ${deps.settings.rotationGraceSeconds}s`,
      );
    }
    if (trouble.length > 0)
      await podEvent(deps, ref, "CredentialsRenewed", `Renewal trouble, replaced: ${trouble.join("; ")}`);
    const due = refreshDue(next, deps.now()).filter((l) => !stale.some((s) => s.file === l.file));
    if (due.length > 0) {
      const before = next.rotations;
      next = await rotateLeases(deps, { pod, ref }, next, { podToken: token, stale: due });
      if (next.rotations > before) {
        const files = [...new Set(due.map((l) => l.file))].join(", ");
        deps.metrics.rotations.inc({ cause: "refresh" satisfies RotationCause });
        deps.log.info({ pod: podLabel, uid: ref.uid, files }, "files rendered again with changed content");
        await podEvent(
          deps,
          ref,
          "CredentialsRotated",
          `Rendered ${files} again in Secret ${next.secretName} (static secret changed or certificate re-issued)`,
        );
      }
    }
  }

  next.renewedAt = deps.now();
  next.state = "issued";
  const delay = await scheduleRenew(
    deps,
    next,
    plan.kind === "refresh-only" ? { kind: "lease-due", at: record.leaseRenewAt ?? 0 } : { kind: "by-expiry" },
  );
  if (ref.force && record.renewJobId && record.renewJobId !== jobId) await deps.producer.cancelRenew(record.renewJobId);
  return cause !== undefined
    ? { outcome: "relogged-in", leases: next.leases.length, nextRenewInMs: Math.round(delay) }
    : { outcome: "renewed", leases: next.leases.length, rotated, nextRenewInMs: Math.round(delay) };
}

/**
 * Renews the (renewable) pod token for what the next renewal cycle needs (token-renewal.ts);
 * returns a rotation cause only when its remaining life, capped at its max TTL, will not cover that.
 */
async function renewToken(deps: WorkerDeps, record: PodRecord): Promise<ReloginCause | undefined> {
  const token = deps.sealBox.open(record.encryptedToken ?? "", record.uid);
  const plan = tokenRenewalPlan(record, deps.settings.rotationGraceSeconds);
  try {
    const auth = await deps.vault.renewSelf(token, plan.incrementSeconds);
    deps.metrics.renewals.inc({ kind: "token", result: "ok" });
    record.tokenExpiresAt = deps.now() + auth.ttlSeconds * 1000;
    if (auth.ttlSeconds < plan.neededSeconds) return "token-max-ttl";
    return undefined;
  } catch (err) {
    if (!isPermanent(err)) throw err;
    deps.metrics.renewals.inc({ kind: "token", result: "lost" });
    return "token-lost";
  }
}

interface LeaseRenewals {
  renewed: LeaseRecord[];
  stale: LeaseRecord[];
  trouble: string[];
}

/** Renews the leases the plan says to, in the record's order; `stale` are the ones to rotate. */
async function renewLeases(deps: WorkerDeps, steps: readonly LeaseStep[]): Promise<LeaseRenewals> {
  const renewed: LeaseRecord[] = [];
  const stale: LeaseRecord[] = [];
  const trouble: string[] = [];
  for (const { lease, step } of steps) {
    if (step !== "renew") {
      if (step === "replace") stale.push(lease);
      renewed.push(lease);
      continue;
    }
    try {
      const result = await deps.vault.renewLease(lease.id, lease.ttlSeconds);
      deps.metrics.renewals.inc({ kind: "lease", result: "ok" });
      const updated = { ...lease, expiresAt: deps.now() + result.ttlSeconds * 1000 };
      renewed.push(updated);
      if (result.ttlSeconds < lease.ttlSeconds) stale.push(updated);
    } catch (err) {
      if (!isPermanent(err)) throw err;
      deps.metrics.renewals.inc({ kind: "lease", result: "lost" });
      trouble.push(`${lease.file}: ${messageOf(err)}`);
      renewed.push(lease);
      stale.push(lease);
    }
  }
  return { renewed, stale, trouble };
}
