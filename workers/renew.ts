import type { V1Pod } from "@kubernetes/client-node";
import { isPermanent, isVaultUnavailable, messageOf } from "../shared/errors/errors.ts";
import { earliestExpiry, type LeaseRecord, type PodRecord } from "../shared/index/pod-record.ts";
import { QUEUE, RenewJobSchema, type RenewJob, type RenewOutcome } from "../shared/jobs/job-types.ts";
import { isTerminal, type PodRef } from "../shared/pods/pod-state.ts";
import type { WorkerDeps } from "./deps.ts";
import { podEvent } from "./events.ts";
import { currentPod } from "./pod-lookup.ts";
import { runJob, type Indexed } from "./job-runner.ts";
import { reloginAndRotate, rotateLeases } from "./rotate.ts";
import { refreshDue } from "./refresh.ts";
import { renewRetryDelayMs, scheduleRenew } from "./schedule.ts";
import { planRenewal, type LeaseStep, type ReloginCause, type RenewPlan, type RotationCause } from "./renew-plan.ts";
import { tokenRenewalPlan } from "./token-renewal.ts";

/**
 * renew: one job per pod renews its token and every lease, rotates what Vault will not
 * extend far enough, and schedules itself again at ~2/3 of the shortest remaining TTL.
 */
export function createRenewProcessor(deps: WorkerDeps) {
  return runJob(
    deps,
    { queue: QUEUE.renew, schema: RenewJobSchema, lockKey: (data) => data.uid, readsIndex: true },
    (data, job, indexed) => renewOrRetry(deps, data, job.id, indexed),
  );
}

/**
 * A renewal that fails transiently (Vault 5xx, the API server down while a rotation needs it)
 * does not go to BullMQ's generic backoff, which knows nothing of expiry and runs out of
 * attempts: the pod's next renew job is scheduled from the time left to its earliest expiry
 * (renewRetryDelayMs), for as long as the pod lives. Past the expiry the next try logs in
 * again or replaces the lost lease (renewToken/renewLeases below). Permanent failures and an
 * unavailable Vault (runJob waits on those), and forced renewals, go to runJob as before.
 */
async function renewOrRetry(
  deps: WorkerDeps,
  data: RenewJob,
  jobId: string | undefined,
  indexed: Indexed | undefined,
): Promise<RenewOutcome> {
  try {
    return await renew(deps, data, jobId, indexed);
  } catch (err) {
    if (isPermanent(err) || isVaultUnavailable(err) || data.force) throw err;
    // A failed rotation put the record back itself (or listed what it could not revoke): read it again.
    const record = await deps.index.get(data.uid).catch(() => undefined);
    if (!record || record.renewJobId !== jobId) throw err;
    return scheduleRetry(deps, { record, attempt: (data.retry ?? 0) + 1, error: err }).catch(() => {
      throw err;
    });
  }
}

/** Schedules the pod's next renew job as the `attempt`-th retry, before its earliest expiry. */
async function scheduleRetry(
  deps: WorkerDeps,
  failed: { readonly record: PodRecord; readonly attempt: number; readonly error: unknown },
): Promise<RenewOutcome> {
  const { record, attempt, error } = failed;
  const now = deps.now();
  const delayMs = renewRetryDelayMs(record, now, attempt - 1, deps.random);
  const expiresInMs = Math.round(earliestExpiry(record) - now);
  await scheduleRenew(deps, record, { kind: "retry", delayMs, attempt });
  deps.metrics.jobFailures.inc({ queue: QUEUE.renew, error: error instanceof Error ? error.name : "unknown" });
  deps.log.warn(
    {
      pod: `${record.namespace}/${record.name}`,
      uid: record.uid,
      attempt,
      retryInMs: Math.round(delayMs),
      expiresInMs,
      error: messageOf(error),
    },
    expiresInMs > 0 ? "renewal failed; retrying before the credentials expire" : "renewal failed; retrying",
  );
  return { outcome: "retry-scheduled", attempt, nextRenewInMs: Math.round(delayMs), expiresInMs };
}

/** A renewal with the pod's place as the index records it (a scheduled job carries only the UID). */
type PodRenewal = RenewJob & PodRef;

/**
 * The pod as the watch cache (or else the API server) shows it, or `unknown` when the API server
 * cannot be asked (an outage).
 */
type PodSeen = { kind: "live"; pod: V1Pod } | { kind: "gone" } | { kind: "unknown"; error: unknown };

