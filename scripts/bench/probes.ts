/** What the benchmark reads from outside a process: CPU and memory from /proc, metrics, percentiles. */
import { readFileSync } from "node:fs";
import type { TrafficCounts, TrafficSnapshot } from "../../test/emulators/kubernetes/index.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function pct(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function limit<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** user + system CPU seconds of a process (utime + stime from /proc/<pid>/stat, clock ticks of 10 ms). */
export function cpuSeconds(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident set size now and at its peak (VmRSS / VmHWM), MiB. */
export function rssMiB(pid: number | undefined): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { now: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

/** The value of one Prometheus sample (first line of `name{…}` holding every label given), 0 when absent. */
export async function metricValue(baseUrl: string, name: string, labels: readonly string[] = []): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && labels.every((label) => l.includes(label)));
  return line ? Number(line.split(" ").pop()) : 0;
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 300_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached after ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

const ZERO: TrafficCounts = { requests: 0, responseBytes: 0, watches: 0, watchBytes: 0 };

/** Sum of the counts of every user but `exclude`, as `after − before`. */
export function trafficDelta(before: TrafficSnapshot, after: TrafficSnapshot, exclude: string): TrafficCounts {
  const total = { ...ZERO };
  for (const [user, counts] of Object.entries(after)) {
    if (user === exclude) continue;
    const was = before[user] ?? ZERO;
    total.requests += counts.requests - was.requests;
    total.responseBytes += counts.responseBytes - was.responseBytes;
    total.watches += counts.watches - was.watches;
    total.watchBytes += counts.watchBytes - was.watchBytes;
  }
  return total;
}

/** Per-user `after − before`, users with no change left out. */
export function trafficByUser(before: TrafficSnapshot, after: TrafficSnapshot): TrafficSnapshot {
  const out: TrafficSnapshot = {};
  for (const user of Object.keys(after)) {
    const d = trafficDelta({ [user]: before[user] ?? ZERO }, { [user]: after[user] ?? ZERO }, "");
    if (d.requests + d.responseBytes + d.watches + d.watchBytes > 0) out[user] = d;
  }
  return out;
}

/** Monotonic clock in microseconds: the clock of V8's .cpuprofile timestamps (same machine). */
export const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);
