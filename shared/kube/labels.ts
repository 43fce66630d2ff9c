/** Labels and annotations leasekeeper writes on the per-pod Secret. */
export const LABEL_MANAGED = "leasekeeper.io/managed";
export const LABEL_POD_UID = "leasekeeper.io/pod-uid";
export const LABEL_POD_NAME = "leasekeeper.io/pod-name";
export const ANNOTATION_ACCESSOR = "leasekeeper.io/token-accessor";
export const ANNOTATION_LEASES = "leasekeeper.io/lease-ids";
export const ANNOTATION_RETIRING = "leasekeeper.io/retiring";
export const ANNOTATION_ISSUED_AT = "leasekeeper.io/issued-at";
/**
 * Finalizer on the per-pod Secret: its deletion (the garbage collector's, once the pod is gone)
 * waits until leasekeeper has revoked the credentials it names, so a lost index never lets a
 * pod's credentials outlive it.
 */
export const FINALIZER_REVOKE = "leasekeeper.io/revoke";
