/**
 * What `npm run sandbox` owns outside its own process, and how it is found again: one sandbox per
 * .sandbox directory (sandbox.pid), Redis's and PostgreSQL's temp dirs named with a tag derived
 * from that directory (lk-redis-<tag>-…, lk-pg-<tag>-…), and the files it writes into .sandbox.
 * A clean stop removes them; a start removes what a killed run left (never another checkout's).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stopLeftoverPostgres } from "../test/helpers/postgres.ts";

/** Files the sandbox writes into its directory, and the ones the README and banner put there (all removed when it stops). */
export const SANDBOX_FILES = [
  "endpoints.json",
  "kubeconfig",
  "leasekeeper.kubeconfig",
  "sandbox.pid",
  "ci-headers.txt",
  "db-creds",
  // What infra/vault/setup.sh is given and writes (test/helpers/stack.ts seedExample).
  "vault-reviewer.jwt",
  "leasekeeper-vault-token",
  "db-password",
] as const;

/** Folders the sandbox makes in its directory: the Deployment's projected token mount. */
const SANDBOX_DIRS = ["mounts"] as const;

/** The temp-dir tag of the sandbox in `dir`: the same directory always gets the same tag. */
export function sandboxTag(dir: string): string {
  return `sbx${createHash("sha256").update(resolve(dir)).digest("hex").slice(0, 10)}`;
}

/** What cleanUp found and removed, for one line of output. */
export interface Cleaned {
  readonly processes: string[];
  readonly dirs: string[];
  readonly files: string[];
}

/**
 * Refuses when a sandbox is running in `dir`; otherwise removes what a killed one left (its Redis
 * and PostgreSQL, their temp dirs, the files in `dir`) and records this process as the owner.
 */
export function claimSandbox(dir: string): Cleaned {
  const pidFile = join(dir, "sandbox.pid");
  const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : undefined;
  if (owner !== undefined && owner !== process.pid && isSandbox(owner)) {
    throw new Error(
      `a sandbox is already running in ${dir} (pid ${owner}); stop it first (Ctrl-C in its terminal, or kill ${owner})`,
    );
  }
  const cleaned = cleanUp(dir);
  writeFileSync(pidFile, `${process.pid}\n`);
  return cleaned;
}

/**
 * Ends the leftover Redis and PostgreSQL of the sandbox in `dir` and removes their temp dirs and
 * the files the sandbox wrote. Synchronous: also the last resort of a stop that took too long.
 */
export function cleanUp(dir: string): Cleaned {
  const tag = sandboxTag(dir);
  const processes: string[] = [];
  const dirs: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (name.startsWith(`lk-redis-${tag}-`)) {
      const pid = readPid(join(path, "redis.pid"));
      if (pid !== undefined && commandLine(pid).includes("redis-server")) {
        try {
          process.kill(pid, "SIGKILL");
          processes.push(`redis-server (pid ${pid})`);
        } catch {
          // Gone meanwhile.
        }
      }
      rmSync(path, { recursive: true, force: true });
      dirs.push(path);
    } else if (name.startsWith(`lk-pg-${tag}-`)) {
      if (existsSync(join(path, "data", "postmaster.pid"))) processes.push(`PostgreSQL (${path})`);
      stopLeftoverPostgres(path);
      dirs.push(path);
    }
  }
  const files: string[] = [];
  for (const file of SANDBOX_FILES) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    rmSync(path, { force: true });
    files.push(path);
  }
  for (const sub of SANDBOX_DIRS) {
    const path = join(dir, sub);
    if (!existsSync(path)) continue;
    rmSync(path, { recursive: true, force: true });
    files.push(path);
  }
  return { processes, dirs, files };
}

/** After a stop: the sandbox directory goes too when nothing else is in it. */
export function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Not there, or not empty: leave it.
  }
}

export function describeCleaned(c: Cleaned): string | undefined {
  const parts = [
    c.processes.length > 0 ? `stopped ${c.processes.join(", ")}` : "",
    c.dirs.length > 0 ? `removed ${c.dirs.length} temp dir(s)` : "",
    c.files.length > 0 ? `removed ${c.files.map((f) => f.split("/").pop()).join(", ")}` : "",
  ].filter(Boolean);
  return parts.length > 0 ? `sandbox: cleaned up what a previous run left: ${parts.join("; ")}` : undefined;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The process's command line ("" when it is gone), so a reused pid is never taken for ours. */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

function isSandbox(pid: number): boolean {
  return /sandbox/.test(commandLine(pid));
}
