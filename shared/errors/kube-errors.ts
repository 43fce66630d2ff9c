import { PermanentError, RetryLaterError, isNetworkError, messageOf } from "./errors.ts";

interface KubeApiException {
  code?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** HTTP status of a client-node ApiException, if it is one. */
export function kubeStatus(err: unknown): number | undefined {
  const code = (err as KubeApiException).code;
  return typeof code === "number" && code >= 100 && code < 600 ? code : undefined;
}

/** `message` of the Status body the API server sent, or undefined. */
export function kubeStatusMessage(err: unknown): string | undefined {
  const body = (err as KubeApiException).body;
  if (typeof body !== "string") return undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === "string" ? parsed.message : undefined;
  } catch {
    return body.slice(0, 200);
  }
}

/** True when a create failed because the object exists (HTTP 409 AlreadyExists), classified or not. */
export function isAlreadyExists(err: unknown): boolean {
  const status = kubeStatus(err) ?? kubeStatus((err as { cause?: unknown }).cause);
  if (status !== 409) return false;
  const inner = kubeStatus(err) === 409 ? err : (err as { cause?: unknown }).cause;
  const body = (inner as KubeApiException).body;
  return typeof body !== "string" || body.includes("AlreadyExists");
}

/** The one place where Kubernetes API failures become typed errors. */
export function classifyKubeError(err: unknown, what: string): Error {
  const status = kubeStatus(err);
  const detail = kubeStatusMessage(err) ?? messageOf(err);
  if (status === undefined) {
    if (isNetworkError(err))
      return new RetryLaterError(`kubernetes: ${what}: unreachable (${detail})`, undefined, { cause: err });
    return new RetryLaterError(`kubernetes: ${what}: ${detail}`, undefined, { cause: err });
  }
  if (status === 429 || status >= 500 || status === 409) {
    const header = (err as KubeApiException).headers?.["retry-after"];
    const retryAfterMs = header !== undefined && Number.isFinite(Number(header)) ? Number(header) * 1000 : undefined;
    return new RetryLaterError(`kubernetes: ${what}: HTTP ${status} ${detail}`, retryAfterMs, { cause: err });
  }
  if (status === 404) return new PermanentError(`kubernetes: ${what}: not found`, "NotFound", { cause: err });
  if (status === 403)
    return new PermanentError(`kubernetes: ${what}: forbidden (${detail})`, "Forbidden", { cause: err });
  return new PermanentError(`kubernetes: ${what}: HTTP ${status} ${detail}`, "KubernetesRejected", { cause: err });
}
