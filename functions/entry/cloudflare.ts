import { KubeConfig } from "@kubernetes/client-node";
import { Redis } from "ioredis";
import { ConfigError, loadHttpConfig, type HttpConfig } from "../../shared/config/config.ts";
import { JobProducer } from "../../shared/jobs/producer.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { createLogger } from "../../shared/observability/log.ts";
import { createMetrics } from "../../shared/observability/metrics.ts";
import type { KubePort } from "../../shared/ports/vault-kube.ts";
import { createApp } from "../http/app.ts";
import { buildAppDeps } from "./app-deps.ts";
import { RequestScope } from "./request-scope.ts";

/**
 * Cloudflare Worker entry (wrangler.toml, nodejs_compat): the same Hono app as on Node — the
 * CloudEvents route, the CI hook and the on-call routes — built by the same buildAppDeps, without
 * the pod watcher, queue workers, reconciler, admission webhook or queue dashboard, which run on
 * Node. The app is built once per isolate, so its auth caches and limits outlive one request;
 * Redis (rediss:// from Cloudflare) is opened per request and closed after it, reached through a
 * RequestScope: a connection kept at module level hangs after the first request, because Workers
 * do not let I/O objects outlive the request that made them.
 */
const metrics = createMetrics(undefined, { processMetrics: false });

interface PerRequest {
  readonly redis: Redis;
  readonly producer: JobProducer;
}

/** One app per isolate (auth caches live as long as it); Redis and the producer are per request. */
interface Isolate {
  readonly env: unknown;
  readonly config: HttpConfig;
  readonly app: ReturnType<typeof createApp>;
  readonly scope: RequestScope<PerRequest>;
}
let isolate: Isolate | undefined;

function isolateFor(env: Record<string, unknown>): Isolate {
  if (isolate?.env === env) return isolate;
  const config = loadHttpConfig(env);
  const kc = kubeConfig(config);
  const scope = new RequestScope<PerRequest>();
  const app = createApp(
    buildAppDeps({
      settings: config,
      redis: scope.forwarder((r) => r.redis),
      producer: scope.forwarder((r) => r.producer),
      kc,
      kube: kc ? createKubeClient(kc) : noKube,
      metrics,
      log: createLogger(config.logLevel),
      // /readyz stays one bounded Redis ping: it is public, and each call costs a connection here.
      probeKubernetes: false,
    }),
  );
  isolate = { env, config, app, scope };
  return isolate;
}

function kubeConfig(config: HttpConfig): KubeConfig | undefined {
  if (!config.kubeServer) return undefined;
  const kc = new KubeConfig();
  // client-node refuses http:// unless told there is no TLS to verify; https:// always verifies (caData or public CAs).
  kc.loadFromOptions({
    clusters: [
      {
        name: "cluster",
        server: config.kubeServer,
        ...(config.kubeCaData ? { caData: config.kubeCaData } : {}),
        skipTLSVerify: config.kubeServer.startsWith("http://"),
      },
    ],
    users: [{ name: "leasekeeper", token: config.kubeToken }],
    contexts: [{ name: "leasekeeper", cluster: "cluster", user: "leasekeeper" }],
    currentContext: "leasekeeper",
  });
  return kc;
}

const noKube: KubePort = new Proxy({} as KubePort, {
  get: () => () => Promise.reject(new Error("LEASEKEEPER_KUBE_SERVER is not set: this Worker cannot reach Kubernetes")),
});

export default {
  async fetch(
    request: Request,
    env: Record<string, unknown>,
    ctx: { waitUntil(p: Promise<unknown>): void },
  ): Promise<Response> {
    let current: Isolate;
    try {
      current = isolateFor(env);
    } catch (err) {
      // The details go to the Worker's log (values hidden); callers learn only that it is misconfigured.
      console.error(err instanceof ConfigError ? err.message : "invalid Worker configuration");
      return Response.json(
        { error: { code: "misconfigured", message: "leasekeeper's Worker is misconfigured; see its logs" } },
        { status: 500 },
      );
    }
    const { config, app, scope } = current;
    const redis = new Redis(config.redisUrl, {
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      enableAutoPipelining: true,
    });
    redis.on("error", () => undefined);
    const producer = new JobProducer({ connection: redis, prefix: config.queuePrefix, attempts: config.maxAttempts });
    try {
      return await scope.run({ redis, producer }, () => app.fetch(request, env, ctx as never));
    } finally {
      ctx.waitUntil(producer.close().finally(() => redis.quit().catch(() => redis.disconnect())));
    }
  },
};
