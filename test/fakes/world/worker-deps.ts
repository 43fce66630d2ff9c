/** WorkerDeps over the in-memory fakes, with the jobs a processor enqueues and its log lines captured. */
import { randomBytes } from "node:crypto";
import type { Job } from "bullmq";
import { Writable } from "node:stream";
import { Registry } from "prom-client";
import type { KeyedLock } from "../../../shared/index/keyed-lock.ts";
import { SealBox } from "../../../shared/index/seal-box.ts";
import type { JobProducer } from "../../../shared/jobs/producer.ts";
import { createLogger } from "../../../shared/observability/log.ts";
import { createMetrics } from "../../../shared/observability/metrics.ts";
import type { WorkerDeps, WorkerSettings } from "../../../workers/deps.ts";
import { FakeIndex } from "./fake-index.ts";
import { FakeKube } from "./fake-kube.ts";
import { FakeVault } from "./fake-vault.ts";

export interface FakeWorld {
  readonly deps: WorkerDeps;
  readonly kube: FakeKube;
  readonly vault: FakeVault;
  readonly index: FakeIndex;
  /** Every job enqueued: [kind, payload]. */
  readonly jobs: Array<[string, unknown]>;
  readonly logs: string[];
}

export function fakeWorld(settings: Partial<WorkerSettings> = {}): FakeWorld {
  const kube = new FakeKube();
  const vault = new FakeVault();
  const index = new FakeIndex();
  const jobs: Array<[string, unknown]> = [];
  const logs: string[] = [];
  let n = 0;
  const enqueue = (kind: string) => async (data: unknown) => {
    jobs.push([kind, data]);
    return `${kind}-${++n}`;
  };
  const producer = {
    issue: enqueue("issue"),
    revoke: enqueue("revoke"),
    forcedRevoke: enqueue("revoke"),
    renew: enqueue("renew"),
    retire: enqueue("retire"),
    unseal: enqueue("unseal"),
    operation: enqueue("operation"),
    cancelRenew: async () => undefined,
    removeRenewJob: async () => undefined,
    renewPending: async (id: string | undefined) => id !== undefined && index.timers.has(id),
    renewTimers: { size: async () => index.timers.size },
    queues: Object.fromEntries(
      ["issue", "renew", "revoke", "unseal"].map((q) => [
        q,
        { getJobCounts: async () => ({}), getJob: async () => undefined },
      ]),
    ),
  } as unknown as JobProducer;
  const lock = {
    run: async <T>(_key: string, fn: () => Promise<T>) => ({ locked: true as const, value: await fn() }),
  } as unknown as KeyedLock;
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const deps: WorkerDeps = {
    vault,
    kube,
    index: index.asPodIndex(),
    lock,
    producer,
    sealBox: new SealBox(randomBytes(32)),
    log: createLogger("debug", sink),
    metrics: createMetrics(new Registry(), { processMetrics: false }),
    settings: {
      tokenAudience: "vault",
      tokenExpirationSeconds: 600,
      defaultAuthPath: "kubernetes",
      rotationGraceSeconds: 30,
      renewJitterPercent: 0,
      sealedRetryMs: 100,
      namespaces: [],
      vaultAnnotations: true,
      staticSecretRenderIntervalSeconds: 300,
      ...settings,
    },
    now: Date.now,
    random: () => 0,
  };
  return { deps, kube, vault, index, jobs, logs };
}

/** The part of a BullMQ Job the processors touch. */
export function fakeJob<T>(data: T, opts: { name?: string; id?: string } = {}): Job {
  return {
    name: opts.name ?? "job",
    id: opts.id ?? "job-1",
    data,
    attemptsMade: 0,
    timestamp: Date.now(),
    opts: { attempts: 3 },
    moveToDelayed: async () => undefined,
    updateProgress: async () => undefined,
  } as unknown as Job;
}

/** A pod that opts in with leasekeeper.io annotations (one database secret). */
export function optedPod(name: string, namespace: string, extra: Record<string, string> = {}) {
  return {
    metadata: {
      name,
      namespace,
      annotations: { "leasekeeper.io/role": "r", "leasekeeper.io/secret-creds.json": "database/creds/r", ...extra },
    },
    spec: { serviceAccountName: "app", containers: [{ name: "app", image: "a" }] },
    status: { phase: "Running" },
  };
}
