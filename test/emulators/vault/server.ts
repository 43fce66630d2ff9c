/** The node:http(s) server: body limits, fault injection, socket tracking, raw-method fallback, optional TLS. */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { Socket } from "node:net";
import { errorReply } from "./envelope.ts";
import { BAD_REQUEST_RAW, parseRawRequest, readRest, serializeReply } from "./raw-http.ts";
import type { RawRequest, Reply } from "./types.ts";
import type { ServerTls } from "./tls.ts";

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface Failure {
  pattern: string | RegExp;
  remaining: number;
  status: number;
  message: string | undefined;
}

export interface Faults {
  latencyMs: number;
  failures: Failure[];
  refuseNext: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  at: number;
  /** Served for a standby that forwarded it (not received on this node's listener). */
  forwarded?: true;
}

export interface HttpServer {
  url: string;
  dropConnections(): void;
  close(): Promise<void>;
}

function globToRegExp(glob: string): RegExp {
  const src = glob
    .replace(/^\/?(v1\/)?/, "")
    .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*");
  return new RegExp(`^${src}$`);
}

function pathOf(url: string): string {
  const q = url.indexOf("?");
  return (q === -1 ? url : url.slice(0, q)).replace(/^\/v1\//, "");
}

export interface ListenOptions {
  port: number;
  /** Serve HTTPS with this certificate (url then uses `https://127.0.0.1:<port>`). */
  tls?: ServerTls;
}

export async function startHttpServer(
  handle: (raw: RawRequest) => Promise<Reply>,
  faults: Faults,
  log: RequestRecord[],
  listen: ListenOptions,
): Promise<HttpServer> {
  const port = listen.port;
  const sockets = new Set<Socket>();

  async function respond(raw: RawRequest): Promise<Reply> {
    if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
    const path = pathOf(raw.url);
    const failure = faults.failures.find(
      (f) => f.remaining > 0 && (typeof f.pattern === "string" ? globToRegExp(f.pattern) : f.pattern).test(path),
    );
    let reply: Reply;
    if (failure) {
      failure.remaining -= 1;
      reply = errorReply(failure.status, failure.message === undefined ? [] : [failure.message]);
    } else {
      reply = await handle(raw);
    }
    log.push({ method: raw.method, path, status: reply.status, at: Date.now() });
    return reply;
  }

  function send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed) return;
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const declared = Number(req.headers["content-length"] ?? 0);
    const tooLarge = () => {
      res.setHeader("connection", "close");
      send(res, errorReply(413, ["http: request body too large"]));
      req.resume();
      setTimeout(() => req.socket.destroy(), 100).unref();
    };
    if (declared > MAX_BODY_BYTES) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return tooLarge();
      chunks.push(chunk);
    }
    const raw: RawRequest = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headers,
      body: Buffer.concat(chunks),
      remoteAddress: req.socket.remoteAddress ?? "",
    };
    send(res, await respond(raw));
  }

  async function onClientError(err: Error & { code?: string; rawPacket?: Buffer }, socket: Socket): Promise<void> {
    if (!socket.writable) return void socket.destroy();
    const parsed = err.code === "HPE_INVALID_METHOD" && err.rawPacket ? parseRawRequest(err.rawPacket) : null;
    if (!parsed || parsed.contentLength > MAX_BODY_BYTES) {
      socket.end(
        err.code === "HPE_HEADER_OVERFLOW"
          ? BAD_REQUEST_RAW.replace("400 Bad Request", "431 Request Header Fields Too Large")
          : BAD_REQUEST_RAW,
      );
      return;
    }
    const body = await readRest(socket, parsed.body, parsed.contentLength);
    const reply = await respond({ ...parsed.request, body, remoteAddress: socket.remoteAddress ?? "" });
    if (socket.writable) socket.end(serializeReply(reply));
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    onRequest(req, res).catch((err: unknown) => {
      send(res, errorReply(500, [err instanceof Error ? err.message : String(err)]));
    });
  };
  const server = listen.tls
    ? createTlsServer({ requestTimeout: 30_000, key: listen.tls.key, cert: listen.tls.cert }, listener)
    : createServer({ requestTimeout: 30_000 }, listener);
  // Vault's TCP listener keeps an idle keep-alive connection for http_idle_timeout, default "5m"
  // (https://developer.hashicorp.com/vault/docs/configuration/listener/tcp); Node's default is 5 s.
  server.keepAliveTimeout = 300_000;
  server.on("connection", (socket: Socket) => {
    if (faults.refuseNext > 0) {
      faults.refuseNext -= 1;
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("clientError", (err: Error, socket: Socket) => {
    onClientError(err, socket).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("vault emulator: no TCP address");
  const dropConnections = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    url: `${listen.tls ? "https" : "http"}://127.0.0.1:${address.port}`,
    dropConnections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        dropConnections();
        server.closeAllConnections();
      }),
  };
}
