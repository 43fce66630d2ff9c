import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Socket } from "node:net";
import { findBinary } from "./binaries.ts";
import { freePort } from "./ports.ts";

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** Its working directory (holds redis.pid), removed by stop(). */
  readonly dir: string;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Part of the temp dir's name (lk-redis-<tag>-…), so a later run can find what a killed one left. */
  readonly tag?: string;
  /** In its own process group: a Ctrl-C at the terminal does not reach it (the owner stops it in order). */
  readonly ownProcessGroup?: boolean;
  /** Listen on this port (a restarted server at the address its clients know); a free one by default. */
  readonly port?: number;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Starts a private, non-persistent redis-server on a free loopback port. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = findBinary("redis-server", "redis-server");
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), options.tag ? `lk-redis-${options.tag}-` : "lk-redis-"));
  const child = spawn(
    binary,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--pidfile",
      join(dir, "redis.pid"),
    ],
    { stdio: "ignore", detached: options.ownProcessGroup === true },
  );
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitForPort(port, 10_000);
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(child);
      // It may be gone already (a Ctrl-C reached its process group): then there is no exit to wait for.
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const kill = setTimeout(() => child.kill("SIGKILL"), 1000);
        await exited;
        clearTimeout(kill);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.connect(port, "127.0.0.1");
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
