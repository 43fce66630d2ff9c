import { z } from "zod";

/** One Vault lease held for a pod. Lease ids are identifiers, not secrets. */
export const LeaseRecordSchema = z.object({
  id: z.string(),
  path: z.string(),
  file: z.string(),
  /** Epoch ms at which Vault will expire it if nothing renews it. */
  expiresAt: z.number(),
  renewable: z.boolean(),
  /** The TTL Vault granted at issue; renewals ask for this much again. */
  ttlSeconds: z.number(),
  /** Epoch ms at which the file is rendered again although nothing expires: KV re-read, certificate at 2/3 of its life. */
  refreshAt: z.number().optional(),
});
export type LeaseRecord = z.infer<typeof LeaseRecordSchema>;

/** A lease or token replaced by rotation, revoked after the grace period. */
export const RetiringSchema = z.object({
  kind: z.enum(["lease", "accessor"]),
  id: z.string(),
  revokeAt: z.number(),
});
export type Retiring = z.infer<typeof RetiringSchema>;

export const PodRecordSchema = z.object({
  uid: z.string(),
  namespace: z.string(),
  name: z.string(),
  serviceAccount: z.string(),
  role: z.string(),
  authPath: z.string(),
  secretName: z.string(),
  /** issuing: token exists, Secret not yet written; issued: live; recovered: rebuilt from the Secret, no token. */
  state: z.enum(["issuing", "issued", "recovered"]),
  accessor: z.string(),
  /** The pod's Vault token, AES-256-GCM sealed (see seal-box.ts); absent when recovered. */
  encryptedToken: z.string().optional(),
  tokenExpiresAt: z.number(),
  tokenTtlSeconds: z.number(),
  tokenRenewable: z.boolean(),
  leases: z.array(LeaseRecordSchema),
  retiring: z.array(RetiringSchema).default([]),
  renewJobId: z.string().optional(),
  nextRenewAt: z.number().optional(),
  issuedAt: z.number(),
  renewedAt: z.number().optional(),
  rotations: z.number().default(0),
  /** Epoch ms at which token and leases are next due for renewal (a renew job woken earlier only refreshes files). */
  leaseRenewAt: z.number().optional(),
  /** Sequence number of the current renew job (its id is renew-<uid>-<renewSeq>); workers/schedule.ts owns it. */
  renewSeq: z.number().optional(),
});
export type PodRecord = z.infer<typeof PodRecordSchema>;

/** The earliest time anything of this pod expires. */
export function earliestExpiry(record: PodRecord): number {
  let earliest = record.tokenExpiresAt;
  for (const lease of record.leases) {
    if (lease.id !== "" && lease.expiresAt < earliest) earliest = lease.expiresAt;
  }
  return earliest;
}
