/**
 * HTTP plumbing: reads bodies, applies injected delays, writes outcomes with
 * `x-amzn-RequestId` and an accurate `Date`, and can stop and restart listening on the
 * same port. A bug inside the emulator answers 500 KMSInternalException and is printed
 * to stderr, never hidden.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { FaultPlan } from "./fault-plan.ts";
import type { Outcome, RawRequest } from "./request-handler.ts";

const HOST = "127.0.0.1";
const MAX_BODY_BYTES = 1024 * 1024;

export interface KmsHttpServer {
  port: number;
  goOffline(): Promise<void>;
  goOnline(): Promise<void>;
  close(): Promise<void>;
}

/** Resolves undefined when the body exceeds MAX_BODY_BYTES (the rest is drained). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function write(res: ServerResponse, requestId: string, outcome: Outcome): void {
  if (outcome.kind === "drop") {
    res.socket?.destroy();
    return;
  }
  const payload = outcome.kind === "json" ? Buffer.from(JSON.stringify(outcome.body)) : Buffer.alloc(0);
  res.writeHead(outcome.status, {
    "Content-Type": "application/x-amz-json-1.1",
    "Content-Length": payload.length,
    "x-amzn-RequestId": requestId,
    Date: new Date().toUTCString(),
  });
  res.end(payload);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`kms emulator: cannot listen on ${HOST}:${port}`, { cause: err }));
    server.once("error", onError);
    server.listen(port, HOST, () => {
      server.off("error", onError);
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("kms emulator: no TCP address"));
      else resolve(address.port);
    });
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      server.closeAllConnections();
      resolve();
      return;
    }
    server.close((err) => (err === undefined ? resolve() : reject(err)));
    server.closeAllConnections();
  });
}

export async function startHttpServer(args: {
  port: number;
  faults: FaultPlan;
  operationOf(headers: IncomingMessage["headers"]): string | undefined;
  handle(request: RawRequest): Outcome;
}): Promise<KmsHttpServer> {
  const server = createServer((req, res) => {
    const requestId = randomUUID();
    const respond = async () => {
      const body = await readBody(req);
      if (body === undefined) {
        const message = `Request body exceeds ${MAX_BODY_BYTES} bytes`;
        write(res, requestId, {
          kind: "json",
          status: 413,
          body: { __type: "RequestEntityTooLargeException", message },
        });
        return;
      }
      const delayMs = args.faults.nextDelayMs(args.operationOf(req.headers));
      if (delayMs > 0) await sleep(delayMs);
      write(res, requestId, args.handle({ method: req.method ?? "", url: req.url ?? "/", headers: req.headers, body }));
    };
    respond().catch((err: unknown) => {
      console.error("[kms emulator] internal error", err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      write(res, requestId, {
        kind: "json",
        status: 500,
        body: { __type: "KMSInternalException", message: `KMS emulator bug: ${String(err)}` },
      });
    });
  });
  server.keepAliveTimeout = 5_000;
  const port = await listen(server, args.port);
  let online = true;
  return {
    port,
    goOffline: async () => {
      online = false;
      await stop(server);
    },
    goOnline: async () => {
      if (online) return;
      await listen(server, port);
      online = true;
    },
    close: () => stop(server),
  };
}
