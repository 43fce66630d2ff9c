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

/**
 * Why Vault cannot be used right now. In production a sealed Vault is usually *unreachable*: the
 * vault-active Service has no endpoints, so connections are refused or hang.
 */
export type VaultUnavailableReason = "sealed" | "unreachable" | "timeout";

/** Vault is sealed, refuses connections or does not answer: jobs wait instead of burning attempts. */
export class VaultUnavailableError extends Error {
  override readonly name = "VaultUnavailableError";
  constructor(
    message: string,
    readonly reason: VaultUnavailableReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError || (err instanceof Error && err.name === "PermanentError");
}

export function isVaultUnavailable(err: unknown): err is VaultUnavailableError {
  return err instanceof VaultUnavailableError || (err instanceof Error && err.name === "VaultUnavailableError");
}

export function isRetryLater(err: unknown): err is RetryLaterError {
  return err instanceof RetryLaterError || (err instanceof Error && err.name === "RetryLaterError");
}

/** Message of an unknown thrown value, never its payload. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** True for a request that got no answer in time (axios: ECONNABORTED "timeout of N ms exceeded"). */
export function isTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === "ECONNABORTED" || code === "ETIMEDOUT" || (err instanceof Error && /\btimeout\b/i.test(err.message));
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
]);

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
