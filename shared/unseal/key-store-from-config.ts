import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/config.ts";
import { ENV } from "../config/env-vars.ts";
import type { KmsPort } from "../ports/kms.ts";
import type { KubePort } from "../ports/vault-kube.ts";
import { baseContext } from "./encryption-context.ts";
import { createFileBlobStore } from "./file-blob-store.ts";
import { createSealedKeyStore, type SealedKeyStore } from "./sealed-key-store.ts";
import { createSecretBlobStore } from "./secret-blob-store.ts";

type KeyStoreConfig = Pick<Config, "unsealKeyStore" | "unsealKeyFile" | "unsealSecretName" | "unsealSecretNamespace" | "unsealClusterId" | "unsealContext">;

/** The configured key store (Secret by default, or file) over KMS, with this cluster's context. */
export function keyStoreFromConfig(config: KeyStoreConfig, kube: KubePort, kms: KmsPort): SealedKeyStore {
  if (!config.unsealClusterId) throw new ConfigError(`${ENV.unsealClusterId} is required for the unseal key store`);
  const context = baseContext(config.unsealClusterId, config.unsealContext);
  if (config.unsealKeyStore === "file") {
    if (!config.unsealKeyFile) throw new ConfigError(`${ENV.unsealKeyFile} is required when ${ENV.unsealKeyStore}=file`);
    return createSealedKeyStore(createFileBlobStore(config.unsealKeyFile), kms, context);
  }
  return createSealedKeyStore(createSecretBlobStore(kube, config.unsealSecretNamespace, config.unsealSecretName), kms, context);
}
