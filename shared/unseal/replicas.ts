import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * A Vault replica as jobs name it: a configured address, or a Vault server pod (reached at
 * its current pod IP, re-read by the job, since a recreated pod gets a new IP).
 */
export const ReplicaRefSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("address"), addr: z.string().url().max(500) }),
  z.object({ kind: z.literal("pod"), namespace: z.string().min(1).max(63), name: z.string().min(1).max(253) }),
]);
export type ReplicaRef = z.infer<typeof ReplicaRefSchema>;

/** Human-readable replica name for logs, metrics labels and outcomes (never secret). */
export function replicaName(ref: ReplicaRef): string {
  if (ref.kind === "pod") return `${ref.namespace}/${ref.name}`;
  const url = new URL(ref.addr);
  return url.host;
}

/** Stable key for locks and job ids: [A-Za-z0-9._-] only (BullMQ ids may not contain ':'). */
export function replicaKey(ref: ReplicaRef): string {
  const name = replicaName(ref);
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 120);
  const digest = createHash("sha256")
    .update(`${ref.kind}|${ref.kind === "pod" ? name : ref.addr}`)
    .digest("hex")
    .slice(0, 8);
  return `${ref.kind}-${safe}-${digest}`;
}

/** http(s)://ip:port for a pod IP (IPv6 in brackets). */
export function podAddress(scheme: string, podIP: string, port: number): string {
  const host = podIP.includes(":") ? `[${podIP}]` : podIP;
  return `${scheme}://${host}:${port}`;
}
