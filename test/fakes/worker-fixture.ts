/**
 * WorkerDeps for fast processor tests: the in-memory Vault and Kubernetes fakes, the real pod
 * index, lock and producer on a private Redis (fresh key prefix per fixture), a clock the test
 * moves, logs captured. Processors run exactly as built by createXProcessor(deps).
 */
import { randomBytes } from "node:crypto";
import { suite } from "uvu";
import { Writable } from "node:stream";
import type { Job } from "bullmq";
import type { V1Pod } from "@kubernetes/client-node";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { KeyedLock } from "../../shared/index/keyed-lock.ts";
import { PodIndex } from "../../shared/index/pod-index.ts";
import type { PodRecord } from "../../shared/index/pod-record.ts";
import { SealBox } from "../../shared/index/seal-box.ts";
import { JobProducer } from "../../shared/jobs/producer.ts";
import { createLogger } from "../../shared/observability/log.ts";
import { createMetrics } from "../../shared/observability/metrics.ts";
import type { IssueOutcome, RenewJob, RetireJob } from "../../shared/jobs/job-types.ts";
import { renewTimersKey } from "../../shared/jobs/renew-timers.ts";
import type { PodRef } from "../../shared/pods/pod-state.ts";
import type { RetryState } from "../../shared/jobs/failure-backoff.ts";
import type { WorkerDeps, WorkerSettings } from "../../workers/deps.ts";
import { createIssueProcessor } from "../../workers/issue.ts";
import { createRevokeProcessor } from "../../workers/revoke.ts";
import { FakeKube } from "./fake-kube.ts";
import { FakeVault, type FakeRole, type FakeSecret } from "./fake-vault.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";

export const NAMESPACE = "shop";
export const ROLE: FakeRole = {
  serviceAccounts: [`${NAMESPACE}/app`],
  paths: ["database/creds/app", "secret/data/app"],
  tokenTtlSeconds: 86_400,
  tokenMaxTtlSeconds: 7 * 86_400,
};
export const DB: FakeSecret = {
  data: { password: "db-pass" },
  lease: { ttlSeconds: 3600, maxTtlSeconds: 86_400, renewable: true },
};
export const KV: FakeSecret = { data: { data: { password: "kv-pass" } } };

export interface WorkerFixture {
  readonly deps: WorkerDeps;
  readonly vault: FakeVault;
  readonly kube: FakeKube;
  readonly logs: string[];
  /** Moves the clock every dependency reads. */
  advance(ms: number): void;
  /** An opted-in pod asking for creds.json (a database lease) and config.json (KV) unless told otherwise. */
  addPod(name: string, annotations?: Record<string, string>): V1Pod;
  record(uid: string): Promise<PodRecord>;
  close(): Promise<void>;
}

