import { createHash } from "node:crypto";
import type { V1Pod } from "@kubernetes/client-node";
import { VAULT_PREFIX } from "./injector-annotations.ts";
import { PREFIX } from "./pod-contract.ts";

/** Annotation prefixes that decide what a pod asks for: leasekeeper's own and the Vault Agent Injector's. */
const CONTRACT_PREFIXES = [PREFIX, VAULT_PREFIX];

/**
 * A short digest of what the pod asks for (its role, secret and auth annotations, its service
 * account). Two events with the same version describe the same request; a changed one means the
 * user changed the pod, so a job waiting out a failure backoff runs again at once. Annotation
 * values are references (roles, paths, templates), and only their digest is kept.
 */
export function podVersion(pod: V1Pod): string {
  const annotations = Object.entries(pod.metadata?.annotations ?? {})
    .filter(([key]) => CONTRACT_PREFIXES.some((prefix) => key.startsWith(prefix)))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const identity = pod.spec?.serviceAccountName || "default";
  return createHash("sha256")
    .update(JSON.stringify([identity, annotations]))
    .digest("hex")
    .slice(0, 16);
}
