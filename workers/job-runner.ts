import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import type { ZodType } from "zod";
import { isPermanent, isVaultUnavailable, messageOf } from "../shared/errors/errors.ts";
import type { QueueName } from "../shared/jobs/job-types.ts";
import type { WorkerDeps } from "./deps.ts";
import { failureBackoffMs, retryStateOf, type RetryState } from "../shared/jobs/failure-backoff.ts";

const LOCK_RETRY_MS = 200;

/** A pod's index record and tombstone, read with its lock (JobSpec.readsIndex). */
export type Indexed = ReturnType<WorkerDeps["index"]["getWithMark"]>;

/** Thrown inside a processor to say "another worker holds this pod; try again shortly". */
export class PodBusyError extends Error {
  override readonly name = "PodBusyError";
}

type Processor = (job: Job, token?: string) => Promise<{ outcome: string }>;

/**
 * One processor for a queue that carries several kinds of job: the job's name picks the handler.
 * `handlers` is typed by the queue's job-name union, so a name without a handler does not compile;
 * a job with a name outside it fails for good.
 */
export function byJobName<N extends string>(
  deps: WorkerDeps,
  queue: QueueName,
  handlers: Readonly<Record<N, Processor>>,
): Processor {
  return async (job, token) => {
    const handler = Object.hasOwn(handlers, job.name) ? handlers[job.name as N] : undefined;
    if (handler === undefined) {
      deps.metrics.jobs.inc({ queue, outcome: "invalid-payload" });
      throw new UnrecoverableError(`unknown ${queue} job name: ${job.name}`);
    }
    return handler(job, token);
  };
}

/** What a kind of job is: its queue, its payload schema, and the lock it runs under (none: undefined). */
export interface JobSpec<D> {
  readonly queue: QueueName;
  readonly schema: ZodType<D>;
  readonly lockKey: (data: D) => string | undefined;
  /**
   * The lock key is a pod UID whose index record and tombstone the body reads first: they are read
   * in the same round trip as the lock is taken (PodIndex.getWithMark right behind the lock's SET
   * on the same connection, which Redis runs in order, so the read sees the state under the lock)
   * and handed to the body as `indexed`.
   */
  readonly readsIndex?: boolean;
  /**
   * What a failure retrying soon cannot fix does. "backoff" (the default, every pod job): the job
   * waits on a slow, capped backoff (failure-backoff.ts) and runs again, and so does a job whose
   * quick retries are spent — no pod is given up on. "fail": it fails for good (an on-call
   * operation, which reports its failures itself).
   */
  readonly onPermanent?: "backoff" | "fail";
}

/**
 * Wraps a processor body with what every queue shares: payload validation, the per-pod
 * lock, waiting (without burning attempts) while Vault is sealed or unreachable (refused, reset,
 * no answer within LEASEKEEPER_VAULT_TIMEOUT_MS) or the pod is busy, quick retries of transient
 * errors, and the slow backoff of what they cannot fix. Only a payload that can never succeed
 * (it does not parse) fails for good.
 */
