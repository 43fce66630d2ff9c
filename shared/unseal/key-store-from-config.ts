import type { UnsealKeys } from "../config/unseal-config.ts";
import type { KmsPort } from "../ports/kms.ts";
import type { KubePort } from "../ports/vault-kube.ts";
import { baseContext } from "./encryption-context.ts";
import { createFileBlobStore } from "./file-blob-store.ts";
import { createSealedKeyStore, type SealedKeyStore } from "./sealed-key-store.ts";
import { createSecretBlobStore } from "./secret-blob-store.ts";

/** The configured key store (Secret by default, or file) over KMS, with this cluster's context. */
export function keyStoreFor(keys: UnsealKeys, kube: KubePort, kms: KmsPort): SealedKeyStore {
  const context = baseContext(keys.clusterId, keys.context);
  const blobs =
    keys.store.kind === "file"
      ? createFileBlobStore(keys.store.path)
      : createSecretBlobStore(kube, keys.store.namespace, keys.store.name);
  return createSealedKeyStore(blobs, kms, context);
}
