/** Shared shapes of the Kubernetes emulator. Objects are plain JSON, as on the wire. */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: Json;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** One stored change; `old` is the previous state (absent for ADDED). */
export interface ChangeEvent {
  rv: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  resource: string; // registry key, e.g. "pods" or "coordination.k8s.io/leases"
  namespace: string;
  object: KubeObject;
  old?: KubeObject;
}

/** Who made a request, after authentication. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What an authorizer is asked; mirrors SubjectAccessReview resourceAttributes. */
export interface AuthzAttributes {
  user: UserInfo;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface AuthzDecision {
  allowed: boolean;
  reason?: string;
}

export type Authorizer = (attrs: AuthzAttributes) => AuthzDecision;

export interface KubernetesEmulatorOptions {
  /** Port to listen on; a free loopback port when omitted. */
  port?: number;
  /** Grace used for pod deletes that give none, capped by the pod's terminationGracePeriodSeconds. Default 1. */
  podGraceSeconds?: number;
  /** Schedule and run pods by themselves (fake scheduler + kubelet). Default true. */
  autoRunPods?: boolean;
  /** Delay of the fake scheduler/kubelet steps. Default 50 ms. */
  podStartDelayMs?: number;
  /** Delay before the garbage collector deletes dependents of a removed owner. Default 100 ms. */
  gcDelayMs?: number;
  /** How many change events the watch history keeps before older RVs become 410. Default 1000. */
  historyLimit?: number;
  /** Period of BOOKMARK events on watches that allow them. Default 60000 ms (like kube-apiserver). */
  bookmarkIntervalMs?: number;
  /**
   * Let requests without an Authorization header in as `system:anonymous` (like kube-apiserver's
   * --anonymous-auth=true); the authorizer then decides. Needed for kubectl: client-go never sends
   * credentials to a plain-http server. A present but invalid token is still a 401. Default false.
   */
  anonymousAuth?: boolean;
  /**
   * Run the ReplicaSet and Deployment controllers (Deployment → ReplicaSet → Pods, scaling, rollouts,
   * status). Default false, so objects placed with control.put stay as written.
   */
  workloadControllers?: boolean;
  /** Admin bearer token; random when omitted. */
  adminToken?: string;
}
