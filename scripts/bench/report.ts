/** The benchmark's result (its --json) and the table that sets each figure beside its goal. */
import type { TrafficSnapshot } from "../../test/emulators/kubernetes/index.ts";

interface CpuPair {
  readonly leasekeeper: number;
  readonly floor: number;
  readonly ratio: number;
}

interface ApiPerPod {
  readonly kubeRequests: number;
  readonly kubeResponseBytes: number;
  readonly vaultRequests: number;
}

interface Latencies {
  readonly measured: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface BenchResult {
  readonly pods: number;
  readonly quick: boolean;
  readonly issue: { p50Ms: number; p95Ms: number; p99Ms: number; podsPerSecond: number; burstSeconds: number };
  readonly renew: { jobs: number; seconds: number; jobsPerSecond: number; renewalsPerSecond: number };
  readonly revoke: Latencies;
  readonly revokePaced: Latencies & { perSecond: number };
  readonly leasekeeperRssMiB: number;
  readonly leasekeeperPeakRssMiB: number;
  /** used_memory growth over the issue burst / N, read after the idle window (transient client buffers gone). */
  readonly redisBytesPerLivePod: number;
  /** The same, read at the end of the burst (includes the clients' query and reply buffers). */
  readonly redisBytesPerLivePodAtBurstEnd?: number;
  /** The settled growth per live pod by MEMORY STATS field (dataset, main hash table, clients, scripts). */
  readonly redisGrowthPerLivePod?: Record<string, number>;
  readonly redisKeyspaceBytesPerLivePod: number;
  readonly leasesExpiredWhilePodLived: number;
  readonly cpuSecondsDuringIssue: { leasekeeper: number; emulatorsAndBench: number; redis: number };
  readonly vaultAgentInjector: { cpuCores: number; memoryGiB: number };
  readonly cpuMsPerPod: { issue: CpuPair; renew: CpuPair; revoke: CpuPair };
  /** leasekeeper's requests per pod in each phase; Kubernetes includes Vault's TokenReviews for its logins. */
  readonly apiRequestsPerPod?: Record<"issue" | "renew" | "revoke", ApiPerPod>;
  /** Redis calls per issued pod by command (INFO commandstats; calls inside Lua scripts included). */
  readonly redisCommandsPerIssue?: Record<string, number>;
  /** Lease renewals that fell inside a measured phase (their CPU is in that phase's figure). */
  readonly renewalsDuring?: { issue: number; idle: number; mixed: number; revoke: number };
  readonly floor: { pods: number; issuePodsPerSecond: number; renewPodsPerSecond: number; revokePodsPerSecond: number };
  readonly rssMiB: number;
  /** RSS before the issue burst: the process with no pod yet (after the floor phase, whose pods it ignores). */
  readonly rssBeforeBurstMiB?: number;
  readonly idleApiRequestsPerMinute: number;
  readonly idleApiBytesPerMinute: number;
  readonly idleApi: {
    windowSeconds: number;
    steadyRequestsPerMinute: number;
    steadyBytesPerMinute: number;
    watchStreamsOpened: number;
    watchBytesPerMinute: number;
    reconcilePass: { requests: number; responseBytes: number };
    reconcileIntervalSeconds: number;
    byUser: TrafficSnapshot;
    leasekeeperIdleCpuMsPerMinute: number;
  };
  readonly reconcilePassCpuMs: number;
  readonly mixedBurst: {
    issueP99Ms: number;
    revokeP99Ms: number;
    issued: number;
    revoked: number;
    issueP50Ms: number;
    revokeP50Ms: number;
    leasekeeperCpuMsPerOperation: number;
  };
  readonly revokeBurst: { pods: number; p50Ms: number; p99Ms: number; leasekeeperCpuMsPerRevoke: number };
  readonly machine: { loadAverage: number[]; cpus: number };
  readonly clock: {
    issueBurst: { startMicros: number; endMicros: number };
    renew?: { startMicros: number; endMicros: number };
    leasekeeperPid: number;
  };
}

type Row = [figure: string, measured: string, goal: string, met: boolean | undefined];

const r = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : "n/a");
const kib = (bytes: number) => `${r(bytes / 1024, 1)} KiB`;

