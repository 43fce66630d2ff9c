import { PermanentError, RetryLaterError, isPermanent } from "../../shared/errors/errors.ts";
import type { UnsealJob, UnsealOutcome } from "../../shared/jobs/job-types.ts";
import type { KeyMaterial } from "../../shared/unseal/key-material.ts";
import type { ReplicaTrust } from "../../shared/unseal/replica-trust.ts";
import { podAddress, replicaName, type ReplicaRef } from "../../shared/unseal/replicas.ts";
import { containerStartedAt } from "../../shared/unseal/vault-pods.ts";
import type { ReplicaSealStatus } from "../../shared/unseal/vault-replica-client.ts";
import type { UnsealDeps } from "./deps.ts";
import { initializeReplica } from "./auto-init.ts";
import { reasonOf, withRetry } from "./retry.ts";

export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

interface Replica {
  readonly name: string;
  readonly addr: string;
  readonly pod: PodIdentity | undefined;
  /** When the Vault container started (it starts sealed), if known. */
  readonly startedAt: number | undefined;
}

/** KMS said the blob is not ours (wrong context, other key): the stored keys are bad, not KMS. */
const BAD_CIPHERTEXT = new Set(["InvalidCiphertextException", "IncorrectKeyException"]);
/** The key store itself is damaged (not base64, missing or duplicated shares). */
const BAD_STORE = "KeyStoreInvalid";
/** A job named a replica that configuration does not vouch for: no key share goes there. */
const NOT_TRUSTED = "ReplicaNotTrusted";
const MAX_PASSES = 3;

/**
 * One unseal of one replica, run while holding that replica's lock: resolve the address (only
 * what `trust` vouches for), read seal status, (auto-init), decrypt the shares, reset a stale
 * attempt, submit at most `threshold` shares until unsealed. Every path ends in one of the
 * closed-set outcomes; plaintext is wiped on the way out.
 */
export async function unsealReplica(
  deps: UnsealDeps,
  trust: ReplicaTrust,
  job: UnsealJob,
): Promise<{ outcome: UnsealOutcome; pod: PodIdentity | undefined }> {
  const name = replicaName(job.replica);
  let replica: Replica;
  try {
    replica = await withRetry(deps, () => resolve(deps, trust, job.replica, name));
  } catch (err) {
    if (isPermanent(err) && err.reason === NOT_TRUSTED)
      return { outcome: { outcome: "refused", replica: name, reason: err.message }, pod: undefined };
    return { outcome: { outcome: "unreachable", replica: name, reason: reasonOf(err) }, pod: undefined };
  }
  const done = (outcome: UnsealOutcome) => ({ outcome, pod: replica.pod });

  let status: ReplicaSealStatus;
  try {
    status = await withRetry(deps, () => deps.replicas.sealStatus(replica.addr));
  } catch (err) {
    return done({ outcome: "unreachable", replica: name, reason: reasonOf(err) });
  }

  let material: KeyMaterial | undefined;
  let initialized = false;
  try {
    if (
      !status.initialized &&
      status.storageType === "raft" &&
      !trust.mayInitRaft({ addr: replica.addr, podName: replica.pod?.name })
    ) {
      // vault/init.go: a Raft node reports initialized=false until it joins (retry_join); the leader's
      // cluster gives it its seal config. Initialising it would split the cluster: wait for the join.
      return done({
        outcome: "not-initialized",
        replica: name,
        reason: "a Raft follower that has not joined its cluster yet; it is unsealed once it joins (retry_join)",
      });
    }
    if (!status.initialized) {
      const init = await initializeReplica(deps, replica.addr, name);
      if (init.kind === "refused") return done(init.outcome);
      status = init.status;
      if (init.kind === "initialized") {
        material = init.material;
        initialized = true;
      }
    }
    if (!status.sealed) return done({ outcome: "already-unsealed", replica: name });
    deps.metrics.vaultSealed.set({ replica: name }, 1);

    if (!material) {
      const loaded = await loadKeys(deps, name);
      if ("outcome" in loaded) return done(loaded);
      material = loaded.material;
    }
    return done(await submitShares(deps, replica, status, material, { initialized, requestedAt: job.requestedAt }));
  } finally {
    material?.wipe();
  }
}

/** The address to dial, from configuration or from the pod as the API server shows it now; never from the job alone. */
async function resolve(deps: UnsealDeps, trust: ReplicaTrust, ref: ReplicaRef, name: string): Promise<Replica> {
  const refuse = (why: string) => new PermanentError(`replica ${name} is not trusted: ${why}`, NOT_TRUSTED);
  if (ref.kind === "address") {
    const addr = trust.address(ref.addr);
    if (addr === undefined) throw refuse("its address is not in LEASEKEEPER_VAULT_REPLICAS");
    return { name, addr, pod: undefined, startedAt: undefined };
  }
  const early = trust.podProblem(ref.namespace, undefined);
  if (early) throw refuse(early);
  const pod = await deps.pods.readPod(ref.namespace, ref.name);
  if (!pod?.metadata?.uid) throw new RetryLaterError(`vault pod ${name} not found`, undefined);
  const problem = trust.podProblem(ref.namespace, pod);
  if (problem) throw refuse(problem);
  const ip = pod.status?.podIP;
  if (!ip) throw new RetryLaterError(`vault pod ${name} has no IP yet`, undefined);
  return {
    name,
    addr: podAddress(deps.settings.podScheme, ip, deps.settings.podPort),
    pod: { namespace: ref.namespace, name: ref.name, uid: pod.metadata.uid },
    startedAt: containerStartedAt(pod, "vault")?.getTime(),
  };
}

