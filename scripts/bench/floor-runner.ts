/** Runs scripts/bench-floor.ts in its own process and returns what it measured. */
import { spawn } from "node:child_process";
import type { FloorConfig, FloorResult } from "../bench-floor.ts";

export function runFloor(config: FloorConfig): Promise<FloorResult> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/bench-floor.ts"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, BENCH_FLOOR: JSON.stringify(config) },
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`bench-floor exited with ${code}`));
      else resolve(JSON.parse(out.trim().split("\n").pop() ?? "null") as FloorResult);
    });
  });
}
