/** Key lifecycle: CreateKey, DescribeKey, EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion. */
import { KmsError } from "../errors.ts";
import { resolveKey } from "../key-resolver.ts";
import type { KmsKey } from "../key-store.ts";
import { keyMetadata } from "./key-metadata.ts";
import { epochSeconds, type OperationHandler } from "./types.ts";

const DAY_MS = 86_400_000;

function unsupported(member: string, value: string): KmsError {
  return new KmsError(
    "UnsupportedOperationException",
    `${member} ${value} is not supported by the leasekeeper KMS emulator (symmetric ENCRYPT_DECRYPT keys only)`,
  );
}

function pendingDeletion(key: KmsKey): KmsError {
  return new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
}

export const createKey: OperationHandler = (input, store) => {
  const description = input.string("Description", { min: 0, max: 8192 });
  input.string("Policy", { max: 131072 });
  const keyUsage = input.string("KeyUsage", {
    oneOf: ["SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"],
  });
  const keySpec = input.string("KeySpec") ?? input.string("CustomerMasterKeySpec");
  const origin = input.string("Origin");
  input.done();
  if (keyUsage !== undefined && keyUsage !== "ENCRYPT_DECRYPT") throw unsupported("KeyUsage", keyUsage);
  if (keySpec !== undefined && keySpec !== "SYMMETRIC_DEFAULT") throw unsupported("KeySpec", keySpec);
  if (origin !== undefined && origin !== "AWS_KMS") throw unsupported("Origin", origin);
  return { KeyMetadata: keyMetadata(store.createKey(description), store) };
};

export const describeKey: OperationHandler = (input, store) => {
  const keyId = input.string("KeyId", { required: true, max: 2048 });
  input.done();
  return { KeyMetadata: keyMetadata(resolveKey(store, keyId ?? "", { allowAlias: true }), store) };
};

export const enableKey: OperationHandler = (input, store) => {
  const keyId = input.string("KeyId", { required: true, max: 2048 });
  input.done();
  const key = resolveKey(store, keyId ?? "", { allowAlias: false });
  if (key.state === "PendingDeletion") throw pendingDeletion(key);
  key.state = "Enabled";
  return {};
};

export const disableKey: OperationHandler = (input, store) => {
  const keyId = input.string("KeyId", { required: true, max: 2048 });
  input.done();
  const key = resolveKey(store, keyId ?? "", { allowAlias: false });
  if (key.state === "PendingDeletion") throw pendingDeletion(key);
  key.state = "Disabled";
  return {};
};

export const scheduleKeyDeletion: OperationHandler = (input, store) => {
  const keyId = input.string("KeyId", { required: true, max: 2048 });
  const days = input.integer("PendingWindowInDays", { min: 7, max: 30 }) ?? 30;
  input.done();
  const key = resolveKey(store, keyId ?? "", { allowAlias: false });
  if (key.state === "PendingDeletion") throw pendingDeletion(key);
  key.state = "PendingDeletion";
  key.pendingWindowInDays = days;
  key.deletionDate = new Date(Date.now() + days * DAY_MS);
  return {
    KeyId: key.arn,
    DeletionDate: epochSeconds(key.deletionDate),
    KeyState: key.state,
    PendingWindowInDays: days,
  };
};

/** Real KMS leaves a key Disabled after its deletion is cancelled. */
export const cancelKeyDeletion: OperationHandler = (input, store) => {
  const keyId = input.string("KeyId", { required: true, max: 2048 });
  input.done();
  const key = resolveKey(store, keyId ?? "", { allowAlias: false });
  if (key.state !== "PendingDeletion") {
    throw new KmsError("KMSInvalidStateException", `${key.arn} is not pending deletion.`);
  }
  key.state = "Disabled";
  delete key.deletionDate;
  delete key.pendingWindowInDays;
  return { KeyId: key.arn };
};
