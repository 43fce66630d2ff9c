/** Status error bodies (spec §10) and the error class handlers throw. */
import type { Json } from "./types.ts";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** An API error carrying the Status body the server answers with. */
export class ApiError extends Error {
  readonly status: StatusBody;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = "ApiError";
    const status: StatusBody = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, code };
    if (reason !== "") status.reason = reason;
    if (details !== undefined) status.details = details;
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
}

function qualified(resource: string, group: string): string {
  return group === "" ? resource : `${resource}.${group}`;
}

function details(name: string, resource: string, group: string): StatusDetails {
  const d: StatusDetails = { name, kind: resource };
  if (group !== "") d.group = group;
  return d;
}

export function notFound(resource: string, name: string, group = ""): ApiError {
  return new ApiError(
    404,
    "NotFound",
    `${qualified(resource, group)} "${name}" not found`,
    details(name, resource, group),
  );
}

export function alreadyExists(resource: string, name: string, group = ""): ApiError {
  return new ApiError(
    409,
    "AlreadyExists",
    `${qualified(resource, group)} "${name}" already exists`,
    details(name, resource, group),
  );
}

export function conflict(resource: string, name: string, why: string, group = ""): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`,
    details(name, resource, group),
  );
}

export const OPTIMISTIC_LOCK_MESSAGE =
  "the object has been modified; please apply your changes to the latest version and try again";

export interface FieldError {
  field: string;
  /** Cause type, e.g. FieldValueRequired. */
  type:
    | "FieldValueRequired"
    | "FieldValueInvalid"
    | "FieldValueForbidden"
    | "FieldValueTooLong"
    | "FieldValueNotSupported"
    | "FieldValueDuplicate";
  /** The rendered error after the field name, e.g. `Required value`. */
  detail: string;
}

export function required(field: string, detail?: string): FieldError {
  return {
    field,
    type: "FieldValueRequired",
    detail: detail === undefined ? "Required value" : `Required value: ${detail}`,
  };
}

export function invalidValue(field: string, value: unknown, detail: string): FieldError {
  return { field, type: "FieldValueInvalid", detail: `Invalid value: ${JSON.stringify(value)}: ${detail}` };
}

export function forbidden(field: string, detail: string): FieldError {
  return { field, type: "FieldValueForbidden", detail: `Forbidden: ${detail}` };
}

export function tooLong(field: string, max: number): FieldError {
  return { field, type: "FieldValueTooLong", detail: `Too long: may not be more than ${max} bytes` };
}

export function notSupported(field: string, value: unknown, allowed: string[]): FieldError {
  return {
    field,
    type: "FieldValueNotSupported",
    detail: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(", ")}`,
  };
}

/** 422 Invalid; `kind` is the Kind (not the plural), `group` added as `Kind.group`. */
export function invalid(kind: string, name: string, errors: FieldError[], group = ""): ApiError {
  const list = errors.map((e) => `${e.field}: ${e.detail}`);
  const rendered = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
  const d: StatusDetails = {
    name,
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.detail, field: e.field })),
  };
  if (group !== "") d.group = group;
  return new ApiError(422, "Invalid", `${qualified(kind, group)} "${name}" is invalid: ${rendered}`, d);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

export function forbiddenRequest(message: string, name: string, resource: string, group: string): ApiError {
  return new ApiError(403, "Forbidden", message, details(name, resource, group));
}

export function internalError(message: string): ApiError {
  return new ApiError(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function unauthorized(): ApiError {
  return new ApiError(401, "Unauthorized", "Unauthorized");
}

export function methodNotAllowed(action: string, resource: string): ApiError {
  return new ApiError(405, "MethodNotAllowed", `${action} is not supported on resources of kind "${resource}"`);
}

export function notFoundPath(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource", {});
}

export function expired(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

/** Status for a successful delete of a non-pod resource (details.kind is the plural). */
export function successStatus(name: string, resource: string, group: string, uid: string | undefined): Json {
  const d: Json = { name, kind: resource };
  if (group !== "") d.group = group;
  if (uid !== undefined) d.uid = uid;
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: d };
}
