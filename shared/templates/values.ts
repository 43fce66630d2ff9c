/**
 * Values a template sees: JSON from Vault (objects are Go maps, arrays slices) and the Secret
 * returned by `secret`. `undefined` is Go's "no value" (a missing map key); `null` is JSON null.
 */
export class SecretValue {
  constructor(
    readonly LeaseID: string,
    readonly LeaseDuration: number,
    readonly Renewable: boolean,
    readonly Data: unknown,
    readonly Warnings: readonly string[] | null,
  ) {}
}

export type Value = unknown;

export function isMap(v: Value): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof SecretValue);
}

/** Go's template truth: false, 0, nil, and empty strings/maps/slices are false. */
export function truth(v: Value): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof SecretValue) return true;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** The Go type name used in error messages. */
export function goTypeName(v: Value): string {
  if (v === undefined || v === null) return "<nil>";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float64";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]interface {}";
  if (v instanceof SecretValue) return "*dependency.Secret";
  return "map[string]interface {}";
}