function cpuRows(res: BenchResult): Row[] {
  return (["issue", "renew", "revoke"] as const).map((step) => {
    const c = res.cpuMsPerPod[step];
    return [
      `CPU per pod, ${step}`,
      `leasekeeper ${r(c.leasekeeper, 2)} ms, floor ${r(c.floor, 2)} ms (× ${r(c.ratio, 2)})`,
      "≤ 1.5 × floor",
      c.ratio <= 1.5,
    ];
  });
}

function latencyRows(res: BenchResult): Row[] {
  return [
    [
      `mixed burst: ${res.mixedBurst.issued} issues + ${res.mixedBurst.revoked} revokes, p99`,
      `issue ${r(res.mixedBurst.issueP99Ms)} ms, revoke ${r(res.mixedBurst.revokeP99Ms)} ms`,
      "issue ≤ 1000 ms, revoke ≤ 500 ms",
      res.mixedBurst.issueP99Ms <= 1000 && res.mixedBurst.revokeP99Ms <= 500,
    ],
    [
      `revoke, ${res.revokePaced.measured} pods dying 20/s, p50 / p99`,
      `${r(res.revokePaced.p50Ms)} / ${r(res.revokePaced.p99Ms)} ms`,
      "p99 ≤ 500 ms",
      res.revokePaced.p99Ms <= 500,
    ],
    [
      `revoke, ${res.revokeBurst.pods} pods at once, p50 / p99`,
      `${r(res.revokeBurst.p50Ms)} / ${r(res.revokeBurst.p99Ms)} ms, ${r(res.revokeBurst.leasekeeperCpuMsPerRevoke, 2)} ms CPU each`,
      "p99 ≤ 500 ms",
      res.revokeBurst.p99Ms <= 500,
    ],
  ];
}

/** RSS and Redis memory per live pod. */
function memoryRows(res: BenchResult): Row[] {
  const rssGoal = res.pods <= 1000 ? 128 : 256;
  return [
    [
      "leasekeeper RSS at end of issue burst (peak)",
      `${r(res.rssMiB)} MiB (${r(res.leasekeeperPeakRssMiB)} MiB)${
        res.rssBeforeBurstMiB === undefined ? "" : `, ${r(res.rssBeforeBurstMiB)} MiB before it`
      }`,
      `≤ ${rssGoal} MiB at ${res.pods <= 1000 ? "1,000" : "10,000"} live pods`,
      res.rssMiB <= rssGoal,
    ],
    [
      "Redis per live pod",
      `${r(res.redisBytesPerLivePod)} B used_memory growth (${r(res.redisKeyspaceBytesPerLivePod)} B of keys${
        res.redisBytesPerLivePodAtBurstEnd === undefined
          ? ""
          : `; ${r(res.redisBytesPerLivePodAtBurstEnd)} B at burst end`
      })`,
      "≤ 1024 B",
      res.redisBytesPerLivePod <= 1024,
    ],
  ];
}