async function lookAtPod(deps: WorkerDeps, ref: PodRenewal): Promise<PodSeen> {
  let pod: V1Pod | undefined;
  try {
    pod = await currentPod(deps, ref);
  } catch (err) {
    if (isPermanent(err)) throw err;
    return { kind: "unknown", error: err };
  }
  if (!pod || pod.metadata?.uid !== ref.uid || isTerminal(pod)) return { kind: "gone" };
  return { kind: "live", pod };
}

async function renew(
  deps: WorkerDeps,
  job: RenewJob,
  jobId: string | undefined,
  indexed: Indexed | undefined,
): Promise<RenewOutcome> {
  const { record, mark } = await (indexed ?? deps.index.getWithMark(job.uid));
  if (!record || (record.renewJobId !== jobId && !job.force)) return { outcome: "stale" };
  // The pod is the one the record was issued for, wherever the payload says it is.
  const ref: PodRenewal = { ...job, namespace: record.namespace, name: record.name };
  if (mark) {
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
  const seen = await lookAtPod(deps, ref);
  if (seen.kind === "gone") {
    await deps.producer.revoke({
      uid: ref.uid,
      namespace: ref.namespace,
      name: ref.name,
      source: "renew",
      reason: "pod gone at renewal",
    });
    return { outcome: "pod-gone" };
  }
  const plan = planRenewal(record, ref.force, deps.now());
  if (seen.kind === "unknown") return renewWithoutPod(deps, { ref, record, plan }, seen.error);
  return renewWithPod(deps, { ref, record, plan, pod: seen.pod }, jobId);
}

/**
 * The API server cannot be asked about the pod (an outage): what the index holds is renewed
 * anyway, since extending a token or lease needs only Vault, so a Kubernetes outage does not
 * let credentials expire. What needs the pod (a re-login, new credentials, files rendered
 * again, revoking a pod that is gone) waits for a retry scheduled before the earliest expiry.
 */
async function renewWithoutPod(
  deps: WorkerDeps,
  run: { readonly ref: PodRenewal; readonly record: PodRecord; readonly plan: RenewPlan },
  kubeError: unknown,
): Promise<RenewOutcome> {
  const { ref, record, plan } = run;
  // Nothing to extend (a re-login is due, or only files to render): retry once the API server answers.
  if (plan.kind !== "renew") throw kubeError;
  const cause = plan.renewToken ? await renewToken(deps, record) : undefined;
  const { renewed, stale } = await renewLeases(deps, plan.leases);
  const next: PodRecord = { ...record, leases: renewed, renewedAt: deps.now(), state: "issued" };
  deps.log.warn(
    { pod: `${ref.namespace}/${ref.name}`, uid: ref.uid, error: messageOf(kubeError) },
    "the API server did not answer; token and leases renewed from the index",
  );
  if (cause !== undefined || stale.length > 0 || refreshDue(next, deps.now()).length > 0)
    return scheduleRetry(deps, { record: next, attempt: (ref.retry ?? 0) + 1, error: kubeError });
  const delay = await scheduleRenew(deps, next);
  return { outcome: "renewed", leases: next.leases.length, rotated: 0, nextRenewInMs: Math.round(delay) };
}

async function renewWithPod(
  deps: WorkerDeps,
  run: { readonly ref: PodRenewal; readonly record: PodRecord; readonly plan: RenewPlan; readonly pod: V1Pod },
  jobId: string | undefined,
): Promise<RenewOutcome> {
  const { ref, record, plan, pod } = run;
  const podLabel = `${ref.namespace}/${ref.name}`;
  let next: PodRecord;
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
    next = await refreshFiles(deps, { pod, ref }, next, { podToken: token, stale });
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

/** Renders again the files whose refresh is due (KV re-read, certificate), besides those just rotated. */
async function refreshFiles(
  deps: WorkerDeps,
  live: { readonly pod: V1Pod; readonly ref: PodRenewal },
  record: PodRecord,
  done: { readonly podToken: string; readonly stale: readonly LeaseRecord[] },
): Promise<PodRecord> {
  const { ref } = live;
  const due = refreshDue(record, deps.now()).filter((l) => !done.stale.some((s) => s.file === l.file));
  if (due.length === 0) return record;
  const next = await rotateLeases(deps, live, record, { podToken: done.podToken, stale: due });
  if (next.rotations > record.rotations) {
    const files = [...new Set(due.map((l) => l.file))].join(", ");
    deps.metrics.rotations.inc({ cause: "refresh" satisfies RotationCause });
    deps.log.info(
      { pod: `${ref.namespace}/${ref.name}`, uid: ref.uid, files },
      "files rendered again with changed content",
    );
    await podEvent(
      deps,
      ref,
      "CredentialsRotated",
      `Rendered ${files} again in Secret ${next.secretName} (static secret changed or certificate re-issued)`,
    );
  }
  return next;
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
