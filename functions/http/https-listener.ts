import { readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { messageOf } from "../../shared/errors/errors.ts";
import type { Log } from "../../shared/observability/log.ts";

export interface HttpsListenerOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly port: number;
  readonly host: string;
  /** How often the files are checked for a renewed certificate (cert-manager rotates them). */
  readonly reloadEveryMs?: number;
}

export interface HttpsListener {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The same app over TLS, for the API server's admission calls (and anyone else who wants TLS
 * without a mesh). A renewed certificate is picked up without a restart.
 */
export async function startHttpsListener(app: Hono, opts: HttpsListenerOptions, log: Log): Promise<HttpsListener> {
  const read = () => ({ cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile) });
  const stamp = () => `${statSync(opts.certFile).mtimeMs}:${statSync(opts.keyFile).mtimeMs}`;
  let loaded = stamp();
  let handle: Server | undefined;
  const url = await new Promise<string>((resolve) => {
    handle = serve(
      { fetch: app.fetch, port: opts.port, hostname: opts.host, createServer, serverOptions: read() },
      (info) => resolve(`https://${opts.host === "0.0.0.0" ? "127.0.0.1" : opts.host}:${info.port}`),
    ) as unknown as Server;
  });
  const server = handle as Server;
  const timer = setInterval(() => {
    try {
      const now = stamp();
      if (now === loaded) return;
      server.setSecureContext(read());
      loaded = now;
      log.info({ certFile: opts.certFile }, "TLS certificate reloaded");
    } catch (err) {
      log.warn({ error: messageOf(err) }, "could not reload the TLS certificate; keeping the current one");
    }
  }, opts.reloadEveryMs ?? 60_000);
  timer.unref();
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
