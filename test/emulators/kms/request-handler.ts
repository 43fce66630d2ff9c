/**
 * Turns one HTTP request into a KMS outcome. Order: transport (path, method,
 * content type) → SigV4 header → target → injected faults → unknown operation → JSON
 * body → access denial → the operation. No I/O here; server.ts writes the outcome.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { CallCounter } from "./call-counter.ts";
import { KmsError, serializationError } from "./errors.ts";
import type { FaultPlan } from "./fault-plan.ts";
import type { KeyStore } from "./key-store.ts";
import { operations } from "./operations/index.ts";
import { RequestInput, type JsonObject } from "./request-input.ts";
import { checkAuthorization } from "./sigv4-header.ts";

const TARGET_PREFIX = "TrentService.";
const THROTTLE_MESSAGE = "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

export type Outcome =
  { kind: "json"; status: number; body: JsonObject } | { kind: "empty"; status: number } | { kind: "drop" };

export interface RequestHandlerDeps {
  store: KeyStore;
  faults: FaultPlan;
  counter: CallCounter;
}

export interface RawRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function errorOutcome(err: KmsError): Outcome {
  return { kind: "json", status: err.status, body: err.toBody() };
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseBody(body: Buffer): JsonObject {
  const text = body.toString("utf8").trim();
  if (text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new KmsError("SerializationException", "Request body is not valid JSON", 400, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw serializationError("Start of structure or map found where not expected.");
  }
  return parsed as JsonObject;
}

function checkTransport(request: RawRequest): void {
  if (request.url.split("?")[0] !== "/") {
    throw new KmsError("UnknownOperationException", `No KMS resource at path ${request.url}; KMS accepts POST /`, 404);
  }
  if (request.method !== "POST") {
    throw new KmsError("UnknownOperationException", `Method ${request.method} is not allowed; KMS accepts POST /`, 405);
  }
  const contentType = single(request.headers, "content-type") ?? "";
  if (!contentType.toLowerCase().includes("json")) {
    throw new KmsError(
      "UnsupportedMediaTypeException",
      `Content-Type must be application/x-amz-json-1.1, got '${contentType}'`,
      415,
    );
  }
}

function injectedFault(deps: RequestHandlerDeps, operation: string | undefined): Outcome | undefined {
  const fault = deps.faults.next(operation);
  switch (fault.kind) {
    case "none":
      return undefined;
    case "drop":
      return { kind: "drop" };
    case "throttle":
      return errorOutcome(new KmsError("ThrottlingException", THROTTLE_MESSAGE));
    case "fail":
      return fault.status === 503
        ? { kind: "empty", status: 503 }
        : errorOutcome(
            new KmsError("KMSInternalException", "An internal error occurred (injected by the KMS emulator).", 500),
          );
  }
}

export function createRequestHandler(deps: RequestHandlerDeps): {
  operationOf(headers: IncomingHttpHeaders): string | undefined;
  handle(request: RawRequest): Outcome;
} {
  const operationOf = (headers: IncomingHttpHeaders): string | undefined => {
    const target = single(headers, "x-amz-target");
    return target?.startsWith(TARGET_PREFIX) === true ? target.slice(TARGET_PREFIX.length) : undefined;
  };

  const handle = (request: RawRequest): Outcome => {
    const target = single(request.headers, "x-amz-target");
    const operation = operationOf(request.headers);
    if (operation !== undefined) deps.counter.record(operation);
    try {
      checkTransport(request);
      const caller = checkAuthorization(request.headers, deps.store.region, deps.faults.allowedAccessKeys);
      const fault = injectedFault(deps, operation);
      if (fault !== undefined) return fault;
      const handler = operation === undefined ? undefined : operations.get(operation);
      if (handler === undefined) {
        throw new KmsError(
          "UnknownOperationException",
          target === undefined ? "Missing X-Amz-Target header" : `Unknown operation ${target}`,
        );
      }
      const body = parseBody(request.body);
      if (operation !== undefined && deps.faults.deniedOperations.has(operation)) {
        throw new KmsError(
          "AccessDeniedException",
          `User: arn:aws:iam::${deps.store.accountId}:user/${caller.accessKeyId} is not authorized to perform: kms:${operation} because no identity-based policy allows the kms:${operation} action`,
        );
      }
      return { kind: "json", status: 200, body: handler(new RequestInput(body), deps.store) };
    } catch (err) {
      if (err instanceof KmsError) return errorOutcome(err);
      throw err;
    }
  };

  return { operationOf, handle };
}
