/** Operation name (the part after `TrentService.`) → handler. */
import { createAlias, listAliases, listKeys } from "./alias-operations.ts";
import {
  decrypt,
  encrypt,
  generateDataKeyWithoutPlaintext,
  generateDataKeyWithPlaintext,
} from "./crypto-operations.ts";
import {
  cancelKeyDeletion,
  createKey,
  describeKey,
  disableKey,
  enableKey,
  scheduleKeyDeletion,
} from "./key-operations.ts";
import type { OperationHandler } from "./types.ts";

export const operations: ReadonlyMap<string, OperationHandler> = new Map([
  ["CreateKey", createKey],
  ["DescribeKey", describeKey],
  ["EnableKey", enableKey],
  ["DisableKey", disableKey],
  ["ScheduleKeyDeletion", scheduleKeyDeletion],
  ["CancelKeyDeletion", cancelKeyDeletion],
  ["CreateAlias", createAlias],
  ["ListAliases", listAliases],
  ["ListKeys", listKeys],
  ["Encrypt", encrypt],
  ["Decrypt", decrypt],
  ["GenerateDataKey", generateDataKeyWithPlaintext],
  ["GenerateDataKeyWithoutPlaintext", generateDataKeyWithoutPlaintext],
]);

export type { OperationHandler } from "./types.ts";
