/** CreateAlias, ListAliases and ListKeys. */
import { KmsError } from "../errors.ts";
import { resolveKey } from "../key-resolver.ts";
import { paginate } from "./paginate.ts";
import { epochSeconds, type OperationHandler } from "./types.ts";

const ALIAS_PATTERN = /^[a-zA-Z0-9:/_-]+$/;

export const createAlias: OperationHandler = (input, store) => {
  const aliasName = input.string("AliasName", { required: true, max: 256, pattern: ALIAS_PATTERN });
  const targetKeyId = input.string("TargetKeyId", { required: true, max: 2048 });
  input.done();
  const name = aliasName ?? "";
  if (!name.startsWith("alias/")) {
    throw new KmsError(
      "ValidationException",
      'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    );
  }
  if (name.startsWith("alias/aws/")) throw new KmsError("NotAuthorizedException", "");
  const target = targetKeyId ?? "";
  if (target.startsWith("alias/") || /^arn:[^:]*:kms:[^:]*:[^:]*:alias\//.test(target)) {
    throw new KmsError("ValidationException", "Aliases must refer to keys. Not aliases");
  }
  const key = resolveKey(store, target, { allowAlias: false });
  if (key.state === "PendingDeletion") {
    throw new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
  }
  store.addAlias(name, key.keyId);
  return {};
};

export const listAliases: OperationHandler = (input, store) => {
  const keyId = input.string("KeyId", { max: 2048 });
  const limit = input.integer("Limit", { min: 1, max: 100 }) ?? 50;
  const marker = input.string("Marker", { max: 1024 });
  input.done();
  const filterKey = keyId === undefined ? undefined : resolveKey(store, keyId, { allowAlias: false }).keyId;
  const aliases = store.listAliases().filter((alias) => filterKey === undefined || alias.targetKeyId === filterKey);
  const { page, more } = paginate(aliases, (alias) => alias.name, limit, marker);
  return {
    Aliases: page.map((alias) => ({
      AliasName: alias.name,
      AliasArn: alias.arn,
      TargetKeyId: alias.targetKeyId,
      CreationDate: epochSeconds(alias.creationDate),
      LastUpdatedDate: epochSeconds(alias.lastUpdatedDate),
    })),
    ...more,
  };
};

export const listKeys: OperationHandler = (input, store) => {
  const limit = input.integer("Limit", { min: 1, max: 1000 }) ?? 100;
  const marker = input.string("Marker", { max: 1024 });
  input.done();
  const { page, more } = paginate(store.listKeys(), (key) => key.keyId, limit, marker);
  return { Keys: page.map((key) => ({ KeyId: key.keyId, KeyArn: key.arn })), ...more };
};
