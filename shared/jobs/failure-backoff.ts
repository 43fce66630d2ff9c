import type { Job } from "bullmq";

/**
 * How a pod job waits after a failure that retrying soon will not fix (Vault 403, an unknown
 * role, bad annotations) or after its quick retries are spent: like controller-runtime's
 * per-item rate limiter, the wait starts small, doubles with each failure, and is capped, so a
 * pod is never given up on and a fix (a role created, a policy widened) is picked up within the cap.
 */
export const FAILURE_BACKOFF = { baseMs: 5_000, maxMs: 5 * 60_000 } as const;

/** Wait before the next run after `failures` failures in a row (1, 2, …); `random` in [0, 1) spreads it by ±20 %. */
export function failureBackoffMs(failures: number, random: number): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const base = Math.min(FAILURE_BACKOFF.maxMs, FAILURE_BACKOFF.baseMs * 2 ** exponent);
  return Math.min(FAILURE_BACKOFF.maxMs, Math.round(base * (0.8 + 0.4 * random)));
}

/**
 * What a job in backoff shows as its progress (GET /v1/jobs/<id>, the queue UI): how often it
 * failed in a row, why (a class of error and its message, never a value) and when it runs again.
 */
export interface RetryState {
  readonly failures: number;
  /** PermanentError reason (VaultPermissionDenied, VaultInvalidRole, InvalidAnnotations, …) or error class. */
  readonly reason: string;
  readonly error: string;
  /** True when retrying soon could not fix it: someone has to change the pod, the role or the policy. */
  readonly needsFix: boolean;
  /** Epoch ms of the next run. */
  readonly retryAt: number;
}

/** The retry state a job's progress holds, if it is in (or came out of) backoff. */
export function retryStateOf(job: Pick<Job, "progress">): RetryState | undefined {
  const progress = job.progress as { retry?: unknown } | undefined;
  const retry = typeof progress === "object" && progress !== null ? progress.retry : undefined;
  if (typeof retry !== "object" || retry === null) return undefined;
  const failures = (retry as { failures?: unknown }).failures;
  return typeof failures === "number" && Number.isInteger(failures) && failures > 0 ? (retry as RetryState) : undefined;
}
