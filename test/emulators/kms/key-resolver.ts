/**
 * Resolves the four KeyId forms (key id, key ARN, alias name, alias ARN) to a key, and
 * checks that a key's state allows cryptographic use (spec A4, A7).
 */
import { KmsError, notFound } from "./errors.ts";
import type { KeyStore, KmsKey } from "./key-store.ts";

const KEY_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

interface ParsedArn {
  region: string;
  accountId: string;
  resource: string;
}

function parseArn(value: string): ParsedArn | undefined {
  const parts = value.split(":");
  if (parts.length < 6 || parts[0] !== "arn" || parts[2] !== "kms") return undefined;
  return { region: parts[3] ?? "", accountId: parts[4] ?? "", resource: parts.slice(5).join(":") };
}

function keyById(store: KeyStore, keyId: string, shownAs: string): KmsKey {
  if (!KEY_ID.test(keyId)) throw notFound(`Invalid keyId '${shownAs}'`);
  const key = store.getKey(keyId);
  if (key === undefined) throw notFound(`Key '${store.keyArn(keyId)}' does not exist`);
  return key;
}

function keyByAlias(store: KeyStore, aliasName: string): KmsKey {
  const alias = store.getAlias(aliasName);
  const key = alias === undefined ? undefined : store.getKey(alias.targetKeyId);
  if (key === undefined) throw notFound(`Alias ${store.aliasArn(aliasName)} is not found.`);
  return key;
}

/** `allowAlias: false` for members that take only a key id or key ARN (CreateAlias, ListAliases). */
export function resolveKey(store: KeyStore, value: string, options: { allowAlias: boolean }): KmsKey {
  if (value.startsWith("arn:")) {
    const arn = parseArn(value);
    if (arn === undefined) throw notFound(`Invalid arn ${value}`);
    if (arn.region !== store.region) throw notFound(`Invalid arn ${arn.region}`);
    if (arn.resource.startsWith("key/")) {
      if (arn.accountId !== store.accountId) throw notFound(`Key '${value}' does not exist`);
      return keyById(store, arn.resource.slice("key/".length), value);
    }
    if (arn.resource.startsWith("alias/") && options.allowAlias) {
      if (arn.accountId !== store.accountId) throw notFound(`Alias ${value} is not found.`);
      return keyByAlias(store, arn.resource);
    }
    throw notFound(`Invalid arn ${value}`);
  }
  if (value.startsWith("alias/")) {
    if (!options.allowAlias) throw notFound(`Invalid keyId '${value}'`);
    return keyByAlias(store, value);
  }
  return keyById(store, value, value);
}

/** Disabled → DisabledException; PendingDeletion → KMSInvalidStateException. */
export function assertUsable(key: KmsKey): void {
  switch (key.state) {
    case "Enabled":
      return;
    case "Disabled":
      throw new KmsError("DisabledException", `${key.arn} is disabled.`);
    case "PendingDeletion":
      throw new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
  }
}
