import type { PodRecord } from "../../shared/index/pod-record.ts";

/** An issued pod's index record with no leases, every time at 0; tests override what they exercise. */
export function podRecord(overrides: Partial<PodRecord> = {}): PodRecord {
  return {
    uid: "u",
    namespace: "n",
    name: "p",
    serviceAccount: "sa",
    role: "r",
    authPath: "kubernetes",
    secretName: "s",
    state: "issued",
    accessor: "a",
    tokenExpiresAt: 0,
    tokenTtlSeconds: 60,
    tokenRenewable: true,
    leases: [],
    retiring: [],
    issuedAt: 0,
    rotations: 0,
    ...overrides,
  };
}
