/**
 * SigV4 `Authorization` header checks, only as far as spec A2 tiers 1, 2 and 4 go:
 * present, well-formed, scoped to `kms` in the emulator's region, X-Amz-Date matching the
 * scope date, and (optionally) an access-key allow-list. Signatures are NOT verified.
 */
import type { IncomingHttpHeaders } from "node:http";
import { KmsError } from "./errors.ts";

export interface Caller {
  accessKeyId: string;
  region: string;
}

const ALGORITHM = "AWS4-HMAC-SHA256";

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function incomplete(problems: string[]): KmsError {
  return new KmsError("IncompleteSignatureException", problems.join(" "));
}

function parameters(rest: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of rest.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

export function checkAuthorization(
  headers: IncomingHttpHeaders,
  region: string,
  allowedAccessKeys: ReadonlySet<string> | undefined,
): Caller {
  const authorization = headerValue(headers, "authorization");
  if (authorization === undefined || authorization.trim() === "") {
    throw new KmsError("MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  const space = authorization.indexOf(" ");
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incomplete([`Unsupported Authorization Type; expected ${ALGORITHM}.`]);
  }
  const params = parameters(space < 0 ? "" : authorization.slice(space + 1));
  const credential = params.get("Credential");
  const signedHeaders = params.get("SignedHeaders");
  const signature = params.get("Signature");
  const amzDate = headerValue(headers, "x-amz-date");
  const problems: string[] = [];
  if (credential === undefined) problems.push("Authorization header requires 'Credential' parameter.");
  if (signature === undefined) problems.push("Authorization header requires 'Signature' parameter.");
  if (signedHeaders === undefined) problems.push("Authorization header requires 'SignedHeaders' parameter.");
  if (amzDate === undefined && headerValue(headers, "date") === undefined) {
    problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (problems.length > 0 || credential === undefined || signature === undefined || signedHeaders === undefined) {
    throw incomplete(problems);
  }
  const scope = credential.split("/");
  const [accessKeyId, date, scopeRegion, service, terminator] = scope;
  if (scope.length !== 5 || accessKeyId === "" || !/^\d{8}$/.test(date ?? "") || terminator !== "aws4_request") {
    throw incomplete(["Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term."]);
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incomplete(["Signature must be 64 lowercase hex characters."]);
  if (!/^[a-z0-9-]+(;[a-z0-9-]+)*$/.test(signedHeaders) || !signedHeaders.split(";").includes("host")) {
    throw incomplete(["SignedHeaders must be a semicolon-separated list of lowercase header names including host."]);
  }
  if (amzDate !== undefined && !amzDate.startsWith(`${date}T`)) {
    throw new KmsError(
      "InvalidSignatureException",
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.",
    );
  }
  if (service !== "kms") {
    throw new KmsError("InvalidSignatureException", "Credential should be scoped to correct service: 'kms'.");
  }
  if (scopeRegion !== region) {
    throw new KmsError(
      "InvalidSignatureException",
      `Credential should be scoped to a valid region, not '${scopeRegion}'.`,
    );
  }
  if (allowedAccessKeys !== undefined && !allowedAccessKeys.has(accessKeyId ?? "")) {
    throw new KmsError("UnrecognizedClientException", "The security token included in the request is invalid.");
  }
  return { accessKeyId: accessKeyId ?? "", region };
}
