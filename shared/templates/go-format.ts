/**
 * How Go prints values: fmt's %v (what `{{ .x }}` writes) and encoding/json (toJSON,
 * toJSONPretty), so rendered files match Vault Agent's byte for byte.
 */
import { SecretValue, isMap, type Value } from "./values.ts";

/** fmt.Sprint of one value as text/template prints it; top-level nil is "<no value>". */
export function printValue(v: Value): string {
  if (v === undefined || v === null) return "<no value>";
  return formatValue(v);
}

/** fmt's %v: maps as map[k:v ...] with sorted keys, slices as [a b], nil inside them as <nil>. */
export function formatValue(v: Value): string {
  if (v === undefined || v === null) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(formatValue).join(" ")}]`;
  if (v instanceof SecretValue) {
    return `&{ ${v.LeaseID} ${v.LeaseDuration} ${v.Renewable} ${formatValue(v.Data)} ${formatValue(v.Warnings)} <nil> <nil>}`;
  }
  if (isMap(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${formatValue(v[k])}`)
      .join(" ")}]`;
  }
  return String(v);
}

/** JSON numbers reach Go templates as json.Number (their literal text); integers print without exponent. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return String(n);
}

function sortedForJson(v: Value): Value {
  if (v instanceof SecretValue) {
    return {
      request_id: "",
      lease_id: v.LeaseID,
      lease_duration: v.LeaseDuration,
      renewable: v.Renewable,
      data: sortedForJson(v.Data),
      warnings: v.Warnings,
      auth: null,
      wrap_info: null,
    };
  }
  if (Array.isArray(v)) return v.map(sortedForJson);
  if (isMap(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortedForJson(v[k]);
    return out;
  }
  return v === undefined ? null : v;
}

/** encoding/json.Marshal: sorted keys, HTML-safe escapes; MarshalIndent(v, "", "  ") when pretty. */
export function goJson(v: Value, pretty: boolean): string {
  const text = JSON.stringify(sortedForJson(v), null, pretty ? 2 : undefined) ?? "null";
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