export function runJob<D, R extends { outcome: string }>(
  deps: WorkerDeps,
  spec: JobSpec<D>,
  body: (data: D, job: Job, indexed: Indexed | undefined) => Promise<R>,
) {
  const { queue, schema, lockKey } = spec;
  return async (job: Job, token?: string): Promise<R> => {
    const parsed = schema.safeParse(job.data);
    if (!parsed.success) {
      deps.metrics.jobs.inc({ queue, outcome: "invalid-payload" });
      throw new UnrecoverableError(
        `invalid ${queue} job payload: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    }
    const data = parsed.data;
    try {
      const key = lockKey(data);
      let result: R;
      if (key === undefined) {
        result = await body(data, job, undefined);
      } else {
        let indexed: Indexed | undefined;
        const running = deps.lock.run(key, () => body(data, job, indexed));
        // Issued after the lock's SET, before its answer: one round trip for both (see readsIndex).
        if (spec.readsIndex) {
          indexed = deps.index.getWithMark(key);
          indexed.catch(() => undefined); // not locked: nobody awaits it
        }
        const locked = await running;
        if (!locked.locked) throw new PodBusyError(`pod ${key} is busy`);
        result = locked.value;
      }
      deps.metrics.jobs.inc({ queue, outcome: result.outcome });
      return result;
    } catch (err) {
      const unavailable = isVaultUnavailable(err);
      if (unavailable || (err instanceof Error && err.name === "PodBusyError")) {
        const waitMs = unavailable
          ? deps.settings.sealedRetryMs
          : LOCK_RETRY_MS + Math.floor(deps.random() * LOCK_RETRY_MS);
        if (unavailable) {
          deps.metrics.vaultSealedWaits.inc({ queue, reason: err.reason });
          deps.log.warn({ queue, job: job.id, reason: err.reason }, "vault is sealed or unreachable; job waits");
        }
        await job.moveToDelayed(Date.now() + waitMs, token);
        throw new DelayedError();
      }
      const errorClass = err instanceof Error ? err.name : "unknown";
      deps.metrics.jobFailures.inc({ queue, error: errorClass });
      const permanent = isPermanent(err);
      if (permanent && spec.onPermanent === "fail") {
        deps.metrics.jobs.inc({ queue, outcome: "failed" });
        deps.log.error(
          { queue, job: job.id, reason: err.reason, err: { message: err.message } },
          "job failed permanently",
        );
        throw new UnrecoverableError(err.message);
      }
      const quickRetriesLeft = job.attemptsMade + 1 < (job.opts?.attempts ?? 1);
      if (!permanent && (quickRetriesLeft || spec.onPermanent === "fail")) {
        deps.log.warn(
          { queue, job: job.id, attempt: job.attemptsMade + 1, error: messageOf(err) },
          "job attempt failed; will retry",
        );
        throw err;
      }
      await backOff(deps, { job, token, queue }, err);
      throw new DelayedError();
    }
  };
}

/**
 * Puts a failed job back on the delayed set for its next slow-backoff run, after recording why
 * (progress: RetryState), counting it (leasekeeper_jobs_total{outcome="failed"}) and logging the
 * reason a user can act on. The failure count lives in the job, so the wait grows until it is capped.
 */
async function backOff(
  deps: WorkerDeps,
  run: { readonly job: Job; readonly token: string | undefined; readonly queue: QueueName },
  err: unknown,
): Promise<void> {
  const { job, token, queue } = run;
  const permanent = isPermanent(err) ? err : undefined;
  // A newer request changed the payload while this run failed (the pod changed): run again at once.
  const superseded = await payloadChanged(deps, queue, job);
  const failures = superseded ? 1 : (retryStateOf(job)?.failures ?? 0) + 1;
  const waitMs = superseded ? 0 : failureBackoffMs(failures, deps.random());
  const state: RetryState = {
    failures,
    reason: permanent?.reason ?? (err instanceof Error ? err.name : "unknown"),
    error: messageOf(err).slice(0, 500),
    needsFix: permanent !== undefined,
    retryAt: Date.now() + waitMs,
  };
  deps.metrics.jobs.inc({ queue, outcome: "failed" });
  const { namespace, name } = job.data as { namespace?: unknown; name?: unknown };
  const pod = typeof namespace === "string" && typeof name === "string" ? `${namespace}/${name}` : undefined;
  const context = { queue, job: job.id, pod, reason: state.reason, error: state.error, failures, retryInMs: waitMs };
  if (permanent) deps.log.error(context, "job failed; it runs again after a backoff");
  else deps.log.warn(context, "job failed after its quick retries; it runs again after a backoff");
  await job.updateProgress({ retry: state });
  await job.moveToDelayed(state.retryAt, token);
}

/** Whether the job's payload in Redis differs from the one this run started with. */
async function payloadChanged(deps: WorkerDeps, queue: QueueName, job: Job): Promise<boolean> {
  if (!job.id) return false;
  const stored = await deps.producer.queues[queue].getJob(job.id);
  return stored !== undefined && JSON.stringify(stored.data) !== JSON.stringify(job.data);
}
