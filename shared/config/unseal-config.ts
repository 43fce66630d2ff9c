import type { z } from "zod";
import type { EncryptionContext } from "../ports/kms.ts";

/** Where the KMS-encrypted unseal shares live and how they are bound: complete, or absent. */
export interface UnsealKeys {
  readonly kms: { readonly keyId: string; readonly region: string | undefined; readonly endpoint: string | undefined };
  readonly clusterId: string;
  /** Extra encryption-context pairs beside cluster=<id>. */
  readonly context: EncryptionContext;
  readonly store:
    | { readonly kind: "secret"; readonly namespace: string; readonly name: string }
    | { readonly kind: "file"; readonly path: string };
}

export type AutoInit =
  | { readonly enabled: false }
  | { readonly enabled: true; readonly shares: number; readonly threshold: number; readonly storeRootToken: boolean };

/** LEASEKEEPER_UNSEAL=true: the type carries that every setting it needs is present. */
export interface UnsealEnabled {
  readonly enabled: true;
  readonly keys: UnsealKeys;
  /** Replica addresses from configuration; empty: Vault pods found by namespace and selector. */
  readonly replicas: readonly string[];
  readonly pods: {
    readonly namespace: string;
    readonly selector: string;
    readonly port: number;
    readonly scheme: "http" | "https";
  };
  readonly caCertFile: string | undefined;
  /** LEASEKEEPER_VAULT_TLS_SERVER_NAME: the certificate name checked when dialling pod IPs over https. */
  readonly tlsServerName: string | undefined;
  readonly sweepSeconds: number;
  readonly concurrency: number;
  readonly retries: number;
  readonly autoInit: AutoInit;
}

export type UnsealConfig = { readonly enabled: false } | UnsealEnabled;

/** The flat fields as parsed from the environment (shared/config/env-vars.ts names them). */
export interface UnsealFields {
  unsealEnabled: boolean;
  kmsKeyId?: string | undefined;
  kmsRegion?: string | undefined;
  kmsEndpoint?: string | undefined;
  unsealClusterId?: string | undefined;
  unsealContext: Record<string, string>;
  unsealKeyStore: "secret" | "file";
  unsealSecretName: string;
  unsealSecretNamespace: string;
  unsealKeyFile?: string | undefined;
  vaultReplicas: string[];
  vaultPodNamespace: string;
  vaultPodSelector: string;
  vaultPodPort: number;
  vaultPodScheme: "http" | "https";
  vaultCaCertFile?: string | undefined;
  vaultTlsServerName?: string | undefined;
  unsealSweepSeconds: number;
  unsealConcurrency: number;
  unsealRetries: number;
  unsealAutoInit: boolean;
  unsealInitShares: number;
  unsealInitThreshold: number;
  unsealStoreRootToken: boolean;
}

/** Which key settings are missing (field names, so the message names the variables). */
export function missingKeyFields(value: UnsealFields): (keyof UnsealFields)[] {
  const missing: (keyof UnsealFields)[] = [];
  if (!value.kmsKeyId) missing.push("kmsKeyId");
  if (!value.unsealClusterId) missing.push("unsealClusterId");
  if (value.unsealKeyStore === "file" && !value.unsealKeyFile) missing.push("unsealKeyFile");
  return missing;
}

/** Cross-field rules: one place. Issues name the field, so the message names the variable. */
export function checkUnsealFields(value: UnsealFields, ctx: z.RefinementCtx): void {
  const need = (field: keyof UnsealFields, message: string) => ctx.addIssue({ code: "custom", path: [field], message });
  if (value.unsealEnabled) {
    for (const field of missingKeyFields(value))
      need(field, `required when LEASEKEEPER_UNSEAL=true (${WHY[field] ?? "unseal key store"})`);
  } else if (value.unsealKeyStore === "file" && !value.unsealKeyFile) {
    need("unsealKeyFile", "required when LEASEKEEPER_UNSEAL_KEY_STORE=file");
  }
  if (value.unsealAutoInit) {
    if (value.unsealInitThreshold > value.unsealInitShares)
      need("unsealInitThreshold", "cannot be larger than LEASEKEEPER_UNSEAL_INIT_SHARES");
    if (value.unsealInitShares > 1 && value.unsealInitThreshold < 2)
      need("unsealInitThreshold", "must be at least 2 when there are several shares");
  }
}

const WHY: Partial<Record<keyof UnsealFields, string>> = {
  kmsKeyId: "key id, ARN or alias/...",
  unsealClusterId: "binds the KMS encryption context to this cluster",
  unsealKeyFile: "LEASEKEEPER_UNSEAL_KEY_STORE=file",
};

/** The key settings when complete (the keys CLI needs them even with unseal off). */
export function unsealKeysOf(value: UnsealFields): UnsealKeys | undefined {
  if (!value.kmsKeyId || !value.unsealClusterId || missingKeyFields(value).length > 0) return undefined;
  return {
    kms: { keyId: value.kmsKeyId, region: value.kmsRegion, endpoint: value.kmsEndpoint },
    clusterId: value.unsealClusterId,
    context: value.unsealContext,
    store:
      value.unsealKeyStore === "file" && value.unsealKeyFile
        ? { kind: "file", path: value.unsealKeyFile }
        : { kind: "secret", namespace: value.unsealSecretNamespace, name: value.unsealSecretName },
  };
}

/** The unseal section as the code uses it (after checkUnsealFields passed). */
export function unsealConfigOf(value: UnsealFields): UnsealConfig {
  const keys = unsealKeysOf(value);
  if (!value.unsealEnabled || !keys) return { enabled: false };
  return {
    enabled: true,
    keys,
    replicas: value.vaultReplicas,
    pods: {
      namespace: value.vaultPodNamespace,
      selector: value.vaultPodSelector,
      port: value.vaultPodPort,
      scheme: value.vaultPodScheme,
    },
    caCertFile: value.vaultCaCertFile,
    tlsServerName: value.vaultTlsServerName,
    sweepSeconds: value.unsealSweepSeconds,
    concurrency: value.unsealConcurrency,
    retries: value.unsealRetries,
    autoInit: value.unsealAutoInit
      ? {
          enabled: true,
          shares: value.unsealInitShares,
          threshold: value.unsealInitThreshold,
          storeRootToken: value.unsealStoreRootToken,
        }
      : { enabled: false },
  };
}
