import type { KubeConfig } from "@kubernetes/client-node";
import type { Hono } from "hono";
import { AuditLog } from "../../shared/audit/audit-log.ts";
import type { Config } from "../../shared/config/config.ts";
import { PodIndex } from "../../shared/index/pod-index.ts";
import type { JobProducer } from "../../shared/jobs/producer.ts";
import { createAccessReviewer } from "../../shared/kube/access-review.ts";
import { createOwnerLookup } from "../../shared/kube/owner-client.ts";
import type { Log } from "../../shared/observability/log.ts";
import type { Metrics } from "../../shared/observability/metrics.ts";
import { PodEventRouter } from "../../shared/pods/pod-events.ts";
import type { KubePort } from "../../shared/ports/vault-kube.ts";
import type { RedisClient } from "../../shared/redis/connection.ts";
import { createRedisRateCounter } from "../../shared/redis/rate-counter.ts";
import type { OwnerLookup } from "../../shared/scopes/resolve.ts";
import type { AdmissionSettings } from "../http/admission-plan.ts";
import type { AppDeps, ReadinessCheck } from "../http/app.ts";
import { ReplayGuard } from "../http/auth/replay-guard.ts";
import type { UnsealRouteDeps } from "../http/unseal-route.ts";

/** The settings the HTTP app reads: the same names on Node and on the Cloudflare Worker. */
export type HttpSettings = Pick<
  Config,
  | "queuePrefix"
  | "namespaces"
  | "vaultAnnotations"
  | "eventsAuth"
  | "eventsAudience"
  | "apiTokens"
  | "tokenReviewAudiences"
  | "ciHmacSecrets"
  | "httpRateLimit"
  | "auditRetentionSeconds"
  | "auditRateLimit"
>;

export interface AppParts {
  readonly settings: HttpSettings;
  readonly redis: RedisClient;
  /** The cluster, when this process can reach it (a Worker without LEASEKEEPER_KUBE_SERVER cannot). */
  readonly kc: KubeConfig | undefined;
  readonly kube: KubePort;
  readonly producer: JobProducer;
  readonly metrics: Metrics;
  readonly log: Log;
  /** POST /v1/admission/pods (Node only: the API server calls it over TLS). */
  readonly admission?: AdmissionSettings | undefined;
  readonly unseal?: UnsealRouteDeps | undefined;
  /** The BullMQ dashboard (Node only). */
  readonly adminQueues?: Hono | undefined;
  /** Checks beyond Redis (e.g. the roles running in this process). */
  readonly readiness?: readonly ReadinessCheck[];
  /** /readyz also lists pods to prove the API server answers (Node; the Worker keeps /readyz to one Redis ping). */
  readonly probeKubernetes?: boolean;
}

const noOwners: OwnerLookup = {
  replicaSetOwner: () => Promise.reject(new Error("this process cannot reach Kubernetes")),
};

/** Pod events (watch or CloudEvents) into jobs, with the same settings everywhere. */
export function buildRouter(settings: HttpSettings, producer: JobProducer, index: PodIndex): PodEventRouter {
  return new PodEventRouter(producer, index, settings.namespaces, undefined, settings.vaultAnnotations);
}

/** The HTTP app's dependencies, built the same way by every entry point (Node, Cloudflare, tests). */
export function buildAppDeps(parts: AppParts): AppDeps {
  const { settings, redis, kc, kube, producer, metrics, log } = parts;
  const index = new PodIndex(redis, settings.queuePrefix);
  const apiTokenHashes = settings.apiTokens;
  return {
    router: buildRouter(settings, producer, index),
    kube,
    index,
    producer,
    metrics,
    registry: metrics.registry,
    log,
    eventsAuth:
      settings.eventsAuth === "none"
        ? { mode: "none" }
        : {
            mode: "kubernetes",
            reviewer: kc ? createAccessReviewer(kc, [settings.eventsAudience]) : undefined,
            apiTokenHashes,
          },
    unseal: parts.unseal,
    admission: parts.admission ? { settings: parts.admission, log } : undefined,
    api: {
      reviewer: kc ? createAccessReviewer(kc, settings.tokenReviewAudiences) : undefined,
      apiTokenHashes,
      ciSecrets: settings.ciHmacSecrets,
      index,
      kube,
      owners: kc ? createOwnerLookup(kc) : noOwners,
      producer,
      audit: new AuditLog(redis, settings.queuePrefix, log, {
        retentionSeconds: settings.auditRetentionSeconds,
        perActorPerMinute: settings.auditRateLimit,
      }),
      replay: new ReplayGuard(redis, settings.queuePrefix),
      unseal: parts.unseal,
      rateLimitPerMinute: settings.httpRateLimit,
      rateCounter: createRedisRateCounter(redis, settings.queuePrefix),
      adminQueues: parts.adminQueues,
      log,
    },
    readiness: [
      { name: "redis", check: async () => (await redis.ping()) === "PONG" },
      ...(kc && parts.probeKubernetes !== false
        ? [
            {
              name: "kubernetes",
              check: async () => await kube.listPods([settings.namespaces[0] ?? "default"]).then(() => true),
            },
          ]
        : []),
      ...(parts.readiness ?? []),
    ],
  };
}
