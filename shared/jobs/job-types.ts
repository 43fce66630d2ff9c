import { z } from "zod";
import { ReplicaRefSchema } from "../unseal/replicas.ts";

export const QUEUE = { issue: "issue", renew: "renew", revoke: "revoke", unseal: "unseal" } as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];
/** The job names the revoke queue carries: pod revocations, retirements after rotation, on-call / CI operations. */
export type RevokeQueueJob = "revoke" | "retire" | "operation";

const podRef = {
  uid: z.string().min(1).max(64),
  namespace: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
};
export const SOURCES = ["watch", "cloudevent", "reconciler", "api", "ci", "renew"] as const;

export const IssueJobSchema = z.object({
  ...podRef,
  source: z.enum(SOURCES),
  /** Digest of what the pod asks for (podVersion()): a changed pod cuts a failure backoff short. */
  podVersion: z.string().max(64).optional(),
});
export type IssueJob = z.infer<typeof IssueJobSchema>;

export const RenewJobSchema = z.object({
  uid: podRef.uid,
  /** A scheduled renewal carries the UID only (the index record says where the pod is). */
  namespace: podRef.namespace.optional(),
  name: podRef.name.optional(),
  force: z.boolean().default(false),
  /** This job retries a renewal that failed transiently: how many tries failed in a row (workers/schedule.ts). */
  retry: z.number().int().min(1).max(1_000_000).optional(),
});
export type RenewJob = z.infer<typeof RenewJobSchema>;

export const RevokeJobSchema = z.object({
  ...podRef,
  source: z.enum(SOURCES),
  reason: z.string().max(200),
  /** On-call revoke of a live pod: skip the pod-alive check and leave a tombstone so it is not re-issued. */
  force: z.boolean().optional(),
});
export type RevokeJob = z.infer<typeof RevokeJobSchema>;

/** Revoke one replaced lease or token after the rotation grace. */
export const RetireJobSchema = z.object({ uid: z.string(), kind: z.enum(["lease", "accessor"]), id: z.string() });
export type RetireJob = z.infer<typeof RetireJobSchema>;

/** Deterministic ids: duplicates of the same intent collapse into one job. */
export const jobId = {
  issue: (uid: string) => `issue-${uid}`,
  revoke: (uid: string) => `revoke-${uid}`,
  renew: (uid: string, seq: number) => `renew-${uid}-${seq}`,
  retire: (uid: string, digest: string) => `retire-${uid}-${digest}`,
  /** One per Vault replica; `key` comes from replicaKey() (shared/unseal/replicas.ts). */
  unseal: (key: string) => `unseal-${key}`,
  /** On-call / CI operations: `op-<uuid>` from the API, `ci-<delivery id>` from the CI hook. */
  operation: (key: string) => `op-${key}`,
  ci: (delivery: string) => `ci-${delivery}`,
  /** A forced revoke that retries one pod of an operation. */
  forcedRevoke: (uid: string, op: string) => `revoke-${uid}-${op}`,
};

/** The pod UID in a renew job id (`renew-<uid>-<seq>`: jobId.renew's inverse). */
export function renewJobUid(id: string): string {
  return id.slice("renew-".length, id.lastIndexOf("-"));
}

/** Outcomes jobs report (results never carry secret values). */
export type IssueOutcome =
  | { outcome: "issued"; leases: number; secret: string }
  | { outcome: "already-issued" }
  | { outcome: "pod-gone" }
  | { outcome: "pod-terminal" }
  | { outcome: "not-opted-in" }
  | { outcome: "revoked-by-operator" }
  /** A transient failure (Vault 5xx, API server down): the next try is scheduled before the earliest expiry. */
  | { outcome: "retry-scheduled"; attempt: number; nextRenewInMs: number; expiresInMs: number };

export type RenewOutcome =
  | { outcome: "renewed"; leases: number; rotated: number; nextRenewInMs: number }
  | { outcome: "relogged-in"; leases: number; nextRenewInMs: number }
  | { outcome: "stale" }
  | { outcome: "pod-gone" }
  | { outcome: "revoked-by-operator" }
  /** A transient failure (Vault 5xx, API server down): the next try is scheduled before the earliest expiry. */
  | { outcome: "retry-scheduled"; attempt: number; nextRenewInMs: number; expiresInMs: number };

export type RevokeOutcome =
  | { outcome: "revoked"; leases: number; tokenRevoked: boolean; secretDeleted: boolean }
  | { outcome: "nothing-to-revoke" }
  | { outcome: "pod-alive" };

/** One pod of an on-call / CI operation: the whole pod, or only some of its leases. References only. */
export const OperationTargetSchema = z.object({
  ...podRef,
  leases: z.array(z.string().min(1).max(500)).max(1000).optional(),
});
export type OperationTarget = z.infer<typeof OperationTargetSchema>;

/** An on-call or CI action over resolved targets (functions/http resolves the scope; workers/operation.ts acts). */
export const OperationJobSchema = z.object({
  action: z.enum(["revoke", "rotate"]),
  source: z.enum(["api", "ci"]),
  actor: z.string().max(300),
  reason: z.string().max(200),
  targets: z.array(OperationTargetSchema).max(100_000),
});
export type OperationJob = z.infer<typeof OperationJobSchema>;

export interface OperationItem {
  readonly pod: string;
  readonly uid: string;
  readonly outcome: "revoked" | "leases-revoked" | "rotation-queued" | "nothing-to-revoke" | "failed";
  readonly leases?: readonly string[];
  /** failed: what went wrong (a class of error, never a value) and the job that retries it. */
  readonly error?: string;
  readonly retryJobIds?: readonly string[];
  /** The rotation (forced renew) job queued for this pod. */
  readonly jobId?: string;
}

export type OperationOutcome = {
  outcome: "completed" | "partly-failed";
  action: "revoke" | "rotate";
  total: number;
  failed: number;
  items: OperationItem[];
};

/** Unseal one Vault replica. Holds a reference and when it was asked for; never a key. */
export const UNSEAL_SOURCES = ["watch", "sweep", "api", "ci"] as const;
export const UnsealJobSchema = z.object({
  replica: ReplicaRefSchema,
  source: z.enum(UNSEAL_SOURCES),
  /** Epoch ms of the trigger (pod event, sweep tick, request). */
  requestedAt: z.number().int().nonnegative(),
});
export type UnsealJob = z.infer<typeof UnsealJobSchema>;

/** The closed set of unseal results (`replica` is a name such as "vault/vault-0", `reason` a class of error). */
export type UnsealOutcome =
  | {
      outcome: "unsealed";
      replica: string;
      sharesSubmitted: number;
      staleAttemptReset: boolean;
      initialized: boolean;
      sealedSeconds: number;
    }
  | { outcome: "already-unsealed"; replica: string }
  | { outcome: "not-initialized"; replica: string; reason: string }
  | { outcome: "kms-unavailable"; replica: string; reason: string }
  | { outcome: "bad-keys"; replica: string; reason: string }
  | { outcome: "unreachable"; replica: string; reason: string }
  /** The job named an address or pod that configuration does not vouch for (shared/unseal/replica-trust.ts). */
  | { outcome: "refused"; replica: string; reason: string };
