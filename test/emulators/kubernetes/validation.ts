/** ObjectMeta validation shared by every resource (names, labels, ownerReferences, finalizers). */
import { forbidden, invalidValue, required, type FieldError } from "./status.ts";
import type { KubeObject } from "./types.ts";

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export function validateName(name: string, field = "metadata.name"): FieldError[] {
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return [
      invalidValue(
        field,
        name,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ),
    ];
  }
  return [];
}

function validateLabels(labels: unknown): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== "object" || Array.isArray(labels))
    return [invalidValue("metadata.labels", labels, "must be a map of strings")];
  const errors: FieldError[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    const name = k.includes("/") ? k.slice(k.indexOf("/") + 1) : k;
    if (name.length > 63 || !LABEL_NAME.test(name))
      errors.push(
        invalidValue(
          "metadata.labels",
          k,
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    if (typeof v !== "string" || (v !== "" && (v.length > 63 || !LABEL_NAME.test(v))))
      errors.push(
        invalidValue(
          "metadata.labels",
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
  }
  return errors;
}

function validateOwnerReferences(obj: KubeObject): FieldError[] {
  const refs = obj.metadata.ownerReferences;
  if (refs === undefined) return [];
  if (!Array.isArray(refs)) return [invalidValue("metadata.ownerReferences", refs, "must be a list")];
  const errors: FieldError[] = [];
  refs.forEach((ref, i) => {
    const f = `metadata.ownerReferences[${i}]`;
    if (typeof ref.apiVersion !== "string" || ref.apiVersion === "")
      errors.push(invalidValue(`${f}.apiVersion`, ref.apiVersion ?? "", "version must not be empty"));
    if (typeof ref.kind !== "string" || ref.kind === "")
      errors.push(invalidValue(`${f}.kind`, ref.kind ?? "", "kind must not be empty"));
    if (typeof ref.name !== "string" || ref.name === "")
      errors.push(invalidValue(`${f}.name`, ref.name ?? "", "name must not be empty"));
    if (typeof ref.uid !== "string" || ref.uid === "")
      errors.push(invalidValue(`${f}.uid`, ref.uid ?? "", "uid must not be empty"));
  });
  const controllers = refs.filter((r) => r.controller === true);
  if (controllers.length > 1) {
    errors.push(
      invalidValue(
        "metadata.ownerReferences",
        refs,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.map((c) => `${c.kind}/${c.name}`).join(" and ")}`,
      ),
    );
  }
  return errors;
}

export function validateMeta(obj: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const name = obj.metadata.name ?? "";
  if (name === "") errors.push(required("metadata.name", "name or generateName is required"));
  else errors.push(...validateName(name));
  errors.push(...validateLabels(obj.metadata.labels));
  errors.push(...validateOwnerReferences(obj));
  if (obj.metadata.finalizers !== undefined && !Array.isArray(obj.metadata.finalizers)) {
    errors.push(invalidValue("metadata.finalizers", obj.metadata.finalizers, "must be a list"));
  }
  if (old?.metadata.deletionTimestamp !== undefined) {
    const before = new Set(old.metadata.finalizers ?? []);
    if ((obj.metadata.finalizers ?? []).some((f) => !before.has(f))) {
      errors.push(forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted"));
    }
  }
  return errors;
}

/** metav1.Time: RFC 3339, whole seconds, UTC. */
export function nowTime(offsetSeconds = 0): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000 + offsetSeconds * 1000).toISOString().replace(".000Z", "Z");
}

/** metav1.MicroTime: exactly six fractional digits. */
export function nowMicroTime(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

const MICRO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

/** Null when valid; else the Go time.Parse error text for the MicroTime layout. */
export function microTimeError(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" && MICRO.test(value) && !Number.isNaN(Date.parse(value))) return null;
  const text = String(value);
  const frac =
    /(\.\d*)?(Z|[+-]\d{2}:\d{2})?$/.exec(text.replace(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/, ""))?.[0] ?? text;
  return `parsing time ${JSON.stringify(text)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse ${JSON.stringify(frac)} as ".000000"`;
}
