import { KubeConfig } from "@kubernetes/client-node";
import { Redis } from "ioredis";
import { AuditLog } from "../../shared/audit/audit-log.ts";
import { ENV } from "../../shared/config/env-vars.ts";
import { PodIndex } from "../../shared/index/pod-index.ts";
import { JobProducer } from "../../shared/jobs/producer.ts";
import { createAccessReviewer } from "../../shared/kube/access-review.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { createOwnerLookup } from "../../shared/kube/owner-client.ts";
import { createLogger } from "../../shared/observability/log.ts";
import { createMetrics } from "../../shared/observability/metrics.ts";
import { PodEventRouter } from "../../shared/pods/pod-events.ts";
import type { KubePort } from "../../shared/ports/vault-kube.ts";
import { createApp } from "../http/app.ts";
import { ReplayGuard } from "../http/auth/replay-guard.ts";
import { loadWorkerConfig, type WorkerConfig } from "./cloudflare-config.ts";

/**
 * Cloudflare Worker entry (wrangler.toml, nodejs_compat): the same Hono app as on Node — the
 * CloudEvents route, the CI hook and the on-call routes — without the pod watcher, workers,
 * reconciler or the queue dashboard, which run on Node. Redis (rediss:// from Cloudflare) is
 * opened per request and closed after it: a connection kept at module level hangs after the
 * first request, because Workers do not let I/O objects outlive the request that made them.
 */
const metrics = createMetrics(undefined, { processMetrics: false });
let cachedConfig: { env: unknown; config: WorkerConfig } | undefined;

function configOf(env: Record<string, unknown>): WorkerConfig {
  if (cachedConfig?.env !== env) cachedConfig = { env, config: loadWorkerConfig(env) };
  return cachedConfig.config;
}

function kubeConfig(config: WorkerConfig): KubeConfig | undefined {
  const server = config[ENV.kubeServer];
  if (!server) return undefined;
  const kc = new KubeConfig();
  // client-node refuses http:// unless told there is no TLS to verify; https:// always verifies (caData or public CAs).
  kc.loadFromOptions({
    clusters: [{ name: "cluster", server, ...(config[ENV.kubeCaData] ? { caData: config[ENV.kubeCaData] } : {}), skipTLSVerify: server.startsWith("http://") }],
    users: [{ name: "leasekeeper", token: config[ENV.kubeToken] }],
    contexts: [{ name: "leasekeeper", cluster: "cluster", user: "leasekeeper" }],
    currentContext: "leasekeeper",
  });
  return kc;
}

const noKube: KubePort = new Proxy({} as KubePort, {
  get: () => () => Promise.reject(new Error(`${ENV.kubeServer} is not set: this Worker cannot reach Kubernetes`)),
});

export default {
  async fetch(request: Request, env: Record<string, unknown>, ctx: { waitUntil(p: Promise<unknown>): void }): Promise<Response> {
    let config: WorkerConfig;
    try {
      config = configOf(env);
    } catch (err) {
      // The details go to the Worker's log (values hidden); callers learn only that it is misconfigured.
      console.error((err as Error).message);
      return Response.json({ error: { code: "misconfigured", message: "leasekeeper's Worker is misconfigured; see its logs" } }, { status: 500 });
    }
    const log = createLogger(config[ENV.logLevel]);
    const redis = new Redis(config[ENV.redisUrl], { maxRetriesPerRequest: 1, connectTimeout: 5000, enableAutoPipelining: true });
    redis.on("error", () => undefined);
    const prefix = config[ENV.queuePrefix];
    const producer = new JobProducer({ connection: redis, prefix, attempts: config[ENV.maxAttempts] });
    const index = new PodIndex(redis, prefix);
    const kc = kubeConfig(config);
    const kube = kc ? createKubeClient(kc) : noKube;
    const app = createApp({
      router: new PodEventRouter(producer, index, config[ENV.namespaces]),
      kube,
      index,
      producer,
      metrics,
      registry: metrics.registry,
      log,
      // Without LEASEKEEPER_KUBE_SERVER only API tokens can post events (no TokenReview).
      eventsAuth: config[ENV.eventsAuth] === "none"
        ? { mode: "none" }
        : { mode: "kubernetes", reviewer: kc ? createAccessReviewer(kc, [config[ENV.eventsAudience]]) : undefined, apiTokenHashes: config[ENV.apiTokens] },
      readiness: [
        { name: "redis", check: async () => (await redis.ping()) === "PONG" },
        ...(kc ? [{ name: "kubernetes", check: async () => (await kube.listPods(["default"]).then(() => true)) }] : []),
      ],
      api: {
        reviewer: kc ? createAccessReviewer(kc, config[ENV.tokenReviewAudiences]) : undefined,
        apiTokenHashes: config[ENV.apiTokens],
        ciSecrets: config[ENV.ciHmacSecrets],
        index,
        kube,
        owners: kc ? createOwnerLookup(kc) : { replicaSetOwner: () => Promise.reject(new Error("no Kubernetes")) },
        producer,
        audit: new AuditLog(redis, prefix, log),
        replay: new ReplayGuard(redis, prefix),
        rateLimitPerMinute: config[ENV.httpRateLimit],
        log,
      },
    });
    try {
      return await app.fetch(request, env, ctx as never);
    } finally {
      ctx.waitUntil(producer.close().finally(() => redis.quit().catch(() => redis.disconnect())));
    }
  },
};