export function workerFixture(redisUrl: string, settings: Partial<WorkerSettings> = {}): WorkerFixture {
  let now = Date.now();
  const clock = () => now;
  const kube = new FakeKube();
  const vault = new FakeVault((jwt) => kube.review(jwt), clock);
  vault.roles.set("app", ROLE);
  vault.secrets.set("database/creds/app", DB);
  vault.secrets.set("secret/data/app", KV);
  const logs: string[] = [];
  const log = createLogger(
    "debug",
    new Writable({
      write(chunk: Buffer, _e, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const prefix = `{t-${randomBytes(4).toString("hex")}}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const producer = new JobProducer({ connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix, attempts: 3 });
  const deps: WorkerDeps = {
    vault,
    kube,
    index: new PodIndex(redis, prefix),
    lock: new KeyedLock(redis, prefix, 10_000),
    producer,
    sealBox: new SealBox(randomBytes(32)),
    log,
    metrics: createMetrics(new Registry(), { processMetrics: false }),
    settings: {
      tokenAudience: "vault",
      tokenExpirationSeconds: 600,
      defaultAuthPath: "kubernetes",
      rotationGraceSeconds: 30,
      renewJitterPercent: 0,
      sealedRetryMs: 2000,
      namespaces: [],
      vaultAnnotations: false,
      staticSecretRenderIntervalSeconds: 300,
      ...settings,
    },
    now: clock,
    random: () => 0,
  };
  return {
    deps,
    vault,
    kube,
    logs,
    advance: (ms) => void (now += ms),
    addPod: (name, annotations) =>
      kube.addPod({
        metadata: {
          name,
          namespace: NAMESPACE,
          annotations: annotations ?? {
            "leasekeeper.io/role": "app",
            "leasekeeper.io/secret-creds.json": "database/creds/app",
            "leasekeeper.io/secret-config.json": "secret/data/app",
          },
        },
        spec: { serviceAccountName: "app", containers: [] },
        status: { phase: "Running" },
      }),
    record: async (uid) => {
      const record = await deps.index.get(uid);
      if (!record) throw new Error(`no index record for ${uid}`);
      return record;
    },
    async close() {
      await producer.close();
      redis.disconnect();
    },
  };
}

/** A uvu suite whose tests each get a fresh WorkerFixture as `f` (one private Redis for the file). */
export function workerSuite(name: string) {
  const test = suite<{ redis: RedisServer; f: WorkerFixture }>(name);
  test.before(async (ctx) => {
    ctx.redis = await startRedis();
  });
  test.after(async (ctx) => ctx.redis?.stop());
  test.before.each((ctx) => {
    ctx.f = workerFixture(ctx.redis.url);
  });
  test.after.each(async (ctx) => ctx.f.close());
  return test;
}

/** Runs a processor on a job as BullMQ would hand it over (first attempt); R is the outcome type the test expects. */
export async function runProcessor<R>(
  processor: (job: Job, token?: string) => Promise<unknown>,
  name: string,
  data: unknown,
  id = `${name}-test`,
): Promise<R> {
  const job = {
    id,
    name,
    data,
    attemptsMade: 0,
    timestamp: Date.now(),
    // The producer's default: quick retries before a failure backoff.
    opts: { attempts: 3 },
    moveToDelayed: async () => undefined,
    updateProgress: async () => undefined,
  };
  return (await processor(job as unknown as Job, "token")) as R;
}

/** What a run that failed left on its job: the retry state it recorded and when it runs again. */
export interface Backoff {
  readonly state: RetryState;
  /** From the moment the run ended to the job's next run. */
  readonly delayMs: number;
}

/**
 * Runs a processor on a job that is expected to fail and wait (BullMQ DelayedError): the job's
 * progress starts as `progress` (a later run of a job already in backoff) and the answer is what
 * the run recorded. Fails the test if the run completed or failed for good.
 */
export async function runToBackoff(
  processor: (job: Job, token?: string) => Promise<unknown>,
  name: string,
  data: unknown,
  options: { id?: string; progress?: unknown; attemptsMade?: number } = {},
): Promise<Backoff> {
  let progress: unknown = options.progress ?? 0;
  let delayedUntil: number | undefined;
  const job = {
    id: options.id ?? `${name}-test`,
    name,
    data,
    attemptsMade: options.attemptsMade ?? 0,
    timestamp: Date.now(),
    opts: { attempts: 3 },
    get progress() {
      return progress;
    },
    moveToDelayed: async (timestamp: number) => void (delayedUntil = timestamp),
    updateProgress: async (value: unknown) => void (progress = value),
  };
  const thrown = await (processor(job as unknown as Job, "token") as Promise<unknown>).then(
    (result) => new Error(`expected a backoff, the job completed: ${JSON.stringify(result)}`),
    (err: unknown) => err as Error,
  );
  if (thrown.name !== "DelayedError") throw thrown;
  const state = (progress as { retry?: RetryState }).retry;
  if (!state || delayedUntil === undefined) throw new Error("DelayedError without a recorded retry state");
  return { state, delayMs: delayedUntil - Date.now() };
}

/** An opted-in pod, issued by the issue processor: its reference and index record. */
export async function issuedPod(
  f: WorkerFixture,
  name: string,
): Promise<{ pod: V1Pod; ref: PodRef; record: PodRecord }> {
  const pod = f.addPod(name);
  const ref = refOf(pod);
  const outcome = await runProcessor<IssueOutcome>(createIssueProcessor(f.deps), "issue", { ...ref, source: "watch" });
  if (outcome.outcome !== "issued") throw new Error(`issue: ${outcome.outcome}`);
  return { pod, ref, record: await f.record(ref.uid) };
}

/**
 * The pod's next renewal as it waits in Redis: a timer (renew-timers.ts; its job will carry only
 * the UID, as the pump queues it) or a job queued at once (a retry, a renewal due soon).
 */
export async function scheduledRenewal(
  f: WorkerFixture,
  uid: string,
): Promise<{ id: string; data: RenewJob; delayMs: number; via: "timer" | "job" } | undefined> {
  const id = (await f.record(uid)).renewJobId;
  if (!id) return undefined;
  const producer = f.deps.producer;
  const client = await producer.queues.renew.getBackend().client;
  const dueAt = await client.zscore(renewTimersKey(producer.queues.renew.opts.prefix ?? "bull"), id);
  if (dueAt !== null) return { id, data: { uid, force: false }, delayMs: Number(dueAt) - f.deps.now(), via: "timer" };
  const job = await producer.queues.renew.getJob(id);
  if (!job?.id) return undefined;
  return { id: job.id, data: job.data as RenewJob, delayMs: job.opts.delay ?? 0, via: "job" };
}

/** The retire jobs queued for a pod: what they revoke and after how long. */
export async function queuedRetires(
  f: WorkerFixture,
  uid: string,
): Promise<{ id: string; data: RetireJob; delayMs: number }[]> {
  const jobs = await f.deps.producer.queues.revoke.getJobs(["delayed", "prioritized", "wait"]);
  return jobs
    .filter((j) => j.name === "retire" && (j.data as RetireJob).uid === uid)
    .map((j) => ({ id: j.id ?? "", data: j.data as RetireJob, delayMs: j.opts.delay ?? 0 }));
}

/** Runs every retire job queued for a pod now, as the revoke queue's worker would once they are due. */
export async function runRetires(f: WorkerFixture, uid: string): Promise<number> {
  const jobs = await queuedRetires(f, uid);
  for (const job of jobs) await runProcessor(createRevokeProcessor(f.deps), "retire", job.data, job.id);
  return jobs.length;
}

/** The pod's Secret's files as the app would read them. */
export function podFiles(f: WorkerFixture, pod: V1Pod): Record<string, string> {
  return f.kube.files(NAMESPACE, `${pod.metadata?.name ?? ""}-leasekeeper`) ?? {};
}

/** The pod reference a job carries. */
export function refOf(pod: V1Pod): PodRef {
  return { uid: pod.metadata?.uid ?? "", namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "" };
}
