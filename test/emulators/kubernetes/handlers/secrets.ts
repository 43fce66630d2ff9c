/** Secrets (spec §6): base64 data, stringData merge, key names, 1 MiB, immutable type and data. */
import { deepEqual } from "../patch.ts";
import type { ResourceHooks } from "../request.ts";
import { badRequest, forbidden, invalidValue, tooLong, type FieldError } from "../status.ts";
import type { Json, KubeObject } from "../types.ts";

const KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const MAX_SECRET_SIZE = 1048576;

/** Checks data is base64 and folds stringData into data (throws 400 like the decoder). */
export function normaliseDataMaps(obj: KubeObject, kind: string): void {
  const data: Record<string, Json> = obj.data ?? {};
  if (typeof data !== "object" || Array.isArray(data))
    throw badRequest(
      `${kind} in version "v1" cannot be handled as a ${kind}: json: cannot unmarshal ${Array.isArray(data) ? "array" : typeof data} into Go struct field ${kind}.data of type map[string][]uint8`,
    );
  for (const v of Object.values(data)) {
    if (v === null) continue;
    if (typeof v !== "string" || !BASE64.test(v)) {
      const bad = typeof v === "string" ? v.search(/[^A-Za-z0-9+/=]/) : 0;
      throw badRequest(
        `${kind} in version "v1" cannot be handled as a ${kind}: illegal base64 data at input byte ${bad >= 0 ? bad : String(v).length}`,
      );
    }
  }
  const stringData: Record<string, Json> = obj.stringData ?? {};
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), "utf8").toString("base64");
  delete obj.stringData;
  if (Object.keys(data).length > 0 || obj.data !== undefined) obj.data = data;
}

function validateSecret(obj: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) {
    if (!KEY.test(k))
      errors.push(
        invalidValue(
          `data[${k}]`,
          k,
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ),
      );
    size += Buffer.from(v ?? "", "base64").length;
  }
  if (size > MAX_SECRET_SIZE) errors.push(tooLong("data", MAX_SECRET_SIZE));
  if (old !== undefined) {
    if ((obj.type ?? "Opaque") !== (old.type ?? "Opaque"))
      errors.push(invalidValue("type", obj.type, "field is immutable"));
    if (old.immutable === true) {
      if (!deepEqual(obj.data ?? {}, old.data ?? {}))
        errors.push(forbidden("data", "field is immutable when `immutable` is set"));
      if (obj.immutable !== true) errors.push(forbidden("immutable", "field is immutable when `immutable` is set"));
    }
  }
  return errors;
}

export const secretHooks: ResourceHooks = {
  beforeCreate(_req, obj) {
    normaliseDataMaps(obj, "Secret");
    obj.type ??= "Opaque";
  },
  prepareUpdate(_req, obj) {
    normaliseDataMaps(obj, "Secret");
    obj.type ??= "Opaque";
  },
  validate(_req, obj, old) {
    return validateSecret(obj, old);
  },
};
