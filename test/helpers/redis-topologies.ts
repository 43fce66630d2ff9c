/** A Sentinel in front of a Redis, and a one-node Redis Cluster, for topology tests. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary } from "./binaries.ts";
import { freePort } from "./ports.ts";
import { waitForPort } from "./redis.ts";

export interface RedisProcess {
  readonly port: number;
  stop(): Promise<void>;
}

async function run(
  args: (dir: string, port: number) => string[],
  configFile?: (dir: string, port: number) => string,
): Promise<RedisProcess & { dir: string }> {
  const binary = findBinary("redis-server", "redis-server");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "lk-redis-topo-"));
  const argv = configFile ? [configFile(dir, port), ...args(dir, port)] : args(dir, port);
  const child: ChildProcess = spawn(binary, argv, { stdio: "ignore", cwd: dir });
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  await waitForPort(port, 10_000);
  return {
    port,
    dir,
    async stop() {
      process.off("exit", kill);
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Sentinel monitoring the Redis on `masterPort` under `name` (quorum 1). */
export function startSentinel(masterPort: number, name: string): Promise<RedisProcess> {
  return run(
    () => ["--sentinel"],
    (dir, port) => {
      const file = join(dir, "sentinel.conf");
      writeFileSync(
        file,
        `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor ${name} 127.0.0.1 ${masterPort} 1\n`,
      );
      return file;
    },
  );
}

/** A one-node Redis Cluster owning every slot: a real cluster protocol (MOVED, slots) on one process. */
export async function startRedisCluster(): Promise<RedisProcess> {
  const node = await run((dir, port) => [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--cluster-enabled",
    "yes",
    "--cluster-announce-ip",
    "127.0.0.1",
    "--cluster-config-file",
    join(dir, "nodes.conf"),
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ]);
  const cli = findBinary("redis-cli", "redis-tools");
  execFileSync(cli, ["-p", String(node.port), "cluster", "addslotsrange", "0", "16383"], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  while (
    !execFileSync(cli, ["-p", String(node.port), "cluster", "info"], { encoding: "utf8" }).includes("cluster_state:ok")
  ) {
    if (Date.now() > deadline) throw new Error("redis cluster did not reach cluster_state:ok");
    await new Promise((r) => setTimeout(r, 100));
  }
  return node;
}
