/**
 * The system under chaos: the e2e stack (emulators, private Redis and PostgreSQL, Vault set up by
 * infra/vault/setup.sh) and leasekeeper as real child processes with the shipped settings
 * (harnessEnv), reaching Vault through a switchable TCP path.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { harnessEnv } from "../e2e/harness.ts";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";
import { TOPOLOGIES, type ProcessSpec, type Size, type Topology } from "./config.ts";

const ENTRY = join(import.meta.dirname, "..", "..", "functions", "entry", "node.ts");

export interface ExitRecord {
  readonly process: string;
  readonly at: number;
  readonly code: number | null;
  readonly signal: string | null;
  /** We sent the SIGKILL (a scheduled fault) or stopped it at the end. */
  readonly expected: boolean;
}

/** One leasekeeper process, restarted like a container after it dies (our SIGKILLs and crashes alike). */
export class LkProcess {
  child: ChildProcess | undefined;
  private expectExit = false;
  private stopped = false;
  private crashes = 0;
  starts = 0;

  constructor(
    readonly spec: ProcessSpec,
    private readonly env: Record<string, string>,
    private readonly logFile: string,
    private readonly exits: ExitRecord[],
  ) {}

  start(): void {
    if (this.stopped) return;
    const fd = openSync(this.logFile, "a");
    const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
      env: { ...process.env, ...this.env },
      stdio: ["ignore", fd, fd],
      // Its own process group: a Ctrl-C at the terminal is the harness's to handle, not a fault.
      detached: true,
    });
    closeSync(fd);
    this.starts++;
    this.child = child;
    child.once("exit", (code, signal) => {
      const expected = this.expectExit;
      this.expectExit = false;
      this.exits.push({ process: this.spec.name, at: Date.now(), code, signal, expected });
      if (this.child === child) this.child = undefined;
      if (this.stopped) return;
      // A container restart: at once after our kill, with growing back-off after a crash (kubelet: 10 s doubling).
      if (!expected) this.crashes++;
      const delay = expected ? 1000 : Math.min(10_000, 1000 * 2 ** this.crashes);
      setTimeout(() => this.start(), delay).unref();
    });
  }

  /** SIGKILL now (no shutdown hooks run); the restart follows. */
  kill(): boolean {
    if (!this.child || this.child.exitCode !== null) return false;
    this.expectExit = true;
    return this.child.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.expectExit = true;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGKILL");
    await exited;
  }
}

export interface Cluster {
  readonly stack: Stack;
  readonly seeded: Seeded;
  readonly vaultPath: TcpProxy;
  readonly processes: LkProcess[];
  readonly exits: ExitRecord[];
  readonly logDir: string;
  readonly redisUrl: string;
  /** Stops Redis (its data is lost: the shipped Redis has no persistence), waits, starts it on the same port. */
  restartRedis(downMs: number): Promise<void>;
  close(): Promise<void>;
}

const liveClusters = new Set<Cluster>();
process.once("exit", () => {
  for (const cluster of liveClusters) for (const p of cluster.processes) p.child?.kill("SIGKILL");
});

export async function startCluster(size: Size, topology: Topology, runDir: string): Promise<Cluster> {
  mkdirSync(runDir, { recursive: true });
  const stack = await startStack({
    podGraceSeconds: size.podGraceS,
    dir: join(runDir, "stack"),
    tempTag: "chaos",
    redisOwnProcessGroup: true,
  });
  let redis: RedisServer = stack.redis;
  let vaultPath: TcpProxy | undefined;
  const processes: LkProcess[] = [];
  try {
    const seeded = await seedExample(stack, {
      dbDefaultTtl: `${size.dbTtlS}s`,
      dbMaxTtl: `${size.dbMaxTtlS}s`,
      tokenTtl: `${size.tokenTtlS}s`,
      tokenMaxTtl: `${size.tokenMaxTtlS}s`,
    });
    vaultPath = await startTcpProxy(Number(new URL(stack.vault.url).port));
    const base = harnessEnv(stack, seeded, {
      VAULT_ADDR: `http://127.0.0.1:${vaultPath.port}`,
      LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: String(size.reconcileIntervalS),
      LEASEKEEPER_ROTATION_GRACE_SECONDS: String(size.rotationGraceS),
      LEASEKEEPER_VAULT_TIMEOUT_MS: "2000",
      LEASEKEEPER_KUBE_TIMEOUT_MS: "5000",
      LEASEKEEPER_WATCH_STALL_SECONDS: "20",
      LEASEKEEPER_LEASE_DURATION_SECONDS: "10",
      LEASEKEEPER_SHUTDOWN_TIMEOUT_SECONDS: "5",
    });
    const logDir = join(runDir, "logs");
    mkdirSync(logDir, { recursive: true });
    const exits: ExitRecord[] = [];
    for (const spec of TOPOLOGIES[topology]) {
      const env = {
        ...base,
        LEASEKEEPER_ROLES: spec.roles,
        LEASEKEEPER_LEADER_ELECTION: String(spec.leaderElection),
        LEASEKEEPER_IDENTITY: `leasekeeper-${spec.name}`,
        LEASEKEEPER_HTTP_PORT: "0",
      };
      const p = new LkProcess(spec, env, join(logDir, `${spec.name}.log`), exits);
      processes.push(p);
      p.start();
    }
    const path = vaultPath;
    let closed = false;
    const cluster: Cluster = {
      stack,
      seeded,
      vaultPath: path,
      processes,
      exits,
      logDir,
      redisUrl: redis.url,
      async restartRedis(downMs) {
        const port = redis.port;
        await redis.stop();
        await new Promise((r) => setTimeout(r, downMs));
        if (!closed) redis = await startRedis({ port, tag: "chaos", ownProcessGroup: true });
      },
      async close() {
        closed = true;
        liveClusters.delete(cluster);
        await Promise.all(processes.map((p) => p.stop()));
        await path.close().catch(() => undefined);
        await redis.stop().catch(() => undefined);
        await stack.close();
      },
    };
    liveClusters.add(cluster);
    return cluster;
  } catch (err) {
    await Promise.all(processes.map((p) => p.stop()));
    await vaultPath?.close().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    await stack.close();
    throw err;
  }
}
