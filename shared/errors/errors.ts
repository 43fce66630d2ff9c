/**
 * The few error classes that carry retry meaning. Classifiers (one per outside system)
 * are the only places that turn status codes into these. Check `err.name` as well as
 * instanceof: errors cross module copies and BullMQ serialisation.
 */
export class PermanentError extends Error {
  override readonly name = "PermanentError";
  constructor(
    message: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class RetryLaterError extends Error {
  override readonly name = "RetryLaterError";
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Vault answered 503 sealed (or is mid-restart): jobs wait instead of burning attempts. */
export class VaultSealedError extends Error {
  override readonly name = "VaultSealedError";
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError || (err instanceof Error && err.name === "PermanentError");
}

export function isSealed(err: unknown): err is VaultSealedError {
  return err instanceof VaultSealedError || (err instanceof Error && err.name === "VaultSealedError");
}

export function isRetryLater(err: unknown): err is RetryLaterError {
  return err instanceof RetryLaterError || (err instanceof Error && err.name === "RetryLaterError");
}

/** Message of an unknown thrown value, never its payload. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED", "EHOSTUNREACH", "UND_ERR_SOCKET"]);

/** True for connection-level failures that a retry may fix. */
export function isNetworkError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
    const type = (current as { type?: unknown }).type;
    if (type === "system" || type === "request-timeout") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
