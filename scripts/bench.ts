/**
 * `npm run bench [-- --pods N] [--json]`: a burst of N pods (default 1000) created at once
 * through the Kubernetes emulator, with leasekeeper running every role in its own process.
 * Prints issue latency and throughput, renewal capacity, revoke latency, leasekeeper's RSS,
 * Redis bytes per live pod, leases that expired while their pod lived, and what the Vault Agent
 * Injector would request for the same pods.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { Watch, KubeConfig } from "@kubernetes/client-node";
import { leasekeeperEnv, seedExample, startStack } from "../test/helpers/stack.ts";
import { freePort } from "../test/helpers/ports.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const podsArg = args.indexOf("--pods");
const N = podsArg >= 0 ? Number(args[podsArg + 1]) : 1000;
if (!Number.isInteger(N) || N < 1) throw new Error("--pods must be a positive integer");
const log = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function limit<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

/** user+system CPU seconds of a process, from /proc. */
function childCpuSeconds(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const stack = await startStack({ podGraceSeconds: 0 });
const seeded = await seedExample(stack, { dbDefaultTtl: "300s", dbMaxTtl: "1h", tokenTtl: "300s", tokenMaxTtl: "1h" });
const httpPort = await freePort();
const prefix = "{leasekeeper}";
const child = spawn(
  process.execPath,
  [
    ...(process.env.BENCH_CHILD_NODE_ARGS ?? "").split(" ").filter(Boolean),
    "--import",
    "tsx",
    "functions/entry/node.ts",
  ],
  {
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      ...leasekeeperEnv(stack, seeded, httpPort),
      LEASEKEEPER_LOG_LEVEL: "warn",
      LEASEKEEPER_ISSUE_CONCURRENCY: process.env.LEASEKEEPER_ISSUE_CONCURRENCY ?? "64",
      LEASEKEEPER_RENEW_CONCURRENCY: process.env.LEASEKEEPER_RENEW_CONCURRENCY ?? "64",
      LEASEKEEPER_REVOKE_CONCURRENCY: process.env.LEASEKEEPER_REVOKE_CONCURRENCY ?? "64",
      LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600",
    },
  },
);
const api = `http://127.0.0.1:${httpPort}`;
const metric = async (name: string, labels: string): Promise<number> => {
  const text = await (await fetch(`${api}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(" ").pop()) : 0;
};

try {
  for (let i = 0; ; i++) {
    const ok = await fetch(`${api}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (i > 200) throw new Error("leasekeeper did not become ready");
    await sleep(100);
  }
  const redis = new Redis(stack.redis.url);
  const memory = async () => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);
  const baseline = await memory();

  const kc = new KubeConfig();
  kc.loadFromFile(stack.kubeconfigPath);
  const secretSeen = new Map<string, number>();
  const podDeleted = new Map<string, number>();
  const watch = new Watch(kc);
  const secretWatch = await watch.watch(
    "/api/v1/namespaces/default/secrets",
    {},
    (type, obj: { metadata?: { name?: string } }) => {
      const name = obj.metadata?.name ?? "";
      if (type === "ADDED" && !secretSeen.has(name)) secretSeen.set(name, performance.now());
    },
    () => undefined,
  );
  const podWatch = await watch.watch(
    "/api/v1/namespaces/default/pods",
    {},
    (type, obj: { metadata?: { uid?: string } }) => {
      if (type === "DELETED") podDeleted.set(obj.metadata?.uid ?? "", Date.now());
    },
    () => undefined,
  );

  // Burst: every pod created at once (bounded only by in-flight requests).
  const names = Array.from({ length: N }, (_, i) => `bench-${i}`);
  const created = new Map<string, number>();
  const uidOf = new Map<string, string>();
  log(`creating ${N} pods …`);
  const burstStart = performance.now();
  const redisCpu = async () => {
    const info = await redis.info("cpu");
    return Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0) + Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
  };
  const cpuAtBurst = { bench: process.cpuUsage(), leasekeeper: childCpuSeconds(child.pid), redis: await redisCpu() };
  await limit(names, 100, async (name) => {
    const pod = await stack.core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: {
          name,
          annotations: {
            "leasekeeper.io/role": "postgres",
            "leasekeeper.io/secret-creds.json": "database/creds/postgres-role",
          },
        },
        spec: { serviceAccountName: "postgres-vault", containers: [{ name: "app", image: "busybox" }] },
      },
    });
    created.set(name, performance.now());
    uidOf.set(name, pod.metadata?.uid ?? "");
  });
  const deadline = Date.now() + 300_000;
  while (names.some((n) => !secretSeen.has(`${n}-leasekeeper`))) {
    if (Date.now() > deadline) throw new Error(`only ${secretSeen.size}/${N} Secrets after 300 s`);
    await sleep(50);
  }
  const issueLatencies = names.map((n) => (secretSeen.get(`${n}-leasekeeper`) ?? NaN) - (created.get(n) ?? NaN));
  const lastSecret = Math.max(...names.map((n) => secretSeen.get(`${n}-leasekeeper`) ?? 0));
  const issueSeconds = (lastSecret - burstStart) / 1000;
  const benchCpu = process.cpuUsage(cpuAtBurst.bench);
  const cpuAfterIssue = {
    leasekeeper: childCpuSeconds(child.pid) - cpuAtBurst.leasekeeper,
    emulators: (benchCpu.user + benchCpu.system) / 1e6,
    redis: (await redisCpu()) - cpuAtBurst.redis,
  };
  await sleep(500);
  const redisPerPod = ((await memory()) - baseline) / N;
  // The keyspace itself (MEMORY USAGE of every key), without client buffers and allocator slack.
  let keyspaceBytes = 0;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "COUNT", 1000);
    cursor = next;
    for (const key of keys) keyspaceBytes += Number(await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
  } while (cursor !== "0");
  const keyspacePerPod = keyspaceBytes / N;
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  const peakMiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;

  // Renewal capacity: every pod's scheduled renewal made due at once.
  log("renewing every pod at once …");
  const renewQueue = new Queue("renew", { connection: { url: stack.redis.url }, prefix });
  const before = await metric("leasekeeper_jobs_total", 'queue="renew",outcome="renewed"');
  const delayed = await renewQueue.getDelayed(0, N);
  const renewStart = performance.now();
  await limit(delayed, 50, async (job) => {
    await job.promote();
  });
  for (;;) {
    const done = (await metric("leasekeeper_jobs_total", 'queue="renew",outcome="renewed"')) - before;
    if (done >= delayed.length) break;
    if (performance.now() - renewStart > 300_000) throw new Error(`renewals stalled at ${done}`);
    await sleep(100);
  }
  const renewSeconds = (performance.now() - renewStart) / 1000;
  await renewQueue.close();

  const expiredWhileAlive = stack.vault.control
    .leases()
    .filter((l) => l.revoked && l.revokedAt !== null && l.revokedAt.getTime() >= l.expireTime.getTime()).length;

  // Revoke: every pod deleted at once (grace 0); DELETED -> lease revoked in Vault.
  log("deleting every pod …");
  const leaseOf = new Map<string, string>();
  for (const secret of (
    await stack.core.listNamespacedSecret({ namespace: "default", labelSelector: "leasekeeper.io/managed=true" })
  ).items) {
    const uid = secret.metadata?.labels?.["leasekeeper.io/pod-uid"] ?? "";
    const ids = JSON.parse(secret.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]") as Array<{ id: string }>;
    if (ids[0]) leaseOf.set(uid, ids[0].id);
  }
  const revokedTimes = () =>
    new Map(
      stack.vault.control
        .leases()
        .filter((l) => l.revoked && l.revokedAt)
        .map((l) => [l.id, l.revokedAt?.getTime() ?? 0]),
    );
  const revokeLatenciesOf = async (batch: string[]) => {
    const ids = batch.map((n) => leaseOf.get(uidOf.get(n) ?? "")).filter((id): id is string => id !== undefined);
    const deadline = Date.now() + 300_000;
    let revokedAt = revokedTimes();
    while (!ids.every((id) => revokedAt.has(id))) {
      if (Date.now() > deadline) throw new Error("revocations did not finish in 300 s");
      await sleep(50);
      revokedAt = revokedTimes();
    }
    return batch
      .map(
        (n) =>
          (revokedAt.get(leaseOf.get(uidOf.get(n) ?? "") ?? "") ?? NaN) - (podDeleted.get(uidOf.get(n) ?? "") ?? NaN),
      )
      .filter((v) => Number.isFinite(v));
  };
  // Paced: pods dying one by one (20/s), as in normal operation or a rolling restart.
  const paced = names.slice(0, Math.min(100, Math.floor(N / 4)));
  for (const name of paced) {
    await stack.core.deleteNamespacedPod({ namespace: "default", name, gracePeriodSeconds: 0 });
    await sleep(50);
  }
  const pacedLatencies = await revokeLatenciesOf(paced);
  // Burst: every remaining pod deleted at once.
  const rest = names.slice(paced.length);
  await limit(rest, 100, async (name) => {
    await stack.core.deleteNamespacedPod({ namespace: "default", name, gracePeriodSeconds: 0 });
  });
  const revokeLatencies = await revokeLatenciesOf(rest);
  secretWatch.abort();
  podWatch.abort();
  redis.disconnect();

  const result = {
    pods: N,
    issue: {
      p50Ms: pct(issueLatencies, 50),
      p95Ms: pct(issueLatencies, 95),
      p99Ms: pct(issueLatencies, 99),
      podsPerSecond: N / issueSeconds,
      burstSeconds: issueSeconds,
    },
    renew: {
      jobs: delayed.length,
      seconds: renewSeconds,
      jobsPerSecond: delayed.length / renewSeconds,
      renewalsPerSecond: (delayed.length * 2) / renewSeconds,
    },
    revoke: { measured: revokeLatencies.length, p50Ms: pct(revokeLatencies, 50), p99Ms: pct(revokeLatencies, 99) },
    revokePaced: {
      measured: pacedLatencies.length,
      perSecond: 20,
      p50Ms: pct(pacedLatencies, 50),
      p99Ms: pct(pacedLatencies, 99),
    },
    leasekeeperRssMiB: rssMiB,
    leasekeeperPeakRssMiB: peakMiB,
    redisBytesPerLivePod: redisPerPod,
    redisKeyspaceBytesPerLivePod: keyspacePerPod,
    leasesExpiredWhilePodLived: expiredWhileAlive,
    cpuSecondsDuringIssue: {
      leasekeeper: cpuAfterIssue.leasekeeper,
      emulatorsAndBench: cpuAfterIssue.emulators,
      redis: cpuAfterIssue.redis,
    },
    vaultAgentInjector: { cpuCores: (N * 2 * 250) / 1000, memoryGiB: (N * 2 * 64) / 1024 },
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const r = (v: number, d = 0) => v.toFixed(d);
    const rows: Array<[string, string, string]> = [
      [
        "issue latency p50 / p95 / p99",
        `${r(result.issue.p50Ms)} / ${r(result.issue.p95Ms)} / ${r(result.issue.p99Ms)} ms`,
        "p99 <= 1000 ms",
      ],
      [
        "issue throughput",
        `${r(result.issue.podsPerSecond, 1)} pods/s (${N} in ${r(issueSeconds, 2)} s)`,
        ">= 300 pods/s",
      ],
      [
        "renewal capacity",
        `${r(result.renew.renewalsPerSecond, 1)} renewals/s (${r(result.renew.jobsPerSecond, 1)} pod jobs/s)`,
        "",
      ],
      [
        "revoke latency, pods dying 20/s",
        `${r(result.revokePaced.p50Ms)} / ${r(result.revokePaced.p99Ms)} ms (p50 / p99, ${pacedLatencies.length} pods)`,
        "p99 <= 500 ms",
      ],
      [
        "revoke latency, the rest at once",
        `${r(result.revoke.p50Ms)} / ${r(result.revoke.p99Ms)} ms (p50 / p99, ${revokeLatencies.length} pods)`,
        "p99 <= 500 ms",
      ],
      ["leasekeeper RSS (now / peak)", `${r(rssMiB)} / ${r(peakMiB)} MiB`, ""],
      [
        "Redis bytes per live pod",
        `${r(keyspacePerPod)} B of keys (${r(redisPerPod)} B used_memory growth)`,
        "<= 2048 B",
      ],
      ["leases expired while pod lived", String(expiredWhileAlive), "0"],
      [
        "CPU used during the burst",
        `leasekeeper ${r(cpuAfterIssue.leasekeeper, 1)} s, emulators+bench ${r(cpuAfterIssue.emulators, 1)} s, Redis ${r(cpuAfterIssue.redis, 1)} s`,
        "",
      ],
      [
        "Vault Agent Injector would request",
        `${r(result.vaultAgentInjector.cpuCores)} CPU cores, ${r(result.vaultAgentInjector.memoryGiB, 1)} GiB`,
        "(init + sidecar, 250m/64Mi each)",
      ],
    ];
    const w = Math.max(...rows.map((row) => row[0].length));
    process.stdout.write(`leasekeeper benchmark: ${N} pods, 2-core machine, emulators in the same machine\n`);
    for (const [k, v, goal] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v.padEnd(44)} ${goal}\n`);
  }
} finally {
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  await stack.close();
}
