import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import type { LeaseRecord, Retiring } from "../index/pod-record.ts";
import type { PodRequest } from "../pods/pod-contract.ts";
import {
  ANNOTATION_ACCESSOR,
  ANNOTATION_ISSUED_AT,
  ANNOTATION_LEASES,
  ANNOTATION_RETIRING,
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
}

/** The per-pod Secret: owned by the pod (GC removes it), labelled with the pod UID. */
export function buildPodSecret(pod: { name: string; namespace: string; uid: string }, request: PodRequest, content: SecretContent): V1Secret {
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
        [ANNOTATION_LEASES]: JSON.stringify(content.leases.filter((l) => l.id !== "").map((l) => ({ id: l.id, file: l.file, path: l.path }))),
        [ANNOTATION_RETIRING]: JSON.stringify(content.retiring),
        [ANNOTATION_ISSUED_AT]: new Date().toISOString(),
      },
      ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid, controller: false, blockOwnerDeletion: false }],
    },
    data,
  };
}

export interface SecretRecovery {
  readonly podUid: string;
  readonly namespace: string;
  readonly name: string;
  readonly accessor: string | undefined;
  readonly leaseIds: string[];
  readonly retiring: Retiring[];
}

/** What a per-pod Secret says about the credentials it holds: enough to revoke without Redis. */
export function readSecretRecovery(secret: V1Secret): SecretRecovery | undefined {
  const uid = secret.metadata?.labels?.[LABEL_POD_UID];
  const namespace = secret.metadata?.namespace;
  const name = secret.metadata?.name;
  if (!uid || !namespace || !name) return undefined;
  const annotations = secret.metadata?.annotations ?? {};
  return {
    podUid: uid,
    namespace,
    name,
    accessor: annotations[ANNOTATION_ACCESSOR] || undefined,
    leaseIds: parseArray(annotations[ANNOTATION_LEASES]).flatMap((l) => (typeof l?.id === "string" ? [l.id] : [])),
    retiring: parseArray(annotations[ANNOTATION_RETIRING]).flatMap((r) =>
      (r?.kind === "lease" || r?.kind === "accessor") && typeof r.id === "string" ? [{ kind: r.kind, id: r.id, revokeAt: Number(r.revokeAt) || 0 }] : [],
    ),
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
