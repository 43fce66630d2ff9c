import { serve, type ServerType } from "@hono/node-server";
import type { Hono } from "hono";
import type { Worker } from "bullmq";
import { adminQueuesApp } from "../http/admin-queues.ts";
import { createAdmissionApp, createApp } from "../http/app.ts";
import { startHttpsListener, type HttpsListener } from "../http/https-listener.ts";
import { PodWatcher } from "../watch/pod-watcher.ts";
import { scheduleReconciler, type createReconciler } from "../../workers/reconciler.ts";
import { startWorkers } from "../../workers/queue-workers.ts";
import { startRenewPump } from "../../workers/renew-pump.ts";
import { buildAppDeps, buildRouter } from "./app-deps.ts";
import type { Clients } from "./clients.ts";
import type { Runnable } from "./runnable.ts";
import type { UnsealWiring } from "./unseal-wiring.ts";

/** A runnable with nothing to wait for: ready once started. */
function simple(name: string, needsLeader: boolean, start: () => Promise<() => Promise<void>>): Runnable {
  let stop: (() => Promise<void>) | undefined;
  return {
    name,
    needsLeader,
    async start() {
      stop = await start();
    },
    async stop() {
      await stop?.();
      stop = undefined;
    },
    ready: () => stop !== undefined,
  };
}

/**
 * The BullMQ workers, and the pump that queues renewals as their timers come due: stop taking
 * jobs, let running ones finish within the shutdown bound.
 */
export function queueWorkersRole(clients: Clients, unseal: UnsealWiring | undefined): Runnable {
  const { config, deps, bullConnection } = clients;
  return simple("queue-workers", false, async () => {
    const workers: Worker[] = startWorkers(deps, {
      connection: bullConnection,
      prefix: config.queuePrefix,
      ...config,
      unsealWorker: unseal?.worker,
    });
    const stopPump = startRenewPump(deps);
    return async () => {
      await stopPump();
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise((r) => (timer = setTimeout(r, config.shutdownTimeoutSeconds * 1000)));
      await Promise.race([Promise.all(workers.map((w) => w.close())), bound]);
      clearTimeout(timer);
      await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
    };
  });
}

/** The pod watch (list + watch): only the leader runs it when leader election is on. */
export function podWatcherRole(clients: Clients, watcher: PodWatcher): Runnable {
  const { metrics } = clients;
  return {
    name: "pod-watcher",
    needsLeader: true,
    async start() {
      metrics.isLeader.set(1);
      await watcher.start();
    },
    async stop() {
      metrics.isLeader.set(0);
      await watcher.stop();
    },
    ready: () => watcher.synced,
  };
}

export function createPodWatcher(clients: Clients): PodWatcher {
  const { kc, config, log, metrics, producer, deps } = clients;
  return new PodWatcher(kc, buildRouter(config, producer, deps.index), log, metrics, {
    namespaces: config.namespaces,
    stallMs: config.watchStallSeconds * 1000,
  });
}

/** The Vault pod watch and the unseal sweep: they only enqueue, so every replica may run them. */
export function unsealTriggersRole(unseal: UnsealWiring): Runnable {
  return simple("unseal-triggers", false, async () => {
    await unseal.startTriggers();
    return () => unseal.stopTriggers();
  });
}

export function reconcilerRole(clients: Clients, reconcile: ReturnType<typeof createReconciler>): Runnable {
  const { deps, config } = clients;
  return simple("reconciler", false, async () =>
    scheduleReconciler(deps, reconcile, config.reconcileIntervalSeconds * 1000),
  );
}

function appParts(clients: Clients, unseal?: UnsealWiring) {
  const { config, redis, kc, deps, producer, metrics, log } = clients;
  return { settings: config, redis, kc, kube: deps.kube, producer, metrics, log, unseal: unseal?.route };
}

/** The HTTP functions on plain HTTP (inside the cluster network; NetworkPolicy guards it). */
export function httpRole(
  clients: Clients,
  unseal: UnsealWiring | undefined,
  others: { readonly runnables: readonly Runnable[]; readonly leading: () => boolean },
): Runnable & { url(): string | undefined } {
  const { config, producer } = clients;
  const app = createApp(
    buildAppDeps({
      ...appParts(clients, unseal),
      admission: config,
      adminQueues: adminQueuesApp(Object.values(producer.queues)),
      // A standby's leader-only roles are idle by design: they do not make it unready.
      readiness: others.runnables.map((r) => ({
        name: r.name,
        check: async () => r.ready() || (r.needsLeader && !others.leading()),
      })),
    }),
  );
  return listenerRole("http", () => listenHttp(app, config.httpPort, config.httpHost));
}

/** The admission webhook over TLS: the API server's only door, so it serves admission and health alone. */
export function httpsRole(
  clients: Clients,
  certFile: string,
  keyFile: string,
): Runnable & { url(): string | undefined } {
  const { config, log } = clients;
  const app = createAdmissionApp({ admission: { settings: config, log }, log });
  return listenerRole("https", () =>
    startHttpsListener(app, { certFile, keyFile, port: config.httpsPort, host: config.httpHost }, log),
  );
}

function listenerRole(
  name: string,
  listen: () => Promise<{ url: string; close(): Promise<void> }>,
): Runnable & { url(): string | undefined } {
  let listener: { url: string; close(): Promise<void> } | undefined;
  return {
    name,
    needsLeader: false,
    async start() {
      listener = await listen();
    },
    async stop() {
      await listener?.close();
      listener = undefined;
    },
    ready: () => listener !== undefined,
    url: () => listener?.url,
  };
}

async function listenHttp(app: Hono, port: number, host: string): Promise<HttpsListener> {
  let server: ServerType | undefined;
  const url = await new Promise<string>((resolve) => {
    server = serve({ fetch: app.fetch, port, hostname: host }, (info) =>
      resolve(`http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${info.port}`),
    );
  });
  return {
    url,
    async close() {
      // Stop accepting; open requests (long polls included) get a short grace, not the job budget.
      const closing = new Promise<void>((resolve) => server?.close(() => resolve()));
      await Promise.race([closing, new Promise((r) => setTimeout(r, 2000).unref())]);
      (server as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
    },
  };
}
