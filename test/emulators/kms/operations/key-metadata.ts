/** The `KeyMetadata` structure returned by CreateKey and DescribeKey (spec A5). */
import type { KeyStore, KmsKey } from "../key-store.ts";
import type { JsonObject } from "../request-input.ts";
import { epochSeconds } from "./types.ts";

export function keyMetadata(key: KmsKey, store: KeyStore): JsonObject {
  return {
    AWSAccountId: store.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: epochSeconds(key.creationDate),
    Enabled: key.state === "Enabled",
    Description: key.description,
    KeyUsage: "ENCRYPT_DECRYPT",
    KeyState: key.state,
    ...(key.deletionDate === undefined ? {} : { DeletionDate: epochSeconds(key.deletionDate) }),
    ...(key.pendingWindowInDays === undefined ? {} : { PendingDeletionWindowInDays: key.pendingWindowInDays }),
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
    KeySpec: "SYMMETRIC_DEFAULT",
    EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    MultiRegion: false,
  };
}
