import type { Config } from "../../shared/config/config.ts";
import type { Log } from "../../shared/observability/log.ts";
import type { Metrics } from "../../shared/observability/metrics.ts";
import type { WorkerDeps } from "../../workers/deps.ts";
import { createReconciler } from "../../workers/reconciler.ts";
import type { PodWatcher } from "../watch/pod-watcher.ts";
import { LeaderElector } from "../watch/leader-election.ts";
import { buildClients, type Clients } from "./clients.ts";
import {
  createPodWatcher,
  httpRole,
  httpsRole,
  podWatcherRole,
  queueWorkersRole,
  reconcilerRole,
  unsealTriggersRole,
} from "./roles.ts";
import { runAll, type LeaderGate, type Runnable } from "./runnable.ts";
import { createUnsealWiring, type UnsealWiring } from "./unseal-wiring.ts";

export interface Runtime {
  readonly deps: WorkerDeps;
  readonly metrics: Metrics;
  readonly watcher: PodWatcher | undefined;
  readonly httpUrl: string | undefined;
  readonly httpsUrl: string | undefined;
  readonly reconcileNow: () => Promise<unknown>;
  stop(): Promise<void>;
}

/** The composition root: builds the clients once, then runs the roles asked for as a list. */
export async function startRuntime(config: Config, log: Log): Promise<Runtime> {
  const clients = await buildClients(config, log);
  const unseal = config.unseal.enabled ? createUnsealWiring(config, config.unseal, clients) : undefined;
  const gate = leaderGate(clients);
  const plan = planRoles(clients, unseal, gate);
  const running = await runAll(plan.runnables, gate, log);
  log.info(
    {
      roles: config.roles,
      runnables: plan.runnables.map((r) => r.name),
      http: plan.http?.url(),
      https: plan.https?.url(),
    },
    "leasekeeper started",
  );
  return {
    deps: clients.deps,
    metrics: clients.metrics,
    watcher: plan.watcher,
    httpUrl: plan.http?.url(),
    httpsUrl: plan.https?.url(),
    reconcileNow: plan.reconcile,
    async stop() {
      await running.stop();
      await unseal?.close();
      await clients.close();
      log.info({}, "leasekeeper stopped");
    },
  };
}

interface RolePlan {
  /** In start order; stopped in reverse, so listeners close first and workers drain last. */
  readonly runnables: readonly Runnable[];
  readonly watcher: PodWatcher | undefined;
  readonly http: ReturnType<typeof httpRole> | undefined;
  readonly https: ReturnType<typeof httpsRole> | undefined;
  readonly reconcile: ReturnType<typeof createReconciler>;
}

function planRoles(clients: Clients, unseal: UnsealWiring | undefined, gate: LeaderGate | undefined): RolePlan {
  const { config } = clients;
  const roles = new Set(config.roles);
  const watcher = roles.has("watch") ? createPodWatcher(clients) : undefined;
  // With the watcher in this process, the reconciler and the issue jobs read pods from its cache.
  const withCache: Clients = watcher ? { ...clients, deps: { ...clients.deps, podCache: watcher } } : clients;
  const reconcile = createReconciler(withCache.deps, watcher);
  const runnables: Runnable[] = [];
  if (roles.has("workers")) runnables.push(queueWorkersRole(withCache, unseal));
  if (watcher) runnables.push(podWatcherRole(clients, watcher));
  // Unseal triggers only enqueue; duplicates across replicas collapse by job id.
  if (roles.has("watch") && unseal) runnables.push(unsealTriggersRole(unseal));
  if (roles.has("reconciler")) runnables.push(reconcilerRole(withCache, reconcile));
  let http: ReturnType<typeof httpRole> | undefined;
  let https: ReturnType<typeof httpsRole> | undefined;
  if (roles.has("functions")) {
    http = httpRole(clients, unseal, { runnables: [...runnables], leading: () => gate?.leading ?? true });
    runnables.push(http);
    if (config.tls) {
      https = httpsRole(clients, config.tls.certFile, config.tls.keyFile);
      runnables.push(https);
    }
  }
  return { runnables, watcher, http, https, reconcile };
}

function leaderGate(clients: Clients): LeaderGate | undefined {
  const { config, kc, log } = clients;
  if (!config.leaderElection || !config.roles.includes("watch")) return undefined;
  return new LeaderElector(
    kc,
    {
      namespace: config.leaseNamespace,
      name: config.leaseName,
      identity: config.identity,
      leaseDurationSeconds: config.leaseDurationSeconds,
    },
    log,
  );
}
