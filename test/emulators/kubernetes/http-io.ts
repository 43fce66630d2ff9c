/** Reading request bodies and writing JSON / Status / plain-text responses. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, badRequest } from "./status.ts";
import type { Json } from "./types.ts";

/** kube-apiserver's default request body limit (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => {
      if (tooLarge)
        reject(new ApiError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${MAX_BODY_BYTES}`));
      else resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

/** Parses a JSON request body; the error mirrors the apiserver's decode failure (400). */
export function parseJson(body: Buffer, what: string): Json {
  const text = body.toString("utf8");
  if (text.trim() === "") throw badRequest(`${what}: EOF`);
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw badRequest(`${what}: json parse error: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: Json, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  const headers: Record<string, string> = {};
  const retry = err.status.details?.retryAfterSeconds;
  if (retry !== undefined && retry > 0) headers["Retry-After"] = String(retry);
  sendJson(res, err.status.code, err.status, headers);
}

/** API Priority & Fairness style 429: plain text, not a Status (spec §10). */
export function sendTooManyRequests(res: ServerResponse, retryAfterSeconds: number): void {
  const text = "Too many requests, please try again later.\n";
  res.writeHead(429, {
    "Content-Type": "text/plain; charset=utf-8",
    "Retry-After": String(retryAfterSeconds),
    "Content-Length": Buffer.byteLength(text),
    "X-Content-Type-Options": "nosniff",
  });
  res.end(text);
}
