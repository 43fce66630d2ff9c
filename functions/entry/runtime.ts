import { serve, type ServerType } from "@hono/node-server";
import type { Cluster } from "ioredis";
import { connectRedis, redisOptions, topologyOf } from "../../shared/redis/connection.ts";
import type { ConnectionOptions, Worker } from "bullmq";
import type { Config, Role } from "../../shared/config/config.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { loadKubeConfig } from "../../shared/kube/kube-config.ts";
import { PodIndex } from "../../shared/index/pod-index.ts";
import { KeyedLock as PodLock } from "../../shared/index/keyed-lock.ts";
import { SealBox } from "../../shared/index/seal-box.ts";
import { JobProducer } from "../../shared/jobs/producer.ts";
import type { Log } from "../../shared/observability/log.ts";
import { createMetrics, type Metrics } from "../../shared/observability/metrics.ts";
import { PodEventRouter } from "../../shared/pods/pod-events.ts";
import { controllerToken } from "../../shared/vault/controller-token.ts";
import { createVaultClient } from "../../shared/vault/vault-client.ts";
import type { WorkerDeps } from "../../workers/deps.ts";
import { createReconciler, scheduleReconciler } from "../../workers/reconciler.ts";
import { startWorkers } from "../../workers/queue-workers.ts";
import { AuditLog } from "../../shared/audit/audit-log.ts";
import { createAccessReviewer } from "../../shared/kube/access-review.ts";
import { createOwnerLookup } from "../../shared/kube/owner-client.ts";
import { adminQueuesApp } from "../http/admin-queues.ts";
import { createApp } from "../http/app.ts";
import { ReplayGuard } from "../http/auth/replay-guard.ts";
import { startHttpsListener, type HttpsListener } from "../http/https-listener.ts";
import { LeaderElector } from "../watch/leader-election.ts";
import { PodWatcher } from "../watch/pod-watcher.ts";
import { createUnsealRuntime } from "./unseal-wiring.ts";

export interface Runtime {
  readonly deps: WorkerDeps;
  readonly metrics: Metrics;
  readonly watcher: PodWatcher | undefined;
  readonly httpUrl: string | undefined;
  readonly httpsUrl: string | undefined;
  readonly reconcileNow: () => Promise<unknown>;
  stop(): Promise<void>;
}

