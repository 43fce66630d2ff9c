/**
 * npm run chaos [-- --quick] [--seed N] [--json] [--scenarios N]
 *
 * Runs leasekeeper (real child processes, shipped settings) against the emulators, a private Redis
 * and PostgreSQL under a seeded pod churn and fault schedule, and checks the invariants of
 * docs/reliability.md against Vault's, PostgreSQL's and the pods' ground truth. Prints a table per
 * scenario, the violations, and last `chaos: N scenarios, M violations`; exits 1 on any violation.
 */
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { FULL, QUICK } from "../test/chaos/config.ts";
import { table, violationLines } from "../test/chaos/report.ts";
import { runScenario, type ScenarioResult } from "../test/chaos/scenario.ts";

interface Args {
  quick: boolean;
  json: boolean;
  seed: number;
  scenarios: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, json: false, seed: Math.floor(Math.random() * 1_000_000), scenarios: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${a} needs a non-negative integer`);
      return Number(v);
    };
    if (a === "--quick") args.quick = true;
    else if (a === "--json") args.json = true;
    else if (a === "--seed") args.seed = value();
    else if (a === "--scenarios") args.scenarios = value();
    else throw new Error(`unknown argument ${a} (expected --quick, --seed N, --json, --scenarios N)`);
  }
  return args;
}

let args: Args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`chaos: ${(err as Error).message}\n`);
  process.exit(2);
}

const size = args.quick ? QUICK : FULL;
const topologies = size.topologies.slice(0, args.scenarios ?? size.topologies.length);
const runDir = mkdtempSync(join(tmpdir(), "lk-chaos-"));
// With --json, stdout carries only the JSON document and the last line; progress goes to stderr.
const log = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);

let aborted = false;
const onSignal = (signal: string) => {
  if (aborted) process.exit(130);
  aborted = true;
  log(`chaos: ${signal}, stopping and cleaning up (again to exit at once)`);
};
process.on("SIGINT", () => onSignal("SIGINT"));
process.on("SIGTERM", () => onSignal("SIGTERM"));

const started = Date.now();
log(`chaos: ${size.name} run, seed ${args.seed}, ${topologies.length} scenario(s), files in ${runDir}`);
const results: ScenarioResult[] = [];
for (const [index, topology] of topologies.entries()) {
  if (aborted) break;
  // Each scenario's seed follows from the run's: `--seed N` replays the whole run.
  const seed = (args.seed + index * 7919) >>> 0;
  const result = await runScenario({ size, topology, seed, index, runDir, log, aborted: () => aborted });
  results.push(result);
  log(`\n${table(result)}`);
  for (const line of violationLines(result)) log(line);
  log("");
}
const violations = results.reduce((n, r) => n + r.violations.length, 0);
const wallMs = Date.now() - started;
if (aborted) log("chaos: interrupted; the results above are partial");
log(
  `wall time ${(wallMs / 1000).toFixed(0)} s, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
if (args.json)
  process.stdout.write(
    `${JSON.stringify({ size: size.name, seed: args.seed, wallMs, loadavg: loadavg(), runDir, scenarios: results }, null, 2)}\n`,
  );
process.stdout.write(`chaos: ${results.length} scenarios, ${violations} violations\n`);
process.exit(violations > 0 || aborted ? 1 : 0);
