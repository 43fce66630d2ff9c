import type { V1Pod } from "@kubernetes/client-node";
import { messageOf } from "../shared/errors/errors.ts";
import type { PodRecord } from "../shared/index/pod-record.ts";
import { LABEL_POD_NAME } from "../shared/kube/labels.ts";
import {
  isPodsSecret,
  readSecretRecovery,
  type AnnotatedLease,
  type SecretRecovery,
} from "../shared/kube/pod-secret.ts";
import { readPodContract, wantsCredentials } from "../shared/pods/read-contract.ts";
import { isTerminal, podRef } from "../shared/pods/pod-state.ts";
import type { WorkerDeps } from "./deps.ts";
import { trustedAccessors, trustedLeases } from "./trusted-ids.ts";
import { scheduleRenew } from "./schedule.ts";
import { updateReconcileGauges } from "./reconcile-gauges.ts";

/**
 * What one pass did. An enqueue whose job id is already held (waiting, running, or waiting
 * out a failure backoff) collapses into that job: it is counted as `…AlreadyQueued`, not as work done.
 */
export interface ReconcileReport {
  readonly pods: number;
  /** Where the pods came from: the pod watcher's synced cache, or a LIST (no cache in this process, or not synced). */
  readonly podSource: "watch-cache" | "list";
  /** New issue jobs: opted-in pods without credentials. */
  readonly issueQueued: number;
  readonly issueAlreadyQueued: number;
  /** Opted-in pods an operator revoked while alive (tombstone): left alone until replaced. */
  readonly revokedByOperator: number;
  /** New revoke jobs: indexed or Secret-recorded pods that are gone or terminal. */
  readonly revokeQueued: number;
  readonly revokeAlreadyQueued: number;
  /** Index entries rebuilt from the per-pod Secrets (after a Redis loss). */
  readonly rebuilt: number;
  /** Overdue renewals scheduled again. */
  readonly rescheduled: number;
  /** Old credentials still recorded as retiring a minute past their time (their job was lost): scheduled again. */
  readonly retireRescheduled: number;
}

/**
 * The pods a watch cache holds: undefined while it is not synced (starting, or re-listing after a
 * 410 or a restart), so the reconciler lists them itself instead of trusting a partial view.
 */
export interface PodCache {
  cachedPods(): V1Pod[] | undefined;
}

/**
 * Makes missed events harmless: every opted-in pod without credentials gets an issue job,
 * every indexed or Secret-recorded pod that is gone or terminal gets a revoke job, and index
 * entries lost with Redis are rebuilt from the per-pod Secrets.
 *
 * With a pod watcher in the same process (`cache`), its synced cache stands in for a LIST of every
 * pod; the managed Secrets are listed as metadata only (their data never crosses the wire).
 */
