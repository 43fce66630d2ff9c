import { isPermanent, messageOf } from "../shared/errors/errors.ts";
import { earliestExpiry, type LeaseRecord, type PodRecord } from "../shared/index/pod-record.ts";
import { QUEUE, RenewJobSchema, type RenewJob, type RenewOutcome } from "../shared/jobs/job-types.ts";
import { isTerminal } from "../shared/pods/pod-state.ts";
import type { WorkerDeps } from "./deps.ts";
import { podEvent } from "./events.ts";
import { runJob } from "./job-runner.ts";
import { reloginAndRotate, rotateLeases } from "./rotate.ts";
import { nextWakeMs, refreshDue } from "./refresh.ts";
import { renewDelayMs } from "./schedule.ts";

/**
 * renew: one job per pod renews its token and every lease, rotates what Vault will not
 * extend far enough, and schedules itself again at ~2/3 of the shortest remaining TTL.
 */
export function createRenewProcessor(deps: WorkerDeps) {
  return runJob(deps, QUEUE.renew, RenewJobSchema, (data, job) => renew(deps, data, job.id), (data) => data.uid);
}

async function renew(deps: WorkerDeps, job: RenewJob, jobId: string | undefined): Promise<RenewOutcome> {
  const record = await deps.index.get(job.uid);
  if (!record || (record.renewJobId !== jobId && !job.force)) return { outcome: "stale" };
  // The pod is the one the record was issued for, wherever the payload says it is.
  const ref: RenewJob = { ...job, namespace: record.namespace, name: record.name };
  if (await deps.index.revokedMark(ref.uid)) {
    // Revoked by on-call while alive: nothing is renewed or re-issued; whatever the record holds goes.
    await deps.producer.revoke({ uid: ref.uid, namespace: ref.namespace, name: ref.name, source: "renew", reason: "revoked by an operator (tombstone)", force: true });
    deps.log.warn({ pod: `${ref.namespace}/${ref.name}`, uid: ref.uid }, "renewal refused: the pod's credentials were revoked by an operator");
    return { outcome: "revoked-by-operator" };
  }
  const pod = await deps.kube.readPod(ref.namespace, ref.name);
  if (!pod || pod.metadata?.uid !== ref.uid || isTerminal(pod)) {
    await deps.producer.revoke({ uid: ref.uid, namespace: ref.namespace, name: ref.name, source: "renew", reason: "pod gone at renewal" });
    return { outcome: "pod-gone" };
  }
  const podLabel = `${ref.namespace}/${ref.name}`;

  let next: PodRecord;
  let cause: string | undefined;
  // Woken early only to render files again (KV re-read, certificate): token and leases are not due yet.
  const refreshOnly = !ref.force && record.leaseRenewAt !== undefined && deps.now() < record.leaseRenewAt - 1000;
  if (record.state === "recovered" || !record.encryptedToken) {
    cause = "index-rebuilt";
  } else if (ref.force) {
    cause = "requested";
  } else {
    cause = refreshOnly ? undefined : await renewToken(deps, record);
  }
  let rotated = 0;
  if (cause !== undefined) {
    next = await reloginAndRotate(deps, pod, ref, record);
    rotated = next.leases.length;
    deps.metrics.rotations.inc({ cause });
    deps.log.info({ pod: podLabel, uid: ref.uid, cause }, "pod token replaced; all credentials rotated");
    await podEvent(deps, ref, "CredentialsRotated", `Logged in again (${cause}) and rotated ${next.leases.length} credential file(s) in Secret ${next.secretName}`);
  } else {
    const token = deps.sealBox.open(record.encryptedToken ?? "", ref.uid);
    const { renewed, stale, trouble } = refreshOnly ? { renewed: record.leases, stale: [], trouble: [] } : await renewLeases(deps, record);
    next = { ...record, leases: renewed };
    if (stale.length > 0) {
      next = await rotateLeases(deps, pod, ref, next, token, stale);
      rotated = stale.length;
      deps.metrics.rotations.inc({ cause: trouble.length > 0 ? "lease-lost" : "max-ttl" }, stale.length);
      const files = stale.map((l) => l.file).join(", ");
      deps.log.info({ pod: podLabel, uid: ref.uid, files }, "credentials rotated");
      await podEvent(deps, ref, "CredentialsRotated", `Rotated ${files} in Secret ${next.secretName}; the old lease(s) are revoked after ${deps.settings.rotationGraceSeconds}s`);
    }
    if (trouble.length > 0) await podEvent(deps, ref, "CredentialsRenewed", `Renewal trouble, replaced: ${trouble.join("; ")}`);
    const due = refreshDue(next, deps.now()).filter((l) => !stale.some((s) => s.file === l.file));
    if (due.length > 0) {
      const before = next.rotations;
      next = await rotateLeases(deps, pod, ref, next, token, due);
      if (next.rotations > before) {
        const files = [...new Set(due.map((l) => l.file))].join(", ");
        deps.metrics.rotations.inc({ cause: "refresh" });
        deps.log.info({ pod: podLabel, uid: ref.uid, files }, "files rendered again with changed content");
        await podEvent(deps, ref, "CredentialsRotated", `Rendered ${files} again in Secret ${next.secretName} (static secret changed or certificate re-issued)`);
      }
    }
  }

  next.renewedAt = deps.now();
  next.state = "issued";
  const leaseDelay = refreshOnly && cause === undefined
    ? Math.max(0, (record.leaseRenewAt ?? 0) - deps.now())
    : renewDelayMs(next, deps.now(), deps.settings.renewJitterPercent, deps.random);
  next.leaseRenewAt = deps.now() + leaseDelay;
  const delay = nextWakeMs(next, deps.now(), leaseDelay);
  const seq = Number(/-(\d+)$/.exec(jobId ?? "")?.[1] ?? 0) + 1;
  next.renewJobId = await deps.producer.renew({ uid: ref.uid, namespace: ref.namespace, name: ref.name, force: false }, seq, delay, earliestExpiry(next));
  next.nextRenewAt = deps.now() + delay;
  await deps.index.put(next);
  if (ref.force && record.renewJobId && record.renewJobId !== jobId) await deps.producer.cancelRenew(record.renewJobId);
  return cause !== undefined
    ? { outcome: "relogged-in", leases: next.leases.length, nextRenewInMs: Math.round(delay) }
    : { outcome: "renewed", leases: next.leases.length, rotated, nextRenewInMs: Math.round(delay) };
}

