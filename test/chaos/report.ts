/** The per-scenario table, the JSON form and the percentiles. */
import type { ScenarioResult } from "./scenario.ts";

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

const mib = (bytes: number | undefined) => (bytes === undefined ? "-" : `${(bytes / 1048576).toFixed(1)} MiB`);
const secs = (ms: number | undefined) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(1)} s`);

export const INVARIANTS: Record<1 | 2 | 3 | 4 | 5, string> = {
  1: "live pod's mounted credentials log in",
  2: "nothing outlives its pod past the bound",
  3: "no lease expired while its pod lived",
  4: "failed jobs actionable, no crash loop, Redis bounded",
  5: "rotation revokes after grace, after files",
};

export function table(r: ScenarioResult): string {
  const faultCounts = new Map<string, number>();
  for (const f of r.faults) faultCounts.set(f.kind, (faultCounts.get(f.kind) ?? 0) + 1);
  const c = r.churn;
  const recovered = r.recoveries.map((x) => x.ms).filter((x): x is number => x !== undefined);
  const rows: [string, string][] = [
    ["scenario", `${r.name} (seed ${r.seed}, ${secs(r.wallMs)})`],
    ["faults injected", `${r.faults.length}: ${[...faultCounts].map(([k, n]) => `${k}×${n}`).join(", ")}`],
    [
      "pods churned",
      `${c.created} created, ${c.deleted} deleted, ${c.forceDeleted} force-deleted, ${c.succeeded} succeeded, ${c.failed} failed; ${r.rotations} rotations`,
    ],
    [
      "samples",
      `${r.samples.samples} (${r.samples.failed} failed, ${r.samples.excused} failed during Vault outages, ${r.samples.probeErrors} probe errors, ${r.samples.skipped} rounds skipped for PostgreSQL restarts)`,
    ],
    ...([1, 2, 3, 4, 5] as const).map((i): [string, string] => [
      `inv ${i}: ${INVARIANTS[i]}`,
      String(r.byInvariant[i]),
    ]),
    [
      "pod gone → role dropped",
      `p50 ${secs(percentile(r.revokeDelays, 50))}, p99 ${secs(percentile(r.revokeDelays, 99))}, max ${secs(percentile(r.revokeDelays, 100))} (n=${r.revokeDelays.length})`,
    ],
    [
      "Vault back → all pods valid",
      `p99 ${secs(percentile(recovered, 99))}, max ${secs(percentile(recovered, 100))} (n=${recovered.length}${recovered.length < r.recoveries.length ? `, ${r.recoveries.length - recovered.length} never` : ""})`,
    ],
    ["processes", r.processes.map((p) => `${p.name}: ${p.starts} starts, ${p.crashes} crashes`).join("; ")],
    [
      "redis keys",
      `${r.redis.baseline ? r.redis.baseline.keys - r.redis.baseline.completedJobs : "-"} (${r.redis.livePodsAtBaseline} pods) → ${r.redis.end ? r.redis.end.keys - r.redis.end.completedJobs : "-"} (${r.redis.livePodsAtEnd} pods), besides retained completed jobs; used memory ${mib(r.redis.baseline?.usedMemory)} → ${mib(r.redis.end?.usedMemory)}`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n");
}

export function violationLines(r: ScenarioResult): string[] {
  const byKey = new Map<string, { v: (typeof r.violations)[number]; n: number }>();
  for (const v of r.violations) {
    const key = `${v.invariant}|${v.pod}|${v.what.replace(/\d+(\.\d+)? (s|ms)\b/g, "#")}`;
    const seen = byKey.get(key);
    if (seen) seen.n++;
    else byKey.set(key, { v, n: 1 });
  }
  return [...byKey.values()].map(
    ({ v, n }) =>
      `  ! inv ${v.invariant} ${v.pod}: ${v.what}${n > 1 ? ` (×${n})` : ""} at ${new Date(v.at).toISOString()}`,
  );
}
