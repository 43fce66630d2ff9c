import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import type { LeaseRecord, Retiring } from "../index/pod-record.ts";
import type { PodRequest } from "../pods/pod-contract.ts";
import {
  ANNOTATION_ACCESSOR,
  ANNOTATION_ISSUED_AT,
  ANNOTATION_LEASES,
  ANNOTATION_RETIRING,
  FINALIZER_REVOKE,
  LABEL_MANAGED,
  LABEL_POD_NAME,
  LABEL_POD_UID,
} from "./labels.ts";

export interface SecretContent {
  readonly accessor: string;
  readonly leases: readonly LeaseRecord[];
  readonly retiring: readonly Retiring[];
  /** file name → rendered content */
  readonly files: Readonly<Record<string, string>>;
  /** Tags a lease id for this pod (SealBox.tag bound to leaseTagContext), so a revoke can trust it later. */
  readonly tagLease: (leaseId: string) => string;
}

/** What a lease id's tag in a per-pod Secret is bound to: that pod, in that namespace. */
export function leaseTagContext(pod: { namespace: string; uid: string }): string {
  return `lease:${pod.namespace}/${pod.uid}`;
}

/**
 * The per-pod Secret: owned by the pod (GC removes it), labelled with the pod UID, and held by
 * FINALIZER_REVOKE until the revoke job has revoked what it names.
 */
export function buildPodSecret(
  pod: { name: string; namespace: string; uid: string },
  request: PodRequest,
  content: SecretContent,
): V1Secret {
  const data: Record<string, string> = {};
  for (const [file, value] of Object.entries(content.files)) data[file] = Buffer.from(value, "utf8").toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: request.secretName,
      namespace: pod.namespace,
      labels: {
        [LABEL_MANAGED]: "true",
        [LABEL_POD_UID]: pod.uid,
        [LABEL_POD_NAME]: pod.name.length <= 63 ? pod.name : pod.name.slice(0, 63).replace(/[-._]+$/, ""),
      },
      annotations: {
        [ANNOTATION_ACCESSOR]: content.accessor,
        [ANNOTATION_LEASES]: JSON.stringify(
          content.leases
            .filter((l) => l.id !== "")
            .map((l) => ({ id: l.id, file: l.file, path: l.path, tag: content.tagLease(l.id) })),
        ),
        [ANNOTATION_RETIRING]: JSON.stringify(
          content.retiring.map((r) => (r.kind === "lease" ? { ...r, tag: content.tagLease(r.id) } : r)),
        ),
        [ANNOTATION_ISSUED_AT]: new Date().toISOString(),
      },
      ownerReferences: [
        { apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid, controller: false, blockOwnerDeletion: false },
      ],
      finalizers: [FINALIZER_REVOKE],
    },
    data,
  };
}

/**
 * The finalizers a replacement of `existing` carries: whatever others set is kept; ours is added
 * unless the Secret is being deleted already (the API server refuses new finalizers then).
 */
export function mergedFinalizers(existing: V1Secret): string[] {
  const current = existing.metadata?.finalizers ?? [];
  if (current.includes(FINALIZER_REVOKE) || existing.metadata?.deletionTimestamp) return [...current];
  return [...current, FINALIZER_REVOKE];
}

/** Whether the Secret is held by leasekeeper's finalizer. */
export function holdsRevokeFinalizer(secret: { metadata?: { finalizers?: string[] } }): boolean {
  return (secret.metadata?.finalizers ?? []).includes(FINALIZER_REVOKE);
}

/** A lease id as a Secret's annotations give it: untrusted until its tag verifies (workers/trusted-ids.ts). */
export interface AnnotatedLease {
  readonly id: string;
  /** In the Secret's files now (false: replaced by a rotation, retiring after the grace). */
  readonly current: boolean;
  readonly file: string;
  readonly path: string;
  readonly tag: string | undefined;
}

/**
 * The Secret is this pod's: in the pod's namespace, labelled with its UID and owned by it
 * (ownerReference). Anything else — a name someone else claimed first, a Secret in another
 * namespace carrying the pod's UID — is never adopted, overwritten, trusted for recovery or deleted.
 */
export function isPodsSecret(secret: V1Secret | undefined, pod: { namespace: string; uid: string }): boolean {
  const m = secret?.metadata;
  if (!m || m.namespace !== pod.namespace || m.labels?.[LABEL_POD_UID] !== pod.uid) return false;
  return (m.ownerReferences ?? []).some((r) => r.apiVersion === "v1" && r.kind === "Pod" && r.uid === pod.uid);
}

/**
 * Ids read from one Secret's annotations, at most. Anyone who may edit Secrets can write them, and
 * each accessor costs a Vault lookup; leasekeeper itself keeps far fewer (one per rotation grace).
 */
export const MAX_RECOVERY_IDS = 16;

export interface SecretRecovery {
  readonly podUid: string;
  readonly namespace: string;
  readonly name: string;
  readonly accessor: string | undefined;
  readonly leases: AnnotatedLease[];
  readonly retiring: Retiring[];
  /** Entries beyond MAX_RECOVERY_IDS that were ignored (the caller logs the count, never the ids). */
  readonly dropped: number;
}

/** What a per-pod Secret says about the credentials it holds: enough to revoke without Redis. */
export function readSecretRecovery(secret: V1Secret): SecretRecovery | undefined {
  const uid = secret.metadata?.labels?.[LABEL_POD_UID];
  const namespace = secret.metadata?.namespace;
  const name = secret.metadata?.name;
  if (!uid || !namespace || !name) return undefined;
  const annotations = secret.metadata?.annotations ?? {};
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const retiringRaw = parseArray(annotations[ANNOTATION_RETIRING]);
  const leases: AnnotatedLease[] = [
    ...parseArray(annotations[ANNOTATION_LEASES]).flatMap((l) =>
      typeof l?.id === "string" && l.id !== ""
        ? [{ id: l.id, current: true, file: str(l.file) ?? "", path: str(l.path) ?? "", tag: str(l.tag) }]
        : [],
    ),
    ...retiringRaw.flatMap((r) =>
      r?.kind === "lease" && typeof r.id === "string" && r.id !== ""
        ? [{ id: r.id, current: false, file: "", path: "", tag: str(r.tag) }]
        : [],
    ),
  ];
  const retiring: Retiring[] = retiringRaw.flatMap((r) =>
    (r?.kind === "lease" || r?.kind === "accessor") && typeof r.id === "string"
      ? [{ kind: r.kind, id: r.id, revokeAt: Number(r.revokeAt) || 0 }]
      : [],
  );
  return {
    podUid: uid,
    namespace,
    name,
    accessor: annotations[ANNOTATION_ACCESSOR] || undefined,
    leases: leases.slice(0, MAX_RECOVERY_IDS),
    retiring: retiring.slice(0, MAX_RECOVERY_IDS),
    dropped: Math.max(0, leases.length - MAX_RECOVERY_IDS) + Math.max(0, retiring.length - MAX_RECOVERY_IDS),
  };
}

export function podServiceAccount(pod: V1Pod): string {
  return pod.spec?.serviceAccountName || "default";
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function parseArray(raw: string | undefined): any[] {
  if (!raw) return [];
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}
