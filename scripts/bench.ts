/**
 * `npm run bench [-- --pods N] [--quick] [--json] [--baseline run.json] [--no-build]`: leasekeeper,
 * compiled as the image runs it, against the Kubernetes, Vault and KMS emulators with N pods, beside
 * a floor client (scripts/bench-floor.ts) doing the same protocol steps with nothing else. Phases:
 *
 *  1. floor: N pods issued, renewed, revoked by the floor process (its CPU per pod per step)
 *  2. issue burst: N pods (set A) created at once → latency, throughput, CPU per pod, RSS, Redis
 *  3. idle: no churn for a minute (15 s with --quick) → Kubernetes API requests and bytes per minute
 *  4. reconcile: a second process with the watch and the reconciler, one pass over the N pods → CPU and API cost
 *  5. renew: each pod's first renewal as it comes due (~2/3 of the 300 s TTL) → CPU per pod
 *  6. mixed burst: N new pods (set B) created while 90 % of set A is deleted → issue and revoke p99
 *  7. revoke: the rest of A deleted one by one (20/s), then 90 % of B at once → latency, CPU per pod
 *
 * Prints a table with each figure beside its goal, or JSON with --json. docs/benchmark.md explains
 * each figure and how to profile a run. `npm run bench -- --print run.json [--baseline other.json]`
 * prints a saved --json run as the table.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { Redis } from "ioredis";
import { KubeConfig } from "@kubernetes/client-node";
import { leasekeeperEnv, seedExample, startStack, type Stack } from "../test/helpers/stack.ts";
import { freePort } from "../test/helpers/ports.ts";
import { buildDist, builtDist, startLeasekeeper, type LeasekeeperProcess } from "./bench/leasekeeper-process.ts";
import { runFloor } from "./bench/floor-runner.ts";
import { PodTracker } from "./bench/pods.ts";
import {
  cpuSeconds,
  metricValue,
  monotonicMicros,
  pct,
  rssMiB,
  sleep,
  trafficByUser,
  trafficDelta,
  waitFor,
} from "./bench/probes.ts";
import { printTable, type BenchResult } from "./bench/report.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const N = Number(option("--pods") ?? 1000);
if (!Number.isInteger(N) || N < 10) throw new Error("--pods must be an integer >= 10");
const baselineFile = option("--baseline");
/** Progress and each phase's figures on stderr (also with --json, whose document is stdout's). */
const log = (line: string) => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
};
/** The admin identity the bench itself uses; every other user's API traffic is leasekeeper's doing. */
const ADMIN_USER = "kubernetes-admin";
/** config.ts's default LEASEKEEPER_RECONCILE_INTERVAL_SECONDS (the shipped ConfigMap leaves it unset). */
const SHIPPED_RECONCILE_INTERVAL_SECONDS = 60;
const IDLE_WINDOW_SECONDS = quick ? 15 : 60;
const CONCURRENCY = 64;

/** Kubernetes API (every user but the bench's own) and Vault requests so far, to count a phase's. */
function apiCounts(stack: Stack) {
  return { kube: stack.kube.control.traffic(), vault: stack.vault.control.requests().length };
}

/** A phase's API requests per pod: Kubernetes (Vault's TokenReviews included) and Vault. */
function apiPerPod(stack: Stack, before: ReturnType<typeof apiCounts>, pods: number) {
  const kube = trafficDelta(before.kube, stack.kube.control.traffic(), ADMIN_USER);
  return {
    kubeRequests: kube.requests / pods,
    kubeResponseBytes: kube.responseBytes / pods,
    vaultRequests: (stack.vault.control.requests().length - before.vault) / pods,
  };
}

/** Calls per Redis command so far (INFO commandstats; calls made inside Lua scripts count too). */
async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info("commandstats");
  return Object.fromEntries(
    [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1] ?? "", Number(m[2])]),
  );
}

/** Waits until the process has used < 20 ms CPU in 500 ms (its queued work done), at most 15 s. */
async function settle(pid: number): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const before = cpuSeconds(pid);
    await sleep(500);
    if (cpuSeconds(pid) - before < 0.02) return;
  }
}

/** CPU ms of `pid` spent on `work` (until the process settles afterwards), and the wall time. */
async function cpuOf<T>(pid: number, work: () => Promise<T>) {
  const cpu = cpuSeconds(pid);
  const start = performance.now();
  const startMicros = monotonicMicros();
  const value = await work();
  const seconds = (performance.now() - start) / 1000;
  const endMicros = monotonicMicros();
  await settle(pid);
  return { value, cpuMs: (cpuSeconds(pid) - cpu) * 1000, seconds, clock: { startMicros, endMicros } };
}

