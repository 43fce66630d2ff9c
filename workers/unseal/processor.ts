import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import { messageOf } from "../../shared/errors/errors.ts";
import { UnsealJobSchema, type UnsealOutcome } from "../../shared/jobs/job-types.ts";
import type { ReplicaTrust } from "../../shared/unseal/replica-trust.ts";
import { replicaKey } from "../../shared/unseal/replicas.ts";
import type { UnsealDeps } from "./deps.ts";
import { unsealReplica, type PodIdentity } from "./pass.ts";

const BUSY_RETRY_MS = 250;

/**
 * unseal: one Vault replica per job, under that replica's lock so two jobs never interleave
 * shares. Returns one of the closed-set outcomes (see UnsealOutcome); reports it as a metric,
 * a log line and, for Vault pods, a Kubernetes Event. Job data and results hold no secret.
 * `trust` (from configuration) decides which replicas a job may name at all.
 */
export function createUnsealProcessor(deps: UnsealDeps, trust: ReplicaTrust) {
  return async (job: Job, token?: string): Promise<UnsealOutcome> => {
    const parsed = UnsealJobSchema.safeParse(job.data);
    if (!parsed.success) {
      deps.metrics.unsealAttempts.inc({ outcome: "invalid-payload" });
      throw new UnrecoverableError(
        `invalid unseal job payload: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    }
    const data = parsed.data;
    const locked = await deps.lock.run(`replica-${replicaKey(data.replica)}`, () => unsealReplica(deps, trust, data));
    if (!locked.locked) {
      // Another job is unsealing this replica: wait for it (without burning an attempt), then re-check.
      await job.moveToDelayed(deps.now() + BUSY_RETRY_MS + Math.floor(deps.random() * BUSY_RETRY_MS), token);
      throw new DelayedError();
    }
    const { outcome, pod } = locked.value;
    await report(deps, outcome, pod, data.requestedAt, data.source);
    return outcome;
  };
}

async function report(
  deps: UnsealDeps,
  result: UnsealOutcome,
  pod: PodIdentity | undefined,
  requestedAt: number,
  source: string,
): Promise<void> {
  const { metrics, log } = deps;
  const replica = result.replica;
  metrics.unsealAttempts.inc({ outcome: result.outcome });
  let event: { reason: string; message: string; type: "Normal" | "Warning" } | undefined;
  switch (result.outcome) {
    case "unsealed": {
      metrics.vaultSealed.set({ replica }, 0);
      metrics.vaultSealedSeconds.set({ replica }, result.sealedSeconds);
      metrics.vaultLastUnseal.set({ replica }, deps.now() / 1000);
      metrics.unsealLatency.observe(Math.max(0, (deps.now() - requestedAt) / 1000));
      log.info(
        {
          replica,
          source,
          shares: result.sharesSubmitted,
          staleAttemptReset: result.staleAttemptReset,
          initialized: result.initialized,
          sealedSeconds: result.sealedSeconds,
        },
        "vault replica unsealed",
      );
      const notes = [
        result.initialized ? "initialised first" : "",
        result.staleAttemptReset ? "a stale unseal attempt was reset" : "",
      ]
        .filter(Boolean)
        .join("; ");
      event = {
        reason: "VaultUnsealed",
        type: "Normal",
        message: `Unsealed by leasekeeper with ${result.sharesSubmitted} KMS-decrypted key share(s)${notes ? ` (${notes})` : ""}`,
      };
      break;
    }
    case "already-unsealed":
      metrics.vaultSealed.set({ replica }, 0);
      log.debug({ replica, source }, "vault replica already unsealed");
      break;
    case "not-initialized":
      log.warn({ replica, source, reason: result.reason }, "vault replica is not initialised");
      event = { reason: "VaultNotInitialized", type: "Warning", message: result.reason };
      break;
    case "refused":
      // A job naming a replica configuration does not vouch for: nothing was sent there.
      log.error(
        { replica, source, outcome: result.outcome, reason: result.reason },
        "unseal job refused: replica not trusted",
      );
      break;
    case "kms-unavailable":
    case "bad-keys":
    case "unreachable":
      log.error(
        { replica, source, outcome: result.outcome, reason: result.reason },
        "vault replica could not be unsealed",
      );
      event = { reason: "VaultUnsealFailed", type: "Warning", message: `${result.outcome}: ${result.reason}` };
      break;
    default: {
      const never: never = result;
      throw new Error(`unhandled unseal outcome ${JSON.stringify(never)}`);
    }
  }
  if (event && pod) {
    try {
      await deps.recordEvent(pod, { ...event, message: event.message.slice(0, 1000) });
    } catch (err) {
      log.warn({ replica, reason: event.reason, error: messageOf(err) }, "could not record event on the vault pod");
    }
  }
}
