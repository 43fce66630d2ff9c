/** One scenario: a topology under the seeded churn and fault schedule, then a quiet period and the final checks. */
import { join } from "node:path";
import { quietMs, type Size, type Topology, TOPOLOGIES } from "./config.ts";
import { startCluster, type Cluster } from "./cluster.ts";
import {
  actionable,
  Checker,
  failedJobs,
  redisSize,
  type FailedJob,
  type RedisSize,
  type Violation,
} from "./checks.ts";
import { inject, type FaultWindow } from "./faults.ts";
import { planFaults, type PlannedFault } from "./schedule.ts";
import { Truth } from "./truth.ts";
import { Workload, type ChurnCounts } from "./workload.ts";

export interface ScenarioResult {
  readonly name: string;
  readonly topology: Topology;
  readonly seed: number;
  readonly wallMs: number;
  readonly plan: PlannedFault[];
  readonly faults: FaultWindow[];
  readonly churn: ChurnCounts;
  readonly samples: Checker["stats"];
  readonly violations: Violation[];
  readonly byInvariant: Record<1 | 2 | 3 | 4 | 5, number>;
  /** Pod gone → database role dropped, ms. */
  readonly revokeDelays: number[];
  /** Vault back → every live pod's credentials valid, ms per outage. */
  readonly recoveries: { fault: string; ms: number | undefined }[];
  readonly rotations: number;
  readonly failedJobs: FailedJob[];
  readonly redis: { baseline?: RedisSize; end?: RedisSize; livePodsAtBaseline: number; livePodsAtEnd: number };
  readonly processes: { name: string; starts: number; crashes: number }[];
  readonly logDir: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PREFIX = "{leasekeeper}";

export interface ScenarioOptions {
  readonly size: Size;
  readonly topology: Topology;
  readonly seed: number;
  readonly index: number;
  readonly runDir: string;
  readonly log: (line: string) => void;
  /** Set when Ctrl-C asks to stop: the scenario ends early and cleans up. */
  readonly aborted: () => boolean;
}

/** Schedules the planned faults against the clock; returns the windows as they happen. */
function runFaults(cluster: Cluster, plan: PlannedFault[], t0: number, windows: FaultWindow[], opts: ScenarioOptions) {
  return Promise.all(
    plan.map(async (f) => {
      await sleep(Math.max(0, t0 + f.atMs - Date.now()));
      if (opts.aborted()) return;
      const window: FaultWindow = { kind: f.kind, detail: f.detail, start: Date.now(), end: Date.now() };
      if (f.durationMs > 0) windows.push(window);
      opts.log(
        `  +${Math.round((Date.now() - t0) / 1000)}s ${new Date().toISOString().slice(11, 19)} fault ${f.kind}${f.detail ? ` ${f.detail}` : ""}${f.durationMs ? ` for ${Math.round(f.durationMs / 1000)} s` : ""}`,
      );
      const done = await inject(cluster, f).catch((err: unknown) => {
        opts.log(`  fault ${f.kind} could not be injected: ${String(err)}`);
        return window;
      });
      window.end = Math.max(done.end, window.start + 1);
      if (f.durationMs === 0) windows.push({ ...window });
    }),
  );
}

function loop(every: number, stop: () => boolean, fn: () => Promise<void> | void): Promise<void> {
  return (async () => {
    while (!stop()) {
      const started = Date.now();
      await Promise.resolve(fn()).catch(() => undefined);
      await sleep(Math.max(100, every - (Date.now() - started)));
    }
  })();
}

export async function runScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  const { size, topology, seed } = opts;
  const name = `${size.name}-${opts.index + 1}-${topology}`;
  const started = Date.now();
  const processNames = TOPOLOGIES[topology].map((p) => p.name);
  const plan = planFaults(size, processNames, seed);
  opts.log(`scenario ${name} seed ${seed}: schedule`);
  for (const f of plan)
    opts.log(
      `  at +${Math.round(f.atMs / 1000)}s ${f.kind}${f.detail ? ` ${f.detail}` : ""}${f.durationMs ? ` for ${Math.round(f.durationMs / 1000)} s` : ""}`,
    );
  const cluster = await startCluster(size, topology, join(opts.runDir, name));
  opts.log(`  stack up in ${Math.round((Date.now() - started) / 1000)} s; leasekeeper logs: ${cluster.logDir}`);
  const truth = new Truth(cluster.stack);
  const windows: FaultWindow[] = [];
  const checker = new Checker(cluster.stack, truth, size, windows);
  const workload = new Workload(cluster.stack, size, seed, String(opts.index + 1));
  const failed = new Map<string, FailedJob>();
  let stopLoops = false;
  let baseline: RedisSize | undefined;
  let livePodsAtBaseline: number | undefined;
  try {
    truth.start();
    workload.seed();
    const t0 = Date.now();
    const loops = [
      loop(
        size.sampleEveryMs,
        () => stopLoops,
        () => checker.sample(),
      ),
      loop(
        1000,
        () => stopLoops,
        () => {
          checker.checkVault();
          checker.checkRotations(false);
        },
      ),
      loop(
        5000,
        () => stopLoops,
        async () => {
          for (const j of await failedJobs(cluster.redisUrl, PREFIX)) failed.set(`${j.queue}/${j.id}`, j);
        },
      ),
    ];
    // Baseline: the initial pods issued, before any fault.
    await sleep(15_000);
    baseline = await redisSize(cluster.redisUrl, PREFIX);
    livePodsAtBaseline = [...truth.pods.values()].filter((p) => p.goneAt === undefined).length;
    const faults = runFaults(cluster, plan, t0, windows, opts);
    let churnDone = false;
    await Promise.race([
      workload.run(t0 + size.chaosMs).finally(() => (churnDone = true)),
      waitAbort(() => opts.aborted() || churnDone),
    ]);
    if (opts.aborted()) workload.abort();
    else await faults;
    await workload.settle();
    opts.log(
      `  chaos phase over at +${Math.round((Date.now() - t0) / 1000)} s; quiet for ${Math.round(quietMs(size) / 1000)} s`,
    );
    const quietEnd = Date.now() + quietMs(size);
    while (Date.now() < quietEnd && !opts.aborted()) await sleep(500);
    stopLoops = true;
    await Promise.all(loops);
    await truth.tick();
    await sleep(600);
    await truth.tick();
    checker.checkVault();
    checker.checkRotations(true);
    checker.finalOrphans();
    checker.judgeSamples();
    for (const j of await failedJobs(cluster.redisUrl, PREFIX)) failed.set(`${j.queue}/${j.id}`, j);
    const end = await redisSize(cluster.redisUrl, PREFIX);
    const livePodsAtEnd = [...truth.pods.values()].filter((p) => p.goneAt === undefined).length;
    for (const j of failed.values())
      if (!actionable(j.reason))
        checker.violations.push({
          invariant: 4,
          at: Date.now(),
          pod: j.id,
          what: `failed ${j.queue} job without an actionable reason: "${j.reason}"`,
        });
    const processes = cluster.processes.map((p) => ({
      name: p.spec.name,
      starts: p.starts,
      crashes: cluster.exits.filter((e) => e.process === p.spec.name && !e.expected).length,
    }));
    for (const p of processes)
      if (p.crashes >= 3)
        checker.violations.push({
          invariant: 4,
          at: Date.now(),
          pod: p.name,
          what: `leasekeeper process ${p.name} crash-looped (${p.crashes} exits we did not cause)`,
        });
    redisGrowth(checker.violations, baseline, livePodsAtBaseline ?? 0, end, livePodsAtEnd);
    const byInvariant = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
    for (const v of checker.violations) byInvariant[v.invariant]++;
    return {
      name,
      topology,
      seed,
      wallMs: Date.now() - started,
      plan,
      faults: windows,
      churn: workload.counts,
      samples: checker.stats,
      violations: checker.violations,
      byInvariant,
      revokeDelays: checker.revokeDelays,
      recoveries: checker.recoveries,
      rotations: truth.rotations.length,
      failedJobs: [...failed.values()],
      redis: { baseline, end, livePodsAtBaseline: livePodsAtBaseline ?? 0, livePodsAtEnd },
      processes,
      logDir: cluster.logDir,
    };
  } finally {
    stopLoops = true;
    workload.abort();
    await truth.stop();
    await cluster.close();
  }
}

async function waitAbort(until: () => boolean): Promise<void> {
  while (!until()) await sleep(250);
}

/**
 * Redis returns to a size proportional to the live pods: keys other than retained completed jobs
 * (kept by design for an hour, up to a count) at most twice the per-pod share measured at baseline.
 */
function redisGrowth(
  violations: Violation[],
  baseline: RedisSize | undefined,
  podsAtBaseline: number,
  end: RedisSize | undefined,
  podsAtEnd: number,
): void {
  if (!baseline || !end) return;
  const base = baseline.keys - baseline.completedJobs;
  if (base === 0 || podsAtBaseline === 0) return; // no baseline to compare with
  const perPod = base / Math.max(1, podsAtBaseline);
  const limit = Math.ceil(2 * perPod * Math.max(1, podsAtEnd)) + 20;
  const now = end.keys - end.completedJobs;
  if (now > limit)
    violations.push({
      invariant: 4,
      at: Date.now(),
      pod: "-",
      what: `Redis holds ${now} keys besides retained completed jobs for ${podsAtEnd} live pods (baseline ${base} for ${podsAtBaseline}; limit ${limit})`,
    });
}
