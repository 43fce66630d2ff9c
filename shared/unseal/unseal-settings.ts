import type { z } from "zod";

/** The config fields the cross-field unseal checks read (see shared/config/config.ts). */
interface UnsealFields {
  unsealEnabled: boolean;
  kmsKeyId?: string | undefined;
  unsealClusterId?: string | undefined;
  unsealKeyStore: "secret" | "file";
  unsealKeyFile?: string | undefined;
  unsealAutoInit: boolean;
  unsealInitShares: number;
  unsealInitThreshold: number;
}

/** Cross-field rules of the unseal settings; issues name the field, so the message names the variable. */
export function checkUnsealFields(value: UnsealFields, ctx: z.RefinementCtx): void {
  const need = (field: keyof UnsealFields, message: string) => ctx.addIssue({ code: "custom", path: [field], message });
  if (value.unsealEnabled) {
    if (!value.kmsKeyId) need("kmsKeyId", "required when LEASEKEEPER_UNSEAL=true (key id, ARN or alias/...)");
    if (!value.unsealClusterId) need("unsealClusterId", "required when LEASEKEEPER_UNSEAL=true (binds the KMS encryption context to this cluster)");
  }
  if (value.unsealKeyStore === "file" && !value.unsealKeyFile) need("unsealKeyFile", "required when LEASEKEEPER_UNSEAL_KEY_STORE=file");
  if (value.unsealAutoInit) {
    if (value.unsealInitThreshold > value.unsealInitShares) need("unsealInitThreshold", "cannot be larger than LEASEKEEPER_UNSEAL_INIT_SHARES");
    if (value.unsealInitShares > 1 && value.unsealInitThreshold < 2) need("unsealInitThreshold", "must be at least 2 when there are several shares");
  }
}
