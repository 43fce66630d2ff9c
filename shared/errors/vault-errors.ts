import {
  PermanentError,
  RetryLaterError,
  VaultUnavailableError,
  isNetworkError,
  isTimeout,
  messageOf,
} from "./errors.ts";

interface NodeVaultError {
  message?: string;
  response?: { statusCode?: number; body?: unknown };
}

/** The one place where Vault status codes and error bodies become typed errors. */
export function classifyVaultError(raw: unknown, what: string): Error {
  // An axios error carries the request (X-Vault-Token, the login JWT, an unseal share): never keep it.
  const err = sanitizeVaultError(raw);
  const status = (err as NodeVaultError).response?.statusCode;
  const message = firstLine(messageOf(err));
  if (status === undefined) {
    // Refused, reset or timed out: with every replica sealed the vault-active Service has no endpoints.
    if (isTimeout(err))
      return new VaultUnavailableError(`vault: ${what}: no answer in time (${message})`, "timeout", { cause: err });
    if (isNetworkError(err))
      return new VaultUnavailableError(`vault: ${what}: unreachable (${message})`, "unreachable", { cause: err });
    return new RetryLaterError(`vault: ${what}: ${message}`, undefined, { cause: err });
  }
  if (status === 503 && /sealed/i.test(message))
    return new VaultUnavailableError(`vault: ${what}: Vault is sealed`, "sealed", { cause: err });
  if (
    status === 429 ||
    status === 502 ||
    status === 503 ||
    status === 504 ||
    status === 500 ||
    status === 412 ||
    status === 472 ||
    status === 473
  ) {
    return new RetryLaterError(`vault: ${what}: HTTP ${status} ${message}`, undefined, { cause: err });
  }
  if (status === 403)
    return new PermanentError(`vault: ${what}: permission denied (${message})`, "VaultPermissionDenied", {
      cause: err,
    });
  if (status === 400 && /invalid role name/.test(message)) {
    return new PermanentError(`vault: ${what}: invalid role name`, "VaultInvalidRole", { cause: err });
  }
  if (status === 400 && /not authorized/.test(message)) {
    return new PermanentError(`vault: ${what}: ${message}`, "VaultLoginRefused", { cause: err });
  }
  if (status === 404) return new PermanentError(`vault: ${what}: not found`, "VaultNotFound", { cause: err });
  if (status === 400 && /missing client token/.test(message)) {
    return new PermanentError(`vault: ${what}: missing client token`, "VaultNoToken", { cause: err });
  }
  return new PermanentError(`vault: ${what}: HTTP ${status} ${message}`, "VaultRejected", { cause: err });
}

/** Vault's multierror bodies span lines ("1 error occurred:\n\t* permission denied"); keep the meaning. */
function firstLine(message: string): string {
  const bullets = message.match(/\* ([^\n]+)/g);
  if (bullets && bullets.length > 0) return bullets.map((b) => b.slice(2)).join("; ");
  return message.split("\n")[0] ?? message;
}

/** Only what is safe to keep from a node-vault / axios error: message, status, Vault's error body, code. */
export function sanitizeVaultError(err: unknown): Error {
  if (!(err instanceof Error) && (typeof err !== "object" || err === null)) return new Error(String(err));
  const source = err as {
    message?: unknown;
    code?: unknown;
    response?: { statusCode?: unknown; status?: unknown; body?: unknown };
  };
  const clean = new Error(typeof source.message === "string" ? source.message : "vault request failed") as Error & {
    code?: unknown;
    response?: { statusCode?: number; body?: unknown };
  };
  clean.name = err instanceof Error ? err.name : "Error";
  if (typeof source.code === "string") clean.code = source.code;
  const status = source.response?.statusCode ?? source.response?.status;
  if (typeof status === "number") {
    const body = source.response?.body as { errors?: unknown } | undefined;
    clean.response = { statusCode: status, body: Array.isArray(body?.errors) ? { errors: body.errors } : undefined };
  }
  return clean;
}