async function loadKeys(deps: UnsealDeps, name: string): Promise<{ material: KeyMaterial } | UnsealOutcome> {
  const held = deps.custodian.material();
  if (held) return { material: held };
  try {
    const material = await withRetry(deps, () => deps.keys.load());
    if (!material || material.shares.length === 0) {
      material?.wipe();
      return { outcome: "bad-keys", replica: name, reason: `no unseal keys stored in ${deps.keys.location}` };
    }
    return { material };
  } catch (err) {
    const kmsName = isPermanent(err) ? err.reason : "";
    if (kmsName === BAD_STORE) return { outcome: "bad-keys", replica: name, reason: reasonOf(err) };
    if (BAD_CIPHERTEXT.has(kmsName)) {
      return {
        outcome: "bad-keys",
        replica: name,
        reason: `${reasonOf(err)} (stored ciphertexts do not decrypt under this key and cluster context)`,
      };
    }
    return { outcome: "kms-unavailable", replica: name, reason: reasonOf(err) };
  }
}

async function submitShares(
  deps: UnsealDeps,
  replica: Replica,
  initial: ReplicaSealStatus,
  material: KeyMaterial,
  info: { initialized: boolean; requestedAt: number },
): Promise<UnsealOutcome> {
  const name = replica.name;
  const badKeys = (reason: string): UnsealOutcome => ({ outcome: "bad-keys", replica: name, reason });
  const threshold = initial.threshold;
  if (threshold < 1) return badKeys("Vault reports an unseal threshold of 0; nothing submitted");
  if (material.shares.length < threshold) {
    return badKeys(`only ${material.shares.length} share(s) stored but Vault needs ${threshold}; nothing submitted`);
  }
  // Never more than the threshold: a replica that stays sealed gets no further share of the key.
  const shares = material.shares.slice(0, threshold);
  let status = initial;
  let submitted = 0;
  let staleAttemptReset = false;
  try {
    for (let pass = 1; pass <= MAX_PASSES; pass++) {
      if (status.progress > 0) {
        // We hold the replica lock, so this partial attempt is someone else's (or a crashed job's).
        status = await withRetry(deps, () => deps.replicas.resetUnseal(replica.addr));
        staleAttemptReset = true;
        deps.log.warn({ replica: name }, "reset a stale unseal attempt");
      }
      if (!status.sealed) return { outcome: "already-unsealed", replica: name };
      if (status.threshold !== threshold)
        return badKeys(
          `Vault's unseal threshold changed from ${threshold} to ${status.threshold} during the attempt; stopped`,
        );
      let progress = status.progress;
      let interrupted = false;
      for (const share of shares) {
        const next = await withRetry(deps, () => deps.replicas.submitUnsealKey(replica.addr, share));
        submitted++;
        if (!next.sealed) return unsealed(deps, replica, { submitted, staleAttemptReset, ...info });
        if (next.threshold !== threshold)
          return badKeys(
            `Vault's unseal threshold changed from ${threshold} to ${next.threshold} during the attempt; stopped`,
          );
        // The threshold was accepted without an error (wrong keys answer 400/500): a Raft follower
        // finishing its join unseals in the background (vault/core.go unsealWithRaft).
        if (next.progress === 0 && progress + 1 >= threshold)
          return finishing(deps, replica, { submitted, staleAttemptReset, ...info });
        if (next.progress < progress) {
          // Progress went back without reaching the threshold: the replica restarted or was reset.
          status = next;
          interrupted = true;
          break;
        }
        progress = next.progress;
      }
      if (!interrupted)
        return badKeys(
          `${threshold} share(s) submitted (the threshold) and Vault is still sealed (progress ${progress} of ${threshold}); stopped`,
        );
    }
    return {
      outcome: "unreachable",
      replica: name,
      reason: `unseal attempt was reset ${MAX_PASSES} times while submitting`,
    };
  } catch (err) {
    if (isPermanent(err) && err.reason === "UnsealKeyRejected") return badKeys(reasonOf(err));
    return { outcome: "unreachable", replica: name, reason: reasonOf(err) };
  }
}

const BACKGROUND_UNSEAL_MS = 15_000;

/** Waits (bounded) for a replica that accepted the threshold to finish unsealing in the background. */
async function finishing(
  deps: UnsealDeps,
  replica: Replica,
  info: Parameters<typeof unsealed>[2],
): Promise<UnsealOutcome> {
  const deadline = deps.now() + BACKGROUND_UNSEAL_MS;
  while (deps.now() < deadline) {
    await deps.sleep(250);
    const status = await withRetry(deps, () => deps.replicas.sealStatus(replica.addr));
    if (!status.sealed) return unsealed(deps, replica, info);
  }
  return {
    outcome: "unreachable",
    replica: replica.name,
    reason: `the threshold was accepted but the replica had not finished unsealing after ${BACKGROUND_UNSEAL_MS / 1000}s; the sweep checks again`,
  };
}

function unsealed(
  deps: UnsealDeps,
  replica: Replica,
  info: { submitted: number; staleAttemptReset: boolean; initialized: boolean; requestedAt: number },
): UnsealOutcome {
  const now = deps.now();
  const since =
    replica.startedAt !== undefined && replica.startedAt < info.requestedAt ? replica.startedAt : info.requestedAt;
  return {
    outcome: "unsealed",
    replica: replica.name,
    sharesSubmitted: info.submitted,
    staleAttemptReset: info.staleAttemptReset,
    initialized: info.initialized,
    sealedSeconds: Math.max(0, (now - since) / 1000),
  };
}
