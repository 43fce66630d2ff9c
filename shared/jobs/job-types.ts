import { z } from "zod";

export const QUEUE = { issue: "issue", renew: "renew", revoke: "revoke", unseal: "unseal" } as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

const podRef = { uid: z.string().min(1).max(64), namespace: z.string().min(1).max(63), name: z.string().min(1).max(253) };
export const SOURCES = ["watch", "cloudevent", "reconciler", "api", "ci", "renew"] as const;

export const IssueJobSchema = z.object({ ...podRef, source: z.enum(SOURCES) });
export type IssueJob = z.infer<typeof IssueJobSchema>;

export const RenewJobSchema = z.object({ ...podRef, force: z.boolean().default(false) });
export type RenewJob = z.infer<typeof RenewJobSchema>;

export const RevokeJobSchema = z.object({ ...podRef, source: z.enum(SOURCES), reason: z.string().max(200) });
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
};

/** Outcomes jobs report (results never carry secret values). */
export type IssueOutcome =
  | { outcome: "issued"; leases: number; secret: string }
  | { outcome: "already-issued" }
  | { outcome: "pod-gone" }
  | { outcome: "pod-terminal" }
  | { outcome: "not-opted-in" }
  | { outcome: "failed"; reason: string };

export type RenewOutcome =
  | { outcome: "renewed"; leases: number; rotated: number; nextRenewInMs: number }
  | { outcome: "relogged-in"; leases: number; nextRenewInMs: number }
  | { outcome: "stale" }
  | { outcome: "pod-gone" };

export type RevokeOutcome =
  | { outcome: "revoked"; leases: number; tokenRevoked: boolean; secretDeleted: boolean }
  | { outcome: "nothing-to-revoke" }
  | { outcome: "pod-alive" };
