/**
 * leasekeeper as the image runs it: the compiled JavaScript (npm run build's tsc -p
 * tsconfig.build.json) started with plain `node …/functions/entry/node.js` (see Dockerfile), no
 * TypeScript loader. The bench compiles into a folder of its own under .bench-dist/, so a build or
 * test that replaces dist/ meanwhile cannot pull files from under a running benchmark.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./probes.ts";

const ENTRY = "functions/entry/node.js";

export interface Build {
  /** The compiled entry point, e.g. .bench-dist/1234/functions/entry/node.js. */
  readonly entry: string;
  remove(): void;
}

/** npm run build's compile, into .bench-dist/<pid> (inside the checkout, so node_modules resolves). */
export function buildDist(): Build {
  const outDir = join(".bench-dist", String(process.pid));
  const tsc = ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json", "--outDir", outDir];
  const run = spawnSync(process.execPath, tsc, { stdio: "inherit" });
  if (run.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${run.status})`);
  return { entry: join(outDir, ENTRY), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

/** What `npm run build` left in dist/ (--no-build). */
export const builtDist: Build = { entry: join("dist", ENTRY), remove: () => undefined };

export interface LeasekeeperProcess {
  readonly pid: number;
  /** http://127.0.0.1:<port> (health, metrics). */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The V8 flags the image starts node with: the options between "node" and the entry point in the
 * Dockerfile's ENTRYPOINT (heap sizing), so the benchmark's RSS is the image's.
 */
export function imageNodeFlags(dockerfile = "Dockerfile"): string[] {
  const line = readFileSync(dockerfile, "utf8")
    .split("\n")
    .find((l) => l.startsWith("ENTRYPOINT "));
  if (!line) throw new Error(`${dockerfile}: no ENTRYPOINT`);
  const argv = JSON.parse(line.slice("ENTRYPOINT ".length)) as string[];
  if (argv[0] !== "node" || argv.at(-1) !== `dist/${ENTRY}`)
    throw new Error(`${dockerfile}: ENTRYPOINT is not node … dist/${ENTRY}`);
  return argv.slice(1, -1);
}

/**
 * Starts leasekeeper with `env` and waits for /readyz: node with the image's flags (imageNodeFlags),
 * plus BENCH_CHILD_NODE_ARGS (e.g. --cpu-prof).
 */
export async function startLeasekeeper(
  build: Build,
  env: Record<string, string>,
  port: number,
): Promise<LeasekeeperProcess> {
  const nodeArgs = [...imageNodeFlags(), ...(process.env.BENCH_CHILD_NODE_ARGS ?? "").split(" ").filter(Boolean)];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, build.entry], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ...env, LEASEKEEPER_HTTP_PORT: String(port) },
  });
  const exited = new Promise((r) => child.once("exit", r));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  try {
    await waitFor("leasekeeper ready", async () => (await fetch(`${url}/readyz`)).ok, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.pid ?? 0, url, stop };
}
