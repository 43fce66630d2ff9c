import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, chmodSync, chownSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { findBinary } from "./binaries.ts";
import { freePort } from "./ports.ts";
import { waitForPort } from "./redis.ts";

export interface PostgresServer {
  /** Superuser connection URL (password auth). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Its directory (data, socket, log), removed by stop(). */
  readonly dir: string;
  /** Stops the server (fast shutdown: clients are disconnected), waits `downMs`, starts it again on the same port and data. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

const liveDirs = new Map<string, string>();
process.once("exit", () => {
  for (const [dir, pgCtl] of liveDirs) {
    try {
      runAs(pgCtl, ["-D", join(dir, "data"), "-m", "immediate", "stop"], dir);
    } catch {
      // best effort at exit
    }
  }
});

/**
 * Starts a private PostgreSQL cluster on a free loopback port with scram password auth,
 * so that a wrong password is refused. Runs as the 'postgres' OS user when started as root.
 */
export async function startPostgres(options: { tag?: string } = {}): Promise<PostgresServer> {
  const initdb = findBinary("initdb", "postgresql");
  const pgCtl = findBinary("pg_ctl", "postgresql");
  const port = await freePort();
  // The tag names the dir (lk-pg-<tag>-…), so a later run can find what a killed one left.
  const dir = mkdtempSync(join(tmpdir(), options.tag ? `lk-pg-${options.tag}-` : "lk-pg-"));
  chmodSync(dir, 0o777);
  const password = randomBytes(12).toString("hex");
  const user = "leasekeeper_admin";
  const pwFile = join(dir, "pw");
  writeFileSync(pwFile, password);
  chmodSync(pwFile, 0o644);
  chownTree(dir);
  runAs(
    initdb,
    ["-D", join(dir, "data"), "-U", user, "--pwfile", pwFile, "-A", "scram-sha-256", "-E", "UTF8", "--no-sync"],
    dir,
  );
  const start = () =>
    runAs(
      pgCtl,
      [
        "-D",
        join(dir, "data"),
        "-l",
        join(dir, "log"),
        "-w",
        "-t",
        "30",
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
        "start",
      ],
      dir,
    );
  start();
  liveDirs.set(dir, pgCtl);
  await waitForPort(port, 15_000);
  let stopped = false;
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/postgres`,
    host: "127.0.0.1",
    port,
    user,
    password,
    database: "postgres",
    dir,
    async restart(downMs) {
      if (stopped) return;
      runAs(pgCtl, ["-D", join(dir, "data"), "-m", "fast", "-w", "-t", "30", "stop"], dir);
      await new Promise((r) => setTimeout(r, downMs));
      if (stopped) return;
      start();
      await waitForPort(port, 15_000);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      liveDirs.delete(dir);
      await new Promise<void>((resolve) => {
        // immediate: a throwaway cluster needs no shutdown checkpoint (its directory is removed next).
        const child = spawn(pgCtl, ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"], asUser(dir));
        child.once("exit", () => resolve());
        child.once("error", () => resolve());
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Stops, at once and synchronously, a cluster started by startPostgres that its owner left
 * running (killed), and removes its directory. For clean-up before a new run.
 */
export function stopLeftoverPostgres(dir: string): void {
  try {
    runAs(
      findBinary("pg_ctl", "postgresql"),
      ["-D", join(dir, "data"), "-m", "immediate", "-w", "-t", "5", "stop"],
      dir,
    );
  } catch {
    // Not running (any more): only the directory is left.
  }
  rmSync(dir, { recursive: true, force: true });
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  return { uid, gid };
}

function chownTree(dir: string): void {
  if (!isRoot()) return;
  const { uid, gid } = postgresIds();
  chownSync(dir, uid, gid);
  chownSync(join(dir, "pw"), uid, gid);
}

function asUser(dir: string): { cwd: string; stdio: "ignore"; uid?: number; gid?: number } {
  if (!isRoot()) return { cwd: dir, stdio: "ignore" };
  const { uid, gid } = postgresIds();
  return { cwd: dir, stdio: "ignore", uid, gid };
}

function runAs(binary: string, args: string[], dir: string): void {
  const opts = asUser(dir);
  try {
    execFileSync(binary, args, { ...opts, stdio: "pipe" });
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(
      `${binary} ${args[args.length - 1]} failed: ${e.stderr?.toString() ?? ""}${e.stdout?.toString() ?? ""}`,
      { cause: err },
    );
  }
}