if (Number(process.versions.node.split(".")[0]) < 24 && !args.includes("--print")) {
  // leasekeeper ships on Node 24 (the image); figures from another runtime are not its figures.
  process.stderr.write(
    `bench: node ${process.version} is not the image's Node 24: run it as bash scripts/run.sh bench -- …\n`,
  );
  process.exit(2);
}

const saved = option("--print");
if (saved !== undefined) {
  // A saved --json run as the table, without running anything.
  const readRun = (file: string) => JSON.parse(readFileSync(file, "utf8")) as BenchResult;
  printTable(readRun(saved), baselineFile ? readRun(baselineFile) : undefined);
  process.exit(0);
}

const noBuild = args.includes("--no-build");
log(noBuild ? "leasekeeper runs from dist/ as built" : "compiling leasekeeper (npm run build's tsc) …");
const build = noBuild ? builtDist : buildDist();
// Also when an emulator's unhandled error ends the process before the finally below.
process.once("exit", () => build.remove());
const stack = await startStack({ podGraceSeconds: 0 });
const seeded = await seedExample(stack, { dbDefaultTtl: "300s", dbMaxTtl: "1h", tokenTtl: "300s", tokenMaxTtl: "1h" });
const env: Record<string, string> = {
  ...leasekeeperEnv(stack, seeded, 0),
  LEASEKEEPER_LOG_LEVEL: "warn",
  LEASEKEEPER_ISSUE_CONCURRENCY: process.env.LEASEKEEPER_ISSUE_CONCURRENCY ?? String(CONCURRENCY),
  LEASEKEEPER_RENEW_CONCURRENCY: process.env.LEASEKEEPER_RENEW_CONCURRENCY ?? String(CONCURRENCY),
  LEASEKEEPER_REVOKE_CONCURRENCY: process.env.LEASEKEEPER_REVOKE_CONCURRENCY ?? String(CONCURRENCY),
  // Phase 5 measures a pass in a process of its own; here a pass would land inside a burst.
  LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600",
};
const processes: LeasekeeperProcess[] = [];
const pods = new PodTracker(stack);
const redis = new Redis(stack.redis.url);
try {
  const lk = await startLeasekeeper(build, env, await freePort());
  processes.push(lk);
  await pods.start();
  const memory = async () => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);
  const leaseRenewals = () => metricValue(lk.url, "leasekeeper_renewals_total", ['kind="lease"', 'result="ok"']);
  const redisCpu = async () => {
    const info = await redis.info("cpu");
    return Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0) + Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
  };

  // 1. Floor.
  log(`floor: ${N} pods issued, renewed, revoked by scripts/bench-floor.ts …`);
  const kc = new KubeConfig();
  kc.loadFromFile(stack.leasekeeperKubeconfigPath);
  const floor = await runFloor({
    kubeUrl: stack.kube.url,
    adminToken: stack.kube.adminToken,
    kubeToken: kc.getCurrentUser()?.token ?? "",
    vaultUrl: stack.vault.url,
    controllerToken: seeded.controllerToken.trim(),
    redisUrl: stack.redis.url,
    pods: N,
    concurrency: CONCURRENCY,
    namespace: "default",
    serviceAccount: "postgres-vault",
    role: "postgres",
    secretPath: "database/creds/postgres-role",
    audience: env.LEASEKEEPER_TOKEN_AUDIENCE ?? "vault",
  });
  await settle(lk.pid);

  // 2. Issue burst.
  const setA = Array.from({ length: N }, (_, i) => `bench-a-${i}`);
  const setB = Array.from({ length: N }, (_, i) => `bench-b-${i}`);
  const baseline = await memory();
  const memoryStats = async () => {
    const flat = (await redis.call("MEMORY", "STATS")) as unknown[];
    const out: Record<string, number> = {};
    for (let i = 0; i + 1 < flat.length; i += 2)
      if (typeof flat[i + 1] === "number") out[String(flat[i])] = flat[i + 1] as number;
    return out;
  };
  const statsBefore = await memoryStats();
  const rssBefore = rssMiB(lk.pid);
  const redisCpuBefore = await redisCpu();
  const benchCpuBefore = process.cpuUsage();
  log(`issue burst: ${N} pods created at once …`);
  const burstStart = performance.now();
  const issueApiBefore = apiCounts(stack);
  const renewalsAtIssue = await leaseRenewals();
  const commandsBefore = await commandStats(redis);
  const issue = await cpuOf(lk.pid, async () => {
    await pods.create(setA);
    return pods.issued(setA);
  });
  const issueApi = apiPerPod(stack, issueApiBefore, N);
  const renewalsDuringIssue = (await leaseRenewals()) - renewalsAtIssue;
  const commandsAfter = await commandStats(redis);
  const redisCommandsPerIssue = Object.fromEntries(
    Object.entries(commandsAfter)
      .map(([cmd, calls]) => [cmd, (calls - (commandsBefore[cmd] ?? 0)) / N] as const)
      .filter(([, perPod]) => perPod >= 0.05)
      .sort((a, b) => b[1] - a[1]),
  );
  const issueSeconds = (issue.value.last - burstStart) / 1000;
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const redisCpuDuringIssue = (await redisCpu()) - redisCpuBefore;
  const rss = rssMiB(lk.pid);
  const redisPerPod = ((await memory()) - baseline) / N;
  let keyspaceBytes = 0;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "COUNT", 1000);
    cursor = next;
    for (const key of keys) keyspaceBytes += Number(await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
  } while (cursor !== "0");

  // 3. Idle: no churn.
  log(`idle: ${N} live pods, no churn, ${IDLE_WINDOW_SECONDS} s …`);
  const trafficBefore = stack.kube.control.traffic();
  const renewalsAtIdle = await leaseRenewals();
  const idleCpu = await cpuOf(lk.pid, () => sleep(IDLE_WINDOW_SECONDS * 1000));
  const trafficAfter = stack.kube.control.traffic();
  const idle = trafficDelta(trafficBefore, trafficAfter, ADMIN_USER);
  const renewalsDuringIdle = (await leaseRenewals()) - renewalsAtIdle;
  // The same growth once the burst's transient memory is gone (clients' query and reply buffers,
  // which Redis shrinks after a few idle seconds): what the live pods hold.
  const redisPerPodSettled = ((await memory()) - baseline) / N;
  // Each phase's figures as it ends, so that a run stopped later still says what it measured.
  log(
    `  issue: ${(issue.cpuMs / N).toFixed(2)} ms CPU a pod, ${(N / ((issue.value.last - burstStart) / 1000)).toFixed(1)} pods/s, ` +
      `RSS ${rss.now} MiB (${rssBefore.now} before), Redis ${redisPerPodSettled.toFixed(0)} B a pod (${redisPerPod.toFixed(0)} at burst end)`,
  );
  // Where the growth is (MEMORY STATS, per live pod): the keyspace's hash tables, the data, the clients, scripts.
  const statsAfter = await memoryStats();
  const redisGrowthPerPod = Object.fromEntries(
    [
      "overhead.hashtable.main",
      "overhead.hashtable.expires",
      "dataset.bytes",
      "clients.normal",
      "lua.caches",
      "overhead.total",
    ]
      .filter((k) => k in statsAfter)
      .map((k) => [k, ((statsAfter[k] ?? 0) - (statsBefore[k] ?? 0)) / N]),
  );

  // 4. One reconcile pass, in a second process with the roles the split deployment puts beside it (the
  // watch, whose cache the pass reads; interval 5 s: its start-up pass, then the measured one).
  log("reconcile: one pass over every pod in a watch+reconciler process …");
  const rec = await startLeasekeeper(
    build,
    { ...env, LEASEKEEPER_ROLES: "watch,reconciler,functions", LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "5" },
    await freePort(),
  );
  processes.push(rec);
  const passes = () => metricValue(rec.url, "leasekeeper_reconcile_runs_total", ['result="ok"']);
  await waitFor("the reconciler's start-up pass", async () => (await passes()) >= 1, 600_000, 200);
  const passCpuBefore = cpuSeconds(rec.pid);
  const passTrafficBefore = stack.kube.control.traffic();
  const passStart = performance.now();
  await waitFor("a second reconcile pass", async () => (await passes()) >= 2, 600_000, 200);
  const passWindow = (performance.now() - passStart) / 1000;
  const passCpu = cpuSeconds(rec.pid) - passCpuBefore;
  const passApi = trafficDelta(passTrafficBefore, stack.kube.control.traffic(), ADMIN_USER);
  // Its idle cost at the same polling, to take off: 2.5 s, less than the 5 s until the next pass.
  const recIdleBefore = cpuSeconds(rec.pid);
  for (let i = 0; i < 12; i++) {
    await passes();
    await sleep(200);
  }
  const recIdlePerSecond = (cpuSeconds(rec.pid) - recIdleBefore) / 2.4;
  await rec.stop();
  processes.pop();
  const reconcilePassCpuMs = Math.max(0, passCpu - recIdlePerSecond * passWindow) * 1000;
  log(`  reconcile pass: ${reconcilePassCpuMs.toFixed(0)} ms CPU`);

  // 5. Renew: every pod's first renewal as it comes due (2/3 of the TTL plus jitter after its issue). A
  // renewal run before then only reschedules itself (refresh-only, no Vault call), so none is forced early.
  log("renew: every pod's first renewal, as each comes due …");
  const renewApiBefore = apiCounts(stack);
  const renewedBefore = await leaseRenewals();
  // Polled every 5 s: each /metrics scrape costs leasekeeper ~1.5 ms, which the idle rate below
  // (measured without scrapes) would not take off.
  const renew = await cpuOf(lk.pid, () =>
    waitFor("every pod's first lease renewal", async () => (await leaseRenewals()) >= N, 900_000 + N * 60, 5000),
  );
  const renewed = (await leaseRenewals()) - renewedBefore;
  const renewApi = apiPerPod(stack, renewApiBefore, renewed);
  // The window also holds idle time while renewals were not yet due: its idle CPU is taken off.
  const idleCpuPerSecond = idleCpu.cpuMs / idleCpu.seconds;
  const renewCpuMs = Math.max(0, renew.cpuMs - idleCpuPerSecond * renew.seconds);
  log(`  renew: ${(renewCpuMs / renewed).toFixed(2)} ms CPU a pod (${renewed} pods)`);
  const expiredWhileAlive = stack.vault.control
    .leases()
    .filter((l) => l.revoked && l.revokedAt !== null && l.revokedAt.getTime() >= l.expireTime.getTime()).length;

  // 6. Mixed burst: set B created while 90 % of set A is deleted.
  const mixedDeleted = setA.slice(0, Math.floor(N * 0.9));
  log(`mixed burst: ${N} pods created while ${mixedDeleted.length} are deleted …`);
  const renewalsAtMixed = await leaseRenewals();
  const mixed = await cpuOf(lk.pid, async () => {
    await Promise.all([pods.create(setB), pods.deleteAll(mixedDeleted)]);
    const [issued, revoked] = await Promise.all([pods.issued(setB), pods.revoked(mixedDeleted)]);
    return { issued, revoked };
  });

  const renewalsDuringMixed = (await leaseRenewals()) - renewalsAtMixed;

  // 7. Revoke: paced, then a burst.
  const paced = setA.slice(mixedDeleted.length).slice(0, 100);
  log(`revoke: ${paced.length} pods deleted at 20/s, then ${mixedDeleted.length} at once …`);
  await pods.deletePaced(paced, 20);
  const pacedLatencies = await pods.revoked(paced);
  await settle(lk.pid);
  const burstDeleted = setB.slice(0, mixedDeleted.length);
  const revokeApiBefore = apiCounts(stack);
  const renewalsAtRevoke = await leaseRenewals();
  const revoke = await cpuOf(lk.pid, async () => {
    await pods.deleteAll(burstDeleted);
    return pods.revoked(burstDeleted);
  });
  const revokeApi = apiPerPod(stack, revokeApiBefore, burstDeleted.length);
  const renewalsDuringRevoke = (await leaseRenewals()) - renewalsAtRevoke;

  const perMinute = (v: number, seconds: number) => (v * 60) / seconds;
  const reconcilePerMinute = 60 / SHIPPED_RECONCILE_INTERVAL_SECONDS;
  const floorMs = (phase: { cpuMs: number }) => phase.cpuMs / floor.pods;
  const pair = (lkMs: number, floorPhase: { cpuMs: number }) => ({
    leasekeeper: lkMs,
    floor: floorMs(floorPhase),
    ratio: lkMs / floorMs(floorPhase),
  });
  const result: BenchResult = {
    pods: N,
    quick,
    issue: {
      p50Ms: pct(issue.value.latencies, 50),
      p95Ms: pct(issue.value.latencies, 95),
      p99Ms: pct(issue.value.latencies, 99),
      podsPerSecond: N / issueSeconds,
      burstSeconds: issueSeconds,
    },
    renew: {
      jobs: renewed,
      seconds: renew.seconds,
      jobsPerSecond: renewed / renew.seconds,
      renewalsPerSecond: (renewed * 2) / renew.seconds,
    },
    revoke: {
      measured: revoke.value.length,
      p50Ms: pct(revoke.value, 50),
      p99Ms: pct(revoke.value, 99),
    },
    revokePaced: {
      measured: pacedLatencies.length,
      perSecond: 20,
      p50Ms: pct(pacedLatencies, 50),
      p99Ms: pct(pacedLatencies, 99),
    },
    leasekeeperRssMiB: rss.now,
    leasekeeperPeakRssMiB: rss.peak,
    redisBytesPerLivePod: redisPerPodSettled,
    redisBytesPerLivePodAtBurstEnd: redisPerPod,
    redisGrowthPerLivePod: redisGrowthPerPod,
    redisKeyspaceBytesPerLivePod: keyspaceBytes / N,
    leasesExpiredWhilePodLived: expiredWhileAlive,
    cpuSecondsDuringIssue: {
      leasekeeper: issue.cpuMs / 1000,
      emulatorsAndBench: (benchCpu.user + benchCpu.system) / 1e6,
      redis: redisCpuDuringIssue,
    },
    vaultAgentInjector: { cpuCores: (N * 2 * 250) / 1000, memoryGiB: (N * 2 * 64) / 1024 },
    cpuMsPerPod: {
      issue: pair(issue.cpuMs / N, floor.issue),
      renew: pair(renewCpuMs / renewed, floor.renew),
      revoke: pair(revoke.cpuMs / burstDeleted.length, floor.revoke),
    },
    apiRequestsPerPod: { issue: issueApi, renew: renewApi, revoke: revokeApi },
    redisCommandsPerIssue,
    renewalsDuring: {
      issue: renewalsDuringIssue,
      idle: renewalsDuringIdle,
      mixed: renewalsDuringMixed,
      revoke: renewalsDuringRevoke,
    },
    floor: {
      pods: floor.pods,
      issuePodsPerSecond: floor.pods / floor.issue.seconds,
      renewPodsPerSecond: floor.pods / floor.renew.seconds,
      revokePodsPerSecond: floor.pods / floor.revoke.seconds,
    },
    rssMiB: rss.now,
    rssBeforeBurstMiB: rssBefore.now,
    idleApiRequestsPerMinute: perMinute(idle.requests, idleCpu.seconds) + passApi.requests * reconcilePerMinute,
    idleApiBytesPerMinute: perMinute(idle.responseBytes, idleCpu.seconds) + passApi.responseBytes * reconcilePerMinute,
    idleApi: {
      windowSeconds: idleCpu.seconds,
      steadyRequestsPerMinute: perMinute(idle.requests, idleCpu.seconds),
      steadyBytesPerMinute: perMinute(idle.responseBytes, idleCpu.seconds),
      watchStreamsOpened: idle.watches,
      watchBytesPerMinute: perMinute(idle.watchBytes, idleCpu.seconds),
      reconcilePass: { requests: passApi.requests, responseBytes: passApi.responseBytes },
      reconcileIntervalSeconds: SHIPPED_RECONCILE_INTERVAL_SECONDS,
      byUser: trafficByUser(trafficBefore, trafficAfter),
      leasekeeperIdleCpuMsPerMinute: perMinute(idleCpu.cpuMs, idleCpu.seconds),
    },
    reconcilePassCpuMs,
    mixedBurst: {
      issueP99Ms: pct(mixed.value.issued.latencies, 99),
      revokeP99Ms: pct(mixed.value.revoked, 99),
      issued: N,
      revoked: mixed.value.revoked.length,
      issueP50Ms: pct(mixed.value.issued.latencies, 50),
      revokeP50Ms: pct(mixed.value.revoked, 50),
      leasekeeperCpuMsPerOperation: mixed.cpuMs / (N + mixedDeleted.length),
    },
    revokeBurst: {
      pods: burstDeleted.length,
      p50Ms: pct(revoke.value, 50),
      p99Ms: pct(revoke.value, 99),
      leasekeeperCpuMsPerRevoke: revoke.cpuMs / burstDeleted.length,
    },
    machine: { loadAverage: loadavg(), cpus: cpus().length },
    clock: { issueBurst: issue.clock, renew: renew.clock, leasekeeperPid: lk.pid },
  };
  const baselineRun = baselineFile ? (JSON.parse(readFileSync(baselineFile, "utf8")) as BenchResult) : undefined;
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else printTable(result, baselineRun);
} finally {
  pods.stop();
  redis.disconnect();
  for (const p of processes.reverse()) await p.stop();
  await stack.close();
  build.remove();
}
