import type { KubeConfig } from "@kubernetes/client-node";
import type { ConnectionOptions } from "bullmq";
import type { Cluster } from "ioredis";
import type { Config } from "../../shared/config/config.ts";
import { PodIndex } from "../../shared/index/pod-index.ts";
import { KeyedLock } from "../../shared/index/keyed-lock.ts";
import { SealBox } from "../../shared/index/seal-box.ts";
import { JobProducer } from "../../shared/jobs/producer.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { loadKubeConfig } from "../../shared/kube/kube-config.ts";
import type { Log } from "../../shared/observability/log.ts";
import { createMetrics, type Metrics } from "../../shared/observability/metrics.ts";
import {
  connectRedis,
  redisOptions,
  topologyOf,
  warnOnRedisErrors,
  type RedisClient,
} from "../../shared/redis/connection.ts";
import { controllerToken } from "../../shared/vault/controller-token.ts";
import { createVaultClient } from "../../shared/vault/vault-client.ts";
import type { WorkerDeps } from "../../workers/deps.ts";

/** Every outside connection of a Node process, built once from the config. */
export interface Clients {
  readonly config: Config;
  readonly log: Log;
  readonly kc: KubeConfig;
  readonly redis: RedisClient;
  /** BullMQ's connection: options for a single Redis or Sentinel (it opens its own), a shared Cluster client. */
  readonly bullConnection: ConnectionOptions;
  readonly metrics: Metrics;
  readonly producer: JobProducer;
  /** What every processor and the reconciler use. */
  readonly deps: WorkerDeps;
  close(): Promise<void>;
}

export async function buildClients(config: Config, log: Log): Promise<Clients> {
  const redis = connectRedis(
    config,
    { maxRetriesPerRequest: 3, enableAutoPipelining: true },
    { log, connection: "index" },
  );
  const bullCluster =
    topologyOf(config) === "cluster"
      ? (connectRedis(config, { maxRetriesPerRequest: null }, { log, connection: "queues" }) as Cluster)
      : undefined;
  const bullConnection = bullCluster ?? (redisOptions(config, { maxRetriesPerRequest: null }) as ConnectionOptions);
  const kc = loadKubeConfig(config.kubeconfig, config.kubeTimeoutMs);
  const metrics = createMetrics();
  const producer = new JobProducer({
    connection: bullConnection,
    prefix: config.queuePrefix,
    attempts: config.maxAttempts,
  });
  // A Queue re-emits its connection's errors; without a listener each one is printed raw.
  for (const queue of Object.values(producer.queues)) warnOnRedisErrors(queue, log, `queue ${queue.name}`);
  const vault = createVaultClient({
    endpoint: config.vaultAddr,
    controllerToken: () => controller.current(),
    timeoutMs: config.vaultTimeoutMs,
  });
  const controller = controllerToken(
    config.vaultToken,
    config.vaultRole
      ? { role: config.vaultRole, authPath: config.vaultAuthPath, jwtFile: config.vaultJwtFile }
      : undefined,
    {
      login: (path, role, jwt) => vault.kubernetesLogin(path, role, jwt),
      renewSelf: (token, increment) => vault.renewSelf(token, increment),
      log,
    },
  );
  await controller.start();
  const deps: WorkerDeps = {
    vault,
    kube: createKubeClient(kc),
    index: new PodIndex(redis, config.queuePrefix),
    lock: new KeyedLock(redis, config.queuePrefix, config.podLockMs),
    producer,
    sealBox: new SealBox(config.indexKey),
    log,
    metrics,
    settings: config,
    now: Date.now,
    random: Math.random,
  };
  return {
    config,
    log,
    kc,
    redis,
    bullConnection,
    metrics,
    producer,
    deps,
    async close() {
      controller.stop();
      await producer.close();
      await redis.quit().catch(() => redis.disconnect());
      await bullCluster?.quit().catch(() => bullCluster.disconnect());
    },
  };
}
