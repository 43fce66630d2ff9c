/** Random identifiers in Vault's shapes: base62 lease ids, tokens, accessors. */
import { randomBytes, randomInt } from "node:crypto";

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function base62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** Root token from sys/init: short `hvs.` form. */
export function rootTokenId(): string {
  return `hvs.${base62(24)}`;
}

/** Login / token-store service tokens: long "server side consistent" form (opaque). */
export function serviceTokenId(): string {
  return `hvs.CAESI${base62(86)}`;
}

/** Batch tokens (vault/token_store.go `create`): `hvb.` + base64url of the encrypted entry (opaque). */
export function batchTokenId(): string {
  return `hvb.AAAAAQ${randomBytes(96).toString("base64url")}`;
}

export function accessorId(): string {
  return base62(24);
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

export function pick(chars: string): string {
  return chars[randomInt(chars.length)] ?? "";
}