/** Wires the real clients and starts the roles asked for. The only place that does. */
export async function startRuntime(config: Config, log: Log): Promise<Runtime> {
  const roles = new Set<Role>(config.roles);
  const redis = connectRedis(config, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  // BullMQ: options for a single Redis or Sentinel (it opens its own connections); a Cluster client it shares.
  const bullCluster = topologyOf(config) === "cluster" ? (connectRedis(config, { maxRetriesPerRequest: null }) as Cluster) : undefined;
  const connection: ConnectionOptions = bullCluster ?? (redisOptions(config, { maxRetriesPerRequest: null }) as ConnectionOptions);
  const kc = loadKubeConfig(config.kubeconfig, config.kubeTimeoutMs);
  const metrics = createMetrics();
  const producer = new JobProducer({ connection, prefix: config.queuePrefix, attempts: config.maxAttempts });
  const index = new PodIndex(redis, config.queuePrefix);
  const vault = createVaultClient({ endpoint: config.vaultAddr, controllerToken: () => controller.current(), timeoutMs: config.vaultTimeoutMs });
  const controller = controllerToken(
    config.vaultToken,
    config.vaultRole ? { role: config.vaultRole, authPath: config.vaultAuthPath, jwtFile: config.vaultJwtFile } : undefined,
    { login: (path, role, jwt) => vault.kubernetesLogin(path, role, jwt), renewSelf: (token, increment) => vault.renewSelf(token, increment), log },
  );
  await controller.start();
  const deps: WorkerDeps = {
    vault,
    kube: createKubeClient(kc),
    index,
    lock: new PodLock(redis, config.queuePrefix),
    producer,
    sealBox: new SealBox(config.indexKey),
    log,
    metrics,
    settings: config,
    now: Date.now,
    random: Math.random,
  };
  const router = new PodEventRouter(producer, index, config.namespaces, undefined, config.vaultAnnotations);
  const unseal = config.unsealEnabled ? createUnsealRuntime(config, { kc, kube: deps.kube, redis, producer, log, metrics }) : undefined;
  const reconcile = createReconciler(deps);

  let workers: Worker[] = [];
  if (roles.has("workers")) {
    workers = startWorkers(deps, { connection, prefix: config.queuePrefix, ...config, unsealWorker: unseal?.worker });
  }

  let watcher: PodWatcher | undefined;
  let elector: LeaderElector | undefined;
  if (roles.has("watch")) {
    const w = new PodWatcher(kc, router, log, metrics, { namespaces: config.namespaces, stallMs: config.watchStallSeconds * 1000 });
    watcher = w;
    if (config.leaderElection) {
      elector = new LeaderElector(
        kc,
        {
          namespace: config.leaseNamespace,
          name: config.leaseName,
          identity: config.identity,
          leaseDurationSeconds: config.leaseDurationSeconds,
          onStartedLeading: () => {
            metrics.isLeader.set(1);
            void w.start();
          },
          onStoppedLeading: () => {
            metrics.isLeader.set(0);
            void w.stop();
          },
        },
        log,
      );
      elector.start();
    } else {
      await w.start();
    }
  }

  // Unseal triggers (Vault pod watch + sweep) only enqueue; duplicates across replicas collapse by job id.
  if (roles.has("watch")) await unseal?.startTriggers();

  let stopReconciler: (() => Promise<void>) | undefined;
  if (roles.has("reconciler")) stopReconciler = scheduleReconciler(deps, reconcile, config.reconcileIntervalSeconds * 1000);

  let server: ServerType | undefined;
  let httpUrl: string | undefined;
  let tls: HttpsListener | undefined;
  if (roles.has("functions")) {
    const app = createApp({
      router,
      kube: deps.kube,
      index,
      producer,
      metrics,
      registry: metrics.registry,
      log,
      eventsAuth: config.eventsAuth === "none" ? { mode: "none" } : { mode: "kubernetes", reviewer: createAccessReviewer(kc, [config.eventsAudience]), apiTokenHashes: config.apiTokens },
      unseal: unseal?.route,
      admission: { settings: config, log },
      api: {
        reviewer: createAccessReviewer(kc, config.tokenReviewAudiences),
        apiTokenHashes: config.apiTokens,
        ciSecrets: config.ciHmacSecrets,
        index,
        kube: deps.kube,
        owners: createOwnerLookup(kc),
        producer,
        audit: new AuditLog(redis, config.queuePrefix, log),
        replay: new ReplayGuard(redis, config.queuePrefix),
        unseal: unseal?.route,
        rateLimitPerMinute: config.httpRateLimit,
        adminQueues: adminQueuesApp(Object.values(producer.queues)),
        log,
      },
      readiness: [
        { name: "redis", check: async () => (await redis.ping()) === "PONG" },
        { name: "kubernetes", check: async () => (await deps.kube.listPods(["default"]).then(() => true)) },
        ...(watcher ? [{ name: "watcher", check: async () => watcher?.synced === true || (elector !== undefined && !elector.leading) }] : []),
      ],
    });
    httpUrl = await new Promise<string>((resolve) => {
      server = serve({ fetch: app.fetch, port: config.httpPort, hostname: config.httpHost }, (info) => {
        const host = config.httpHost === "0.0.0.0" ? "127.0.0.1" : config.httpHost;
        resolve(`http://${host}:${info.port}`);
      });
    });
    if (config.tlsCertFile && config.tlsKeyFile) {
      tls = await startHttpsListener(app, { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, port: config.httpsPort, host: config.httpHost }, log);
    }
  }
  log.info({ roles: [...roles], http: httpUrl, https: tls?.url }, "leasekeeper started");

  return {
    deps,
    metrics,
    watcher,
    httpUrl,
    httpsUrl: tls?.url,
    reconcileNow: reconcile,
    async stop() {
      const bound = config.shutdownTimeoutSeconds * 1000;
      if (server) {
        // Stop accepting; open requests (long polls included) get a short grace, not the job budget.
        const closing = new Promise<void>((resolve) => server?.close(() => resolve()));
        await Promise.race([closing, new Promise((r) => setTimeout(r, 2000).unref())]);
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }
      await tls?.close();
      await elector?.stop();
      await watcher?.stop();
      await unseal?.stop();
      await stopReconciler?.();
      // Workers stop taking jobs and let running ones finish, within the bound.
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise((r) => {
        timer = setTimeout(r, bound);
      });
      await Promise.race([Promise.all(workers.map((w) => w.close())), bounded]);
      clearTimeout(timer);
      await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
      controller.stop();
      await producer.close();
      await redis.quit().catch(() => redis.disconnect());
      await bullCluster?.quit().catch(() => bullCluster.disconnect());
      log.info({}, "leasekeeper stopped");
    },
  };
}
