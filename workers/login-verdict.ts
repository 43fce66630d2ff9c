import { RetryLaterError, isPermanent, messageOf } from "../shared/errors/errors.ts";
import type { WorkerDeps } from "./deps.ts";

/**
 * Vault's Kubernetes auth checks the pod's JWT with a TokenReview on the API server, and answers
 * 403 "permission denied" when that call fails for any reason — a 5xx or 429 of the API server
 * included (specs/vault-api.md §5.2 row 11). So a 403 at login is a verdict only while the API
 * server answers: one TokenReview of the same JWT tells. If it fails the way a retry can fix, the
 * refusal is retried as transient; if it answers (whatever it says) or refuses us (RBAC), Vault's
 * refusal stands.
 */
export async function loginRefusalVerdict(deps: WorkerDeps, err: unknown, jwt: string): Promise<unknown> {
  if (!isPermanent(err) || err.reason !== "VaultPermissionDenied") return err;
  try {
    await deps.kube.reviewToken(jwt, deps.settings.tokenAudience);
    return err;
  } catch (probe) {
    if (isPermanent(probe)) return err;
    deps.log.warn(
      { reason: err.reason, error: err.message, kubernetes: messageOf(probe) },
      "vault refused the login while the Kubernetes API is failing its TokenReview; retrying as transient",
    );
    return new RetryLaterError(
      `${err.message}; the Kubernetes API server is failing (${messageOf(probe)}), so Vault's TokenReview likely failed: retried`,
      undefined,
      { cause: err },
    );
  }
}