export function createReconciler(deps: WorkerDeps, cache?: PodCache) {
  return async function reconcile(): Promise<ReconcileReport> {
    const namespaces = deps.settings.namespaces;
    const cached = cache?.cachedPods();
    const [pods, secrets, records] = await Promise.all([
      cached ?? deps.kube.listPods(namespaces),
      deps.kube.listManagedSecrets(namespaces),
      deps.index.all(),
    ]);
    const live = new Map<string, V1Pod>();
    for (const pod of pods) if (pod.metadata?.uid) live.set(pod.metadata.uid, pod);
    const indexed = new Map<string, PodRecord>(records.map((r) => [r.uid, r]));
    const count = {
      issueQueued: 0,
      issueAlreadyQueued: 0,
      revokedByOperator: 0,
      revokeQueued: 0,
      revokeAlreadyQueued: 0,
      rebuilt: 0,
      rescheduled: 0,
      retireRescheduled: 0,
    };
    const withSecret = new Set<string>();
    const revokeQueued = new Set<string>();
    const revoke = async (uid: string, namespace: string, name: string, reason: string) => {
      if (revokeQueued.has(uid)) return;
      revokeQueued.add(uid);
      const { created } = await deps.producer.revoke({ uid, namespace, name, source: "reconciler", reason });
      if (created) count.revokeQueued++;
      else count.revokeAlreadyQueued++;
    };

    for (const secret of secrets) {
      const recovery = readSecretRecovery(secret);
      if (recovery) withSecret.add(recovery.podUid);
      if (!recovery || indexed.has(recovery.podUid)) continue;
      const pod = live.get(recovery.podUid);
      const ref = pod ? podRef(pod) : undefined;
      if (pod && ref && !isPodsSecret(secret, ref)) {
        // A Secret naming a live pod's UID that is not that pod's (another namespace, no ownerReference): never trusted.
        deps.log.warn(
          { secret: `${recovery.namespace}/${recovery.name}`, pod: `${ref.namespace}/${ref.name}` },
          "a Secret names a pod it does not belong to; ignored",
        );
        continue;
      }
      const podName = pod?.metadata?.name ?? secret.metadata?.labels?.[LABEL_POD_NAME] ?? recovery.name;
      // A Secret whose pod is gone: still there because the garbage collector has not come to it yet,
      // or marked for deletion and held by FINALIZER_REVOKE until this revoke has run.
      if (!pod || isTerminal(pod)) {
        await revoke(recovery.podUid, recovery.namespace, podName, "reconciler: pod gone (from Secret)");
        continue;
      }
      // Revoked by on-call: nothing is rebuilt (or renewed) for that pod until it is replaced.
      if (await deps.index.revokedMark(recovery.podUid)) continue;
      const rebuiltRecord = recordFromSecret(deps, pod, {
        recovery,
        accessors: await trustedAccessors(deps, recovery),
        leases: trustedLeases(deps, recovery),
      });
      if (!rebuiltRecord) continue;
      await adoptRebuilt(deps, rebuiltRecord);
      indexed.set(rebuiltRecord.uid, rebuiltRecord);
      count.rebuilt++;
    }

    for (const pod of pods) {
      const ref = podRef(pod);
      if (!ref) continue;
      const record = indexed.get(ref.uid);
      if (isTerminal(pod)) {
        // A finished pod lingers (Job pods) after its revoke ran: once neither the index nor a Secret
        // records credentials of it, there is nothing left to revoke and no job is queued again.
        if (record || withSecret.has(ref.uid))
          await revoke(ref.uid, ref.namespace, ref.name, `reconciler: pod ${pod.status?.phase}`);
        continue;
      }
      if (!wantsCredentials(pod, deps.settings) || pod.metadata?.deletionTimestamp) continue;
      if (record && record.state !== "issuing") continue;
      // An on-call revoke of a live pod leaves a tombstone: an issue job would only find it and end.
      if (!record && (await deps.index.revokedMark(ref.uid))) {
        count.revokedByOperator++;
        continue;
      }
      const { created } = await deps.producer.issue({ ...ref, source: "reconciler" });
      if (created) count.issueQueued++;
      else count.issueAlreadyQueued++;
    }

    for (const record of indexed.values()) {
      const pod = live.get(record.uid);
      if (!pod) await revoke(record.uid, record.namespace, record.name, "reconciler: pod gone");
      else {
        if (await rescheduleOverdue(deps, record)) count.rescheduled++;
        if (!revokeQueued.has(record.uid)) count.retireRescheduled += await rescheduleOverdueRetires(deps, record);
      }
    }
    countActions(deps, count);
    deps.metrics.livePods.set(indexed.size - revokeQueued.size);
    await updateReconcileGauges(
      deps,
      [...indexed.values()].filter((r) => live.has(r.uid) && !revokeQueued.has(r.uid)),
    );
    return { pods: pods.length, podSource: cached ? "watch-cache" : "list", ...count };
  };
}

/** A record rebuilt from a Secret: indexed, renewed now, its old credentials retired after the grace. */
async function adoptRebuilt(deps: WorkerDeps, record: PodRecord): Promise<void> {
  await deps.index.put(record);
  await scheduleRenew(deps, record, { kind: "now" });
  for (const item of record.retiring)
    await deps.producer.retire(
      { uid: record.uid, kind: item.kind, id: item.id },
      deps.settings.rotationGraceSeconds * 1000,
    );
}

function countActions(deps: WorkerDeps, count: Omit<ReconcileReport, "pods" | "podSource">): void {
  deps.metrics.reconcileActions.inc({ action: "renew" }, count.rescheduled);
  deps.metrics.reconcileActions.inc({ action: "issue" }, count.issueQueued);
  deps.metrics.reconcileActions.inc({ action: "revoke" }, count.revokeQueued);
  deps.metrics.reconcileActions.inc({ action: "rebuild" }, count.rebuilt);
  deps.metrics.reconcileActions.inc({ action: "retire" }, count.retireRescheduled);
}

/** What a Secret proves about its pod's credentials: the Secret, and the ids Vault or our tag confirmed. */
interface Verified {
  readonly recovery: SecretRecovery;
  readonly accessors: readonly string[];
  readonly leases: readonly AnnotatedLease[];
}

function recordFromSecret(deps: WorkerDeps, pod: V1Pod, verified: Verified): PodRecord | undefined {
  const { recovery, accessors: trusted, leases: leasesFromSecret } = verified;
  const ref = podRef(pod);
  // An accessor Vault does not confirm as this namespace's is not rebuilt: the pod is issued anew.
  if (!ref || !recovery.accessor || !trusted.includes(recovery.accessor)) return undefined;
  const contract = readPodContract(pod, deps.settings);
  if (contract.kind !== "request") return undefined;
  const now = deps.now();
  // Tagged lease ids are kept: the re-login that follows retires them with sys/leases/revoke
  // (synchronous). Files without one get a placeholder; their leases go with the old token.
  const current = leasesFromSecret.filter((l) => l.current);
  const stale = leasesFromSecret.filter((l) => !l.current);
  const leases = contract.request.secrets.flatMap((s) => {
    const known = current.filter((l) => l.file === s.file);
    if (known.length === 0)
      return [{ id: "", path: s.path, file: s.file, expiresAt: now, renewable: true, ttlSeconds: 0 }];
    return known.map((l) => ({
      id: l.id,
      path: l.path || s.path,
      file: s.file,
      expiresAt: now,
      renewable: true,
      ttlSeconds: 0,
    }));
  });
  return {
    ...ref,
    serviceAccount: pod.spec?.serviceAccountName || "default",
    role: contract.request.role,
    authPath: contract.request.authPath,
    secretName: recovery.name,
    state: "recovered",
    accessor: recovery.accessor,
    tokenExpiresAt: now,
    tokenTtlSeconds: 0,
    tokenRenewable: false,
    leases,
    retiring: [
      ...stale.map((l) => ({ kind: "lease" as const, id: l.id, revokeAt: now })),
      ...trusted.filter((a) => a !== recovery.accessor).map((id) => ({ kind: "accessor" as const, id, revokeAt: now })),
    ],
    issuedAt: now,
    rotations: 0,
  };
}

