import { z } from "zod";

const dns1123 = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS-1123 label");
const objectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a DNS-1123 subdomain");

export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** What an on-call or CI action applies to. Namespaced scopes are authorized in their namespace. */
export const ScopeSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("lease"), id: z.string().min(1).max(500) }).strict(),
  z.object({ type: z.literal("pod"), namespace: dns1123, name: objectName }).strict(),
  z
    .object({
      type: z.literal("pod-uid"),
      uid: z
        .string()
        .min(1)
        .max(64)
        .regex(/^[A-Za-z0-9-]+$/),
    })
    .strict(),
  z
    .object({ type: z.literal("workload"), namespace: dns1123, kind: z.enum(WORKLOAD_KINDS), name: objectName })
    .strict(),
  z.object({ type: z.literal("namespace"), namespace: dns1123 }).strict(),
  z
    .object({
      type: z.literal("path-prefix"),
      prefix: z
        .string()
        .min(1)
        .max(500)
        .regex(/^[A-Za-z0-9_\-./]+$/),
    })
    .strict(),
]);
export type Scope = z.infer<typeof ScopeSchema>;

/** The namespace a scope names, if it names one (lease, pod-uid and prefix scopes are resolved first). */
export function scopeNamespace(scope: Scope): string | undefined {
  return "namespace" in scope ? scope.namespace : undefined;
}

export function describeScope(scope: Scope): string {
  switch (scope.type) {
    case "lease":
      return `lease ${scope.id}`;
    case "pod":
      return `pod ${scope.namespace}/${scope.name}`;
    case "pod-uid":
      return `pod uid ${scope.uid}`;
    case "workload":
      return `${scope.kind} ${scope.namespace}/${scope.name}`;
    case "namespace":
      return `namespace ${scope.namespace}`;
    case "path-prefix":
      return `Vault path prefix ${scope.prefix}`;
  }
}
