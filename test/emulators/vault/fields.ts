/** Typed readers of request data with Vault's framework error text for wrong types. */
import { badRequest } from "./errors.ts";
import { parseDurationSeconds } from "./durations.ts";
import type { Data } from "./types.ts";

function conversionError(key: string, value: unknown, reason: string): Error {
  const shown = typeof value === "string" ? value : JSON.stringify(value);
  return badRequest(`error converting input ${shown} for field "${key}": ${reason}`);
}

export function optString(d: Data, key: string): string | undefined {
  const v = d[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw conversionError(key, v, "expected a string");
}

export function optBool(d: Data, key: string): boolean | undefined {
  const v = d[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "1" || v === 1) return true;
  if (v === "false" || v === "0" || v === 0 || v === "") return false;
  throw conversionError(key, v, "cannot parse as bool");
}

export function optInt(d: Data, key: string): number | undefined {
  const v = d[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  throw conversionError(key, v, "cannot parse as int");
}

export function optDuration(d: Data, key: string): number | undefined {
  const v = d[key];
  if (v === undefined || v === null) return undefined;
  const seconds = parseDurationSeconds(v);
  if (seconds === null) throw conversionError(key, v, `time: invalid duration "${String(v)}"`);
  return seconds;
}

/** Vault's TypeCommaStringSlice: a JSON list or a comma-separated string. */
export function optStrings(d: Data, key: string): string[] | undefined {
  const v = d[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string")
    return v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  if (Array.isArray(v) && v.every((x) => typeof x === "string" || typeof x === "number")) {
    return v.map((x) => String(x).trim()).filter((s) => s !== "");
  }
  throw conversionError(key, v, "expected a list of strings");
}

export function optObject(d: Data, key: string): Data | undefined {
  const v = d[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "object" && !Array.isArray(v)) return v as Data;
  throw conversionError(key, v, "expected a map");
}

export function optStringMap(d: Data, key: string): Record<string, string> | undefined {
  const obj = optObject(d, key);
  if (obj === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== "string") throw conversionError(key, obj, "expected a map of strings");
    out[k] = v;
  }
  return out;
}

/** Vault's policy list sanitising: trim, lower-case, de-duplicate, sort. */
export function sanitizePolicies(list: string[], addDefault: boolean): string[] {
  const set = new Set(list.map((p) => p.trim().toLowerCase()).filter((p) => p !== ""));
  if (set.has("root")) return ["root"];
  if (addDefault) set.add("default");
  return [...set].sort();
}