/** How often the reconciler looks for a Redis that lost leasekeeper's data. */
const REDIS_LOSS_CHECK_MS = 2000;

/**
 * Runs `reconcile` now and then every `intervalMs`, never overlapping; returns a stop function.
 * Every REDIS_LOSS_CHECK_MS it also checks the index's marker key: when Redis lost its data, the
 * delayed renew and retire jobs went with it, so a pass (which rebuilds the index from the
 * Secrets and schedules their renewals) runs at once instead of at the next interval.
 */
export function scheduleReconciler(
  deps: WorkerDeps,
  reconcile: () => Promise<ReconcileReport>,
  intervalMs: number,
): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const tick = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    running = reconcile()
      .then((report) => {
        deps.metrics.reconcileRuns.inc({ result: "ok" });
        deps.log.info({ ...report }, "reconciled");
      })
      .catch((err: unknown) => {
        deps.metrics.reconcileRuns.inc({ result: "error" });
        deps.log.warn({ error: messageOf(err) }, "reconcile pass failed; will try again");
      })
      .finally(() => {
        running = undefined;
        if (stopped) return;
        if (again) {
          again = false;
          tick();
        } else timer = setTimeout(tick, intervalMs);
      });
  };
  const passNow = () => {
    if (running) again = true;
    else tick();
  };
  let marked = false;
  const watchdog = setInterval(() => {
    deps.index
      .markEpoch()
      .then((missing) => {
        if (missing && marked && !stopped) {
          deps.log.warn({}, "Redis lost leasekeeper's data (flushed, or restarted empty); reconciling now");
          passNow();
        }
        marked = true;
      })
      .catch(() => undefined); // Redis down: the connection's own listener reports it.
  }, REDIS_LOSS_CHECK_MS);
  watchdog.unref();
  void deps.index
    .markEpoch()
    .then(() => (marked = true))
    .catch(() => undefined);
  tick();
  return async () => {
    stopped = true;
    clearInterval(watchdog);
    if (timer) clearTimeout(timer);
    await running;
  };
}

/** How long past its time a renewal or retirement must be before the reconciler looks for its job. */
const OVERDUE_MS = 20_000;

async function renewJobPending(deps: WorkerDeps, id: string | undefined): Promise<boolean> {
  return deps.producer.renewPending(id);
}

/**
 * A renewal past its time whose job is gone (lost with Redis, or never written because its
 * scheduler died between the two writes) is scheduled again now, under the pod lock so a running
 * renewal is not doubled. A job that still exists (running, stalled on a dead worker, or waiting
 * out a failure backoff) is left to run.
 */
async function rescheduleOverdue(deps: WorkerDeps, seen: PodRecord): Promise<boolean> {
  if (seen.state === "issuing" || (seen.nextRenewAt !== undefined && seen.nextRenewAt > deps.now() - OVERDUE_MS))
    return false;
  if (await renewJobPending(deps, seen.renewJobId)) return false;
  const outcome = await deps.lock.run(seen.uid, async () => {
    const record = await deps.index.get(seen.uid);
    if (
      !record ||
      record.state === "issuing" ||
      (record.nextRenewAt !== undefined && record.nextRenewAt > deps.now() - OVERDUE_MS) ||
      (await renewJobPending(deps, record.renewJobId))
    )
      return false;
    // Still ordered by expiry: after a long Vault outage these run nearest expiry first.
    await scheduleRenew(deps, record, { kind: "now", keepExpiryOrder: true });
    deps.log.warn({ pod: `${record.namespace}/${record.name}`, uid: record.uid }, "renewal overdue; scheduled again");
    return true;
  });
  return outcome.locked && outcome.value;
}

/**
 * A retire job removes its item from the record when it runs (workers/revoke.ts), so an item still
 * recorded OVERDUE_MS past its time had its job lost (a Redis flush of the queue, a failed job
 * trimmed): it is scheduled again. A job that still holds the id (waiting for Vault) absorbs the add.
 */
async function rescheduleOverdueRetires(deps: WorkerDeps, record: PodRecord): Promise<number> {
  let scheduled = 0;
  for (const item of record.retiring) {
    if (item.revokeAt > deps.now() - OVERDUE_MS) continue;
    await deps.producer.retire({ uid: record.uid, kind: item.kind, id: item.id }, 0);
    scheduled++;
  }
  return scheduled;
}
