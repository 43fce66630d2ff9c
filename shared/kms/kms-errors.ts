import { PermanentError, RetryLaterError, isNetworkError } from "../errors/errors.ts";

interface SdkError {
  name?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

/** Error names the SDK and KMS use for "slow down" or a server-side fault: worth retrying. */
const TRANSIENT = new Set([
  "ThrottlingException",
  "Throttling",
  "LimitExceededException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "KMSInternalException",
  "KeyUnavailableException",
  "DependencyTimeoutException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

/**
 * The one place where AWS KMS failures become typed errors. Retry-later: throttling, 5xx,
 * connection failures. Permanent (configuration or tampering; retrying cannot help):
 * AccessDenied, InvalidCiphertext (wrong context or not our blob), IncorrectKey, NotFound,
 * Disabled, KMSInvalidState, Validation. `reason` is the KMS error name. The SDK error is not
 * kept as `cause`: only its name, status and request id travel on.
 */
export function classifyKmsError(err: unknown, what: string): Error {
  const e = (err ?? {}) as SdkError;
  const name = typeof e.name === "string" && e.name !== "Error" ? e.name : (networkCode(err) ?? "Error");
  const status = e.$metadata?.httpStatusCode;
  const requestId = e.$metadata?.requestId;
  const detail = `${name}${status !== undefined ? ` (HTTP ${status})` : ""}${requestId ? ` request ${requestId}` : ""}`;
  const cause = { name, status, requestId };
  if (
    isNetworkError(err) ||
    TRANSIENT.has(name) ||
    (status !== undefined && status >= 500) ||
    e.$retryable !== undefined
  ) {
    return new RetryLaterError(`kms: ${what}: ${detail}`, undefined, { cause });
  }
  return new PermanentError(`kms: ${what}: ${detail}`, name, { cause });
}

function networkCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}
