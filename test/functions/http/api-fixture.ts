/** An in-process app with the on-call / CI routes over the Kubernetes emulator and a private Redis. */
import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { Writable } from "node:stream";
import { buildAppDeps } from "../../../functions/entry/app-deps.ts";
import { adminQueuesApp } from "../../../functions/http/admin-queues.ts";
import { createApp } from "../../../functions/http/app.ts";
import { sha256Hex } from "../../../functions/http/auth/digest.ts";
import { AuditLog } from "../../../shared/audit/audit-log.ts";
import { loadHttpConfig } from "../../../shared/config/config.ts";
import { PodIndex } from "../../../shared/index/pod-index.ts";
import type { PodRecord } from "../../../shared/index/pod-record.ts";
import { JobProducer } from "../../../shared/jobs/producer.ts";
import { createKubeClient } from "../../../shared/kube/kube-client.ts";
import { loadKubeConfig } from "../../../shared/kube/kube-config.ts";
import { loadConfig } from "../../../shared/config/config.ts";
import { createLogger } from "../../../shared/observability/log.ts";
import { createMetrics } from "../../../shared/observability/metrics.ts";
import { ensureServiceAccount, startStack, type Stack } from "../../helpers/stack.ts";

export interface Fixture {
  readonly stack: Stack;
  readonly app: ReturnType<typeof createApp>;
  readonly redis: Redis;
  readonly index: PodIndex;
  readonly producer: JobProducer;
  readonly audit: AuditLog;
  readonly prefix: string;
  readonly apiToken: string;
  /** CI key with every verb in every namespace (name ci-all). */
  readonly ciSecret: string;
  /** CI key that may only rotate in team-a (name team-a-deploy). */
  readonly ciTeamASecret: string;
  readonly logs: string[];
  /**
   * Service-account tokens for audience leasekeeper: oncall-a (create revocations in team-a), reader
   * (nothing), admin-sa (everything); adminSaApiAudience: admin-sa's token for the API server's audience
   * (what a kubeconfig holds).
   */
  readonly tokens: { oncallA: string; reader: string; adminSa: string; adminSaApiAudience: string };
  close(): Promise<void>;
}

/** `adminQueues`: mount the BullMQ dashboard (and its browser login) as the Node runtime does. */
export async function startFixture(
  options: { rateLimitPerMinute?: number; adminQueues?: boolean } = {},
): Promise<Fixture> {
  const stack = await startStack({ postgres: false, podGraceSeconds: 0 });
  const prefix = `{t-${randomUUID().slice(0, 8)}}`;
  const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 3 });
  const kc = loadKubeConfig(stack.kubeconfigPath);
  const kube = createKubeClient(kc);
  const logs: string[] = [];
  const log = createLogger(
    "info",
    new Writable({
      write(chunk: Buffer, _e, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const metrics = createMetrics();
  const producer = new JobProducer({
    connection: { url: stack.redis.url, maxRetriesPerRequest: null },
    prefix,
    attempts: 3,
  });
  const index = new PodIndex(redis, prefix);
  const audit = new AuditLog(redis, prefix, log);
  const apiToken = randomBytes(24).toString("base64url");
  const ciSecret = randomBytes(32).toString("hex");
  const ciTeamASecret = randomBytes(32).toString("hex");
  for (const ns of ["team-a", "team-b"]) {
    await stack.core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
  }
  await ensureServiceAccount(stack.core, "team-a", "oncall");
  await ensureServiceAccount(stack.core, "team-a", "reader");
  await ensureServiceAccount(stack.core, "kube-system", "ops");
  const issue = (namespace: string, serviceAccount: string, audiences = ["leasekeeper"]) =>
    stack.kube.control.issueToken({ namespace, serviceAccount, audiences, expirationSeconds: 3600 });
  stack.kube.control.setRules([
    {
      users: ["system:serviceaccount:team-a:oncall"],
      verbs: ["create"],
      apiGroups: ["leasekeeper.io"],
      resources: ["revocations", "rotations"],
      namespaces: ["team-a"],
    },
    {
      users: ["system:serviceaccount:team-a:oncall"],
      verbs: ["list", "get"],
      apiGroups: ["leasekeeper.io"],
      resources: ["leases", "jobs"],
      namespaces: ["team-a"],
    },
    { users: ["system:serviceaccount:kube-system:ops"], verbs: ["*"], apiGroups: ["leasekeeper.io"], resources: ["*"] },
    // leasekeeper's own identity (the kubeconfig's) keeps every Kubernetes right it needs.
    { groups: ["system:masters"], verbs: ["*"], resources: ["*"] },
  ]);
  // The same builder as the Node and Cloudflare entry points; only the settings are the test's.
  const app = createApp(
    buildAppDeps({
      // Defaults from the one config schema; only what the test needs is set.
      settings: {
        ...loadHttpConfig({ LEASEKEEPER_REDIS_URL: stack.redis.url }),
        queuePrefix: prefix,
        apiTokens: [sha256Hex(apiToken)],
        ciHmacSecrets: [
          `${ciSecret};verbs=*;namespaces=*;name=ci-all`,
          `${ciTeamASecret};verbs=rotate;namespaces=team-a;name=team-a-deploy`,
        ],
        httpRateLimit: options.rateLimitPerMinute ?? 100_000,
      },
      redis,
      kc,
      kube,
      producer,
      metrics,
      log,
      unseal: {
        discovery: { list: async () => [{ kind: "pod", namespace: "vault", name: "vault-0" }] },
        enqueue: async (job) => producer.unseal(job),
      },
      admission: loadConfig({ LEASEKEEPER_INDEX_KEY: randomBytes(32).toString("base64") }),
      adminQueues: options.adminQueues ? adminQueuesApp(Object.values(producer.queues)) : undefined,
    }),
  );
  return {
    stack,
    app,
    redis,
    index,
    producer,
    audit,
    prefix,
    apiToken,
    ciSecret,
    ciTeamASecret,
    logs,
    tokens: {
      oncallA: issue("team-a", "oncall"),
      reader: issue("team-a", "reader"),
      adminSa: issue("kube-system", "ops"),
      adminSaApiAudience: issue("kube-system", "ops", []),
    },
    async close() {
      await producer.close();
      redis.disconnect();
      await stack.close();
    },
  };
}

/** A pod record as issue would write it (no real token: the sealed token field is a marker that must never be returned). */
export function record(namespace: string, name: string, extra: Partial<PodRecord> = {}): PodRecord {
  const uid = randomUUID();
  const now = Date.now();
  return {
    uid,
    namespace,
    name,
    serviceAccount: "app",
    role: "postgres",
    authPath: "kubernetes",
    secretName: `${name}-leasekeeper`,
    state: "issued",
    accessor: `acc-${uid}`,
    encryptedToken: "SEALED-TOKEN-MARKER-never-returned",
    tokenExpiresAt: now + 3600_000,
    tokenTtlSeconds: 3600,
    tokenRenewable: true,
    leases: [
      {
        id: `database/creds/postgres-role/${uid.slice(0, 8)}`,
        path: "database/creds/postgres-role",
        file: "creds.json",
        expiresAt: now + 600_000,
        renewable: true,
        ttlSeconds: 600,
      },
    ],
    retiring: [],
    issuedAt: now,
    rotations: 0,
    ...extra,
  };
}

export function bearer(token: string, json = true): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...(json ? { "content-type": "application/json" } : {}) };
}