/** Renews the pod token; returns a rotation cause when it cannot be extended as asked. */
async function renewToken(deps: WorkerDeps, record: PodRecord): Promise<string | undefined> {
  if (!record.tokenRenewable) {
    // A token that cannot be renewed (e.g. a batch token) is replaced once two thirds of its life are gone.
    return record.tokenExpiresAt - deps.now() <= (record.tokenTtlSeconds * 1000) / 3 ? "token-not-renewable" : undefined;
  }
  const token = deps.sealBox.open(record.encryptedToken ?? "", record.uid);
  try {
    const auth = await deps.vault.renewSelf(token, record.tokenTtlSeconds);
    deps.metrics.renewals.inc({ kind: "token", result: "ok" });
    record.tokenExpiresAt = deps.now() + auth.ttlSeconds * 1000;
    if (auth.ttlSeconds < record.tokenTtlSeconds) return "token-max-ttl";
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

async function renewLeases(deps: WorkerDeps, record: PodRecord): Promise<LeaseRenewals> {
  const renewed: LeaseRecord[] = [];
  const stale: LeaseRecord[] = [];
  const trouble: string[] = [];
  for (const lease of record.leases) {
    if (!lease.id) {
      renewed.push(lease);
      continue;
    }
    if (!lease.renewable) {
      // Non-renewable (e.g. some certificates): replace it once two thirds of its life are gone.
      const life = lease.ttlSeconds * 1000;
      if (lease.expiresAt - deps.now() <= life / 3) stale.push(lease);
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
