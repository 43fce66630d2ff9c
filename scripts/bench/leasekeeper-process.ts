/**
 * leasekeeper as the image runs it: the compiled JavaScript in dist/ (npm run build) started with
 * plain `node dist/functions/entry/node.js` (see Dockerfile), no TypeScript loader.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { waitFor } from "./probes.ts";

export const ENTRY = "dist/functions/entry/node.js";

/** `npm run build`: rm -rf dist && tsc -p tsconfig.build.json. */
export function buildDist(): void {
  rmSync("dist", { recursive: true, force: true });
  const run = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
    stdio: "inherit",
  });
  if (run.status !== 0) throw new Error(`npm run build failed (exit ${run.status})`);
}

export interface LeasekeeperProcess {
  readonly pid: number;
  /** http://127.0.0.1:<port> (health, metrics). */
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts leasekeeper with `env` (plus BENCH_CHILD_NODE_ARGS, e.g. --cpu-prof) and waits for /readyz. */
export async function startLeasekeeper(env: Record<string, string>, port: number): Promise<LeasekeeperProcess> {
  const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ENTRY], {
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