function rows(res: BenchResult, baseline: BenchResult | undefined): Row[] {
  const passGoalMs = (2000 * res.pods) / 10_000;
  const idle = res.idleApi;
  const throughputVsBaseline = baseline ? res.issue.podsPerSecond / baseline.issue.podsPerSecond : undefined;
  return [
    ...cpuRows(res),
    ...memoryRows(res),
    [
      "idle Kubernetes API load per minute",
      `${r(res.idleApiRequestsPerMinute, 1)} requests, ${kib(res.idleApiBytesPerMinute)}`,
      "independent of N (but the watch)",
      undefined,
    ],
    [
      "  of which one reconcile pass a minute",
      `${r(idle.reconcilePass.requests)} requests, ${kib(idle.reconcilePass.responseBytes)}`,
      "",
      undefined,
    ],
    ["  watch", `${r(idle.watchBytesPerMinute)} B/min, ${idle.watchStreamsOpened} streams opened`, "", undefined],
    [
      `reconcile pass over ${res.pods} pods, CPU`,
      `${r(res.reconcilePassCpuMs)} ms`,
      `≤ 2 s at 10,000 pods (${r(passGoalMs)} ms here)`,
      res.reconcilePassCpuMs <= passGoalMs,
    ],
    [
      "issue latency p50 / p95 / p99",
      `${r(res.issue.p50Ms)} / ${r(res.issue.p95Ms)} / ${r(res.issue.p99Ms)} ms`,
      "p99 ≤ 1000 ms",
      res.issue.p99Ms <= 1000,
    ],
    [
      "issue throughput",
      `${r(res.issue.podsPerSecond, 1)} pods/s (${res.pods} in ${r(res.issue.burstSeconds, 2)} s)` +
        (throughputVsBaseline ? `, × ${r(throughputVsBaseline, 2)} of the ${baseline?.pods}-pod run` : ""),
      "at 10,000 within 10 % of 1,000 (--baseline)",
      throughputVsBaseline === undefined ? undefined : throughputVsBaseline >= 0.9,
    ],
    [
      "floor throughput issue / renew / revoke",
      `${r(res.floor.issuePodsPerSecond)} / ${r(res.floor.renewPodsPerSecond)} / ${r(res.floor.revokePodsPerSecond)} pods/s`,
      "",
      undefined,
    ],
    [
      "API requests per pod issue / renew / revoke",
      (["issue", "renew", "revoke"] as const)
        .map(
          (p) =>
            `${r(res.apiRequestsPerPod?.[p].kubeRequests ?? NaN, 1)}+${r(res.apiRequestsPerPod?.[p].vaultRequests ?? NaN, 1)}`,
        )
        .join(" / ") + " (Kubernetes+Vault)",
      "",
      undefined,
    ],
    [
      "renewals as they came due",
      `${r(res.renew.renewalsPerSecond, 1)} renewals/s (${r(res.renew.jobsPerSecond, 1)} pod jobs/s)`,
      "",
      undefined,
    ],
    ...latencyRows(res),
    [
      "leases expired while pod lived",
      String(res.leasesExpiredWhilePodLived),
      "0",
      res.leasesExpiredWhilePodLived === 0,
    ],
    [
      "CPU during the issue burst",
      `leasekeeper ${r(res.cpuSecondsDuringIssue.leasekeeper, 1)} s, emulators+bench ${r(res.cpuSecondsDuringIssue.emulatorsAndBench, 1)} s, Redis ${r(res.cpuSecondsDuringIssue.redis, 1)} s`,
      "",
      undefined,
    ],
    [
      "Vault Agent Injector would request",
      `${r(res.vaultAgentInjector.cpuCores)} CPU cores, ${r(res.vaultAgentInjector.memoryGiB, 1)} GiB`,
      "(init + sidecar, 250m/64Mi each)",
      undefined,
    ],
  ];
}

export function printTable(res: BenchResult, baseline?: BenchResult): void {
  const table = rows(res, baseline);
  const w = [0, 1, 2].map((i) => Math.max(...table.map((row) => String(row[i]).length)));
  const load = res.machine.loadAverage.map((l) => l.toFixed(2)).join(" ");
  process.stdout.write(
    `leasekeeper benchmark: ${res.pods} pods${res.quick ? " (--quick)" : ""}, ${res.machine.cpus} cores, load average ${load}, emulators on the same machine\n`,
  );
  for (const [figure, measured, goal, met] of table) {
    const mark = met === undefined ? "" : met ? "  met" : "  NOT met";
    process.stdout.write(
      `${`  ${figure.padEnd(w[0] ?? 0)}  ${measured.padEnd(w[1] ?? 0)}  ${goal.padEnd(w[2] ?? 0)}${mark}`.trimEnd()}\n`,
    );
  }
}
