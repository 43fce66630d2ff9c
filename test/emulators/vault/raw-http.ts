/**
 * Node's HTTP parser rejects methods it does not know (Vault's LIST, garbage verbs) with a
 * 'clientError'. This parses such a request from the raw bytes so the router can answer it.
 */
import type { Socket } from "node:net";
import type { RawRequest, Reply } from "./types.ts";

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  202: "Accepted",
  204: "No Content",
  301: "Moved Permanently",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Request Entity Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

export interface PartialRequest {
  request: Omit<RawRequest, "body" | "remoteAddress">;
  body: Buffer;
  contentLength: number;
}

export function parseRawRequest(packet: Buffer): PartialRequest | null {
  const end = packet.indexOf("\r\n\r\n");
  if (end === -1) return null;
  const lines = packet.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^([A-Za-z-]{1,20}) (\S+) HTTP\/1\.[01]$/.exec(lines[0] ?? "");
  if (!m || !m[1] || !m[2]) return null;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const idx = line.indexOf(":");
    if (idx <= 0) return null;
    headers[line.slice(0, idx).trim().toLowerCase()] = line.slice(idx + 1).trim();
  }
  const contentLength = Number(headers["content-length"] ?? 0);
  if (!Number.isInteger(contentLength) || contentLength < 0) return null;
  return { request: { method: m[1].toUpperCase(), url: m[2], headers }, body: packet.subarray(end + 4), contentLength };
}

/** Reads the rest of a body announced by Content-Length (bounded wait). */
export function readRest(socket: Socket, have: Buffer, want: number, timeoutMs = 1_000): Promise<Buffer> {
  if (have.length >= want) return Promise.resolve(have.subarray(0, want));
  return new Promise((resolve) => {
    const chunks = [have];
    let size = have.length;
    const finish = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      resolve(Buffer.concat(chunks).subarray(0, want));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= want) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", onData);
    socket.resume();
  });
}

export function serializeReply(reply: Reply): string {
  const head = [`HTTP/1.1 ${reply.status} ${STATUS_TEXT[reply.status] ?? "Status"}`];
  for (const [k, v] of Object.entries(reply.headers)) head.push(`${k}: ${v}`);
  head.push(
    `content-length: ${Buffer.byteLength(reply.body)}`,
    "connection: close",
    `date: ${new Date().toUTCString()}`,
  );
  return `${head.join("\r\n")}\r\n\r\n${reply.body}`;
}

export const BAD_REQUEST_RAW =
  "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\n400 Bad Request";
