/**
 * The small interfaces through which workers and functions reach the outside. Only the
 * entry point builds the real implementations (node-vault, client-node, client-kms).
 */
import type { V1ObjectMeta, V1Pod, V1Secret } from "@kubernetes/client-node";

export interface VaultAuth {
  readonly token: string;
  readonly accessor: string;
  readonly ttlSeconds: number;
  readonly renewable: boolean;
}

export interface VaultSecret {
  /** Empty for secrets without a lease (KV). */
  readonly leaseId: string;
  readonly leaseDurationSeconds: number;
  readonly renewable: boolean;
  readonly data: unknown;
}

export interface LeaseRenewal {
  readonly ttlSeconds: number;
  readonly renewable: boolean;
}

export interface SealStatus {
  readonly initialized: boolean;
  readonly sealed: boolean;
  readonly progress: number;
  readonly threshold: number;
}

export interface VaultPort {
  /** Logs in with the pod's service-account JWT; the token returned is the pod's own. */
  kubernetesLogin(authPath: string, role: string, jwt: string): Promise<VaultAuth>;
  /** Reads a secret with the pod's token, so Vault policy decides and the lease is a child of it. */
  readSecret(podToken: string, path: string): Promise<VaultSecret>;
  /** Writes with parameters and reads the answer (e.g. pki/issue/<role>), with the pod's token. */
  writeSecret(podToken: string, path: string, params: Readonly<Record<string, string>>): Promise<VaultSecret>;
  /** Renews the pod token with itself (renew-self). */
  renewSelf(podToken: string, incrementSeconds: number): Promise<VaultAuth>;
  /** Lifecycle calls with the controller's own token. */
  renewLease(leaseId: string, incrementSeconds: number): Promise<LeaseRenewal>;
  revokeLease(leaseId: string): Promise<void>;
  revokeAccessor(accessor: string): Promise<void>;
  /** The metadata of the token behind an accessor (Kubernetes auth: service_account_namespace, …); undefined when unknown. */
  lookupAccessor(accessor: string): Promise<Readonly<Record<string, string>> | undefined>;
  sealStatus(): Promise<SealStatus>;
}

export interface PodTokenRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly podName: string;
  readonly podUid: string;
  readonly audience: string;
  readonly expirationSeconds: number;
}

export interface PodEvent {
  readonly reason: string;
  readonly message: string;
  readonly type: "Normal" | "Warning";
}

/** What an Event is about: a pod, or a namespace (e.g. for a pod that is already gone). */
export type EventSubject =
  | { readonly kind?: "Pod"; readonly namespace: string; readonly name: string; readonly uid: string }
  | { readonly kind: "Namespace"; readonly namespace: string };

/** An object as a metadata-only list gives it (meta.k8s.io PartialObjectMetadata). */
export interface ObjectMetadata {
  readonly metadata: V1ObjectMeta;
}

export interface KubePort {
  readPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  listPods(namespaces: readonly string[]): Promise<V1Pod[]>;
  requestPodToken(request: PodTokenRequest): Promise<string>;
  /**
   * TokenReview of a token for an audience: whether the API server authenticates it. Throws
   * (RetryLaterError) when the API server cannot answer (5xx, 429, unreachable), which is what
   * tells a Vault login 403 caused by Vault's own failed TokenReview from a real refusal.
   */
  reviewToken(token: string, audience: string): Promise<boolean>;
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  createSecret(namespace: string, secret: V1Secret): Promise<V1Secret>;
  replaceSecret(namespace: string, name: string, secret: V1Secret): Promise<V1Secret>;
  /** Deletes the Secret; one held by a finalizer stays, with a deletionTimestamp, until the finalizer goes. */
  deleteSecret(namespace: string, name: string): Promise<void>;
  /**
   * Removes leasekeeper's finalizer (FINALIZER_REVOKE) from the Secret with this UID; a Secret
   * being deleted goes once no finalizer is left. Nothing to do (gone, another UID, no such
   * finalizer) is fine.
   */
  releaseSecret(namespace: string, name: string, uid: string): Promise<void>;
  /**
   * Secrets labelled as leasekeeper's, optionally only those of one pod UID: their metadata only
   * (labels, annotations, ownerReferences; never `data`).
   */
  listManagedSecrets(namespaces: readonly string[], podUid?: string): Promise<ObjectMetadata[]>;
  recordEvent(subject: EventSubject, event: PodEvent): Promise<void>;
}
