import { isRetryLater, isVaultUnavailable } from "../../shared/errors/errors.ts";
import type { UnsealDeps } from "./deps.ts";

/**
 * Runs `fn`, retrying retry-later failures (throttling, 5xx) and an unreachable replica with capped
 * exponential backoff and jitter, `settings.retries` tries in all. Permanent errors and the
 * last failure propagate.
 */
export async function withRetry<T>(deps: UnsealDeps, fn: () => Promise<T>): Promise<T> {
  const { retries, retryBaseMs, retryMaxMs } = deps.settings;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(isRetryLater(err) || isVaultUnavailable(err)) || attempt >= retries) throw err;
      const backoff = Math.min(retryMaxMs, retryBaseMs * 2 ** (attempt - 1));
      const wait = Math.max(
        (isRetryLater(err) ? err.retryAfterMs : undefined) ?? 0,
        backoff * (0.5 + deps.random() / 2),
      );
      await deps.sleep(wait);
    }
  }
}

/** A short, secret-free description of a failure for outcomes and events. */
export function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return "unknown error";
  const reason = (err as { reason?: unknown }).reason;
  const head = typeof reason === "string" ? reason : err.name;
  return `${head}: ${err.message.split("\n")[0] ?? ""}`.slice(0, 300);
}
