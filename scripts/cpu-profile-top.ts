/**
 * `node --import tsx scripts/cpu-profile-top.ts <file.cpuprofile> [--top N] [--from µs --to µs] [--json]`:
 * the frames of a V8 CPU profile (`node --cpu-prof`) that used the most CPU, by self time and by
 * inclusive time, and the self time summed by where the code lives (a package in node_modules, a
 * node: built-in, the project's own folders, V8's garbage collector). V8 samples on a wall-clock
 * timer, so on a loaded machine "busy" includes time the thread waited for a core: the shares are
 * what to read, and a process's CPU time comes from the benchmark. --from / --to keep only the
 * samples inside a window of the monotonic clock in µs, the clock of the profile's timestamps:
 * `npm run bench -- --json` prints the issue burst's window as clock.issueBurst.
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

interface FrameCost {
  readonly frame: string;
  readonly where: string;
  selfMs: number;
  totalMs: number;
}

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const files = args.filter((a, i) => !a.startsWith("--") && !(args[i - 1] ?? "").match(/^--(top|from|to)$/));
if (files.length === 0) {
  process.stderr.write("usage: cpu-profile-top.ts <file.cpuprofile>… [--top N] [--from µs --to µs] [--json]\n");
  process.exit(2);
}
const top = Number(option("--top") ?? 25);
const from = Number(option("--from") ?? -Infinity);
const to = Number(option("--to") ?? Infinity);

/** Where a frame's code lives: the package, node: built-in, or project folder. */
function whereOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] ?? url;
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const own = /\/(?:dist\/)?(functions|workers|shared|cli|scripts|test)\/([^/]+)/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url;
}

function frameName(f: CallFrame): string {
  const file = f.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, "$1/").replace(/^file:\/\/\S*\//, "");
  return `${f.functionName || "(anonymous)"} ${file}${file ? `:${f.lineNumber + 1}` : ""}`;
}

function analyse(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const costs = new Map<string, FrameCost>();
  const cost = (node: ProfileNode) => {
    const frame = frameName(node.callFrame);
    let c = costs.get(frame);
    if (!c) {
      c = { frame, where: whereOf(node.callFrame.url, node.callFrame.functionName), selfMs: 0, totalMs: 0 };
      costs.set(frame, c);
    }
    return c;
  };
  let t = profile.startTime;
  let windowMs = 0;
  let idleMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < from || t > to) continue;
    const node = byId.get(profile.samples[i] ?? -1);
    if (!node) continue;
    const ms = delta / 1000;
    windowMs += ms;
    if (node.callFrame.functionName === "(idle)") {
      idleMs += ms;
      continue;
    }
    cost(node).selfMs += ms;
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const ancestor = byId.get(id);
      if (!ancestor || ancestor.callFrame.functionName === "(root)") continue;
      const c = cost(ancestor);
      if (seen.has(c.frame)) continue;
      seen.add(c.frame);
      c.totalMs += ms;
    }
  }
  const frames = [...costs.values()];
  const busyMs = windowMs - idleMs;
  const byWhere = new Map<string, number>();
  for (const f of frames) byWhere.set(f.where, (byWhere.get(f.where) ?? 0) + f.selfMs);
  return {
    windowMs,
    busyMs,
    idleMs,
    self: [...frames].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
    inclusive: [...frames].sort((a, b) => b.totalMs - a.totalMs).slice(0, top),
    byWhere: [...byWhere].map(([where, selfMs]) => ({ where, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

for (const file of files) {
  const result = analyse(JSON.parse(readFileSync(file, "utf8")) as CpuProfile);
  if (args.includes("--json")) {
    process.stdout.write(`${JSON.stringify({ file, ...result, byWhere: result.byWhere.slice(0, top) }, null, 2)}\n`);
    continue;
  }
  const pct = (ms: number) => `${((100 * ms) / result.busyMs).toFixed(1).padStart(5)} %`;
  const line = (ms: number, label: string) => `  ${ms.toFixed(0).padStart(7)} ms ${pct(ms)}  ${label}\n`;
  process.stdout.write(
    `${file}: ${result.busyMs.toFixed(0)} ms busy of ${result.windowMs.toFixed(0)} ms sampled (event loop idle ${result.idleMs.toFixed(0)} ms); % of busy time\n`,
  );
  process.stdout.write(`\nself time by where the code lives\n`);
  for (const w of result.byWhere.slice(0, top)) process.stdout.write(line(w.selfMs, w.where));
  process.stdout.write(`\ntop ${top} frames by self time\n`);
  for (const f of result.self) process.stdout.write(line(f.selfMs, f.frame));
  process.stdout.write(`\ntop ${top} frames by inclusive time\n`);
  for (const f of result.inclusive) process.stdout.write(line(f.totalMs, f.frame));
}
