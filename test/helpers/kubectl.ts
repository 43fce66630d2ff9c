/**
 * Runs the real kubectl against a Kubernetes emulator, as a user would: a kubeconfig and a fresh
 * discovery cache per session (spec §11). kubectl arrives as system:anonymous (client-go never
 * sends a bearer token to a plain-http server), so the emulator is started with anonymousAuth.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  startKubernetesEmulator,
  type KubernetesEmulator,
  type KubernetesEmulatorOptions,
} from "../emulators/kubernetes/index.ts";

const run = promisify(execFile);

/** kubectl from PATH (CI installs it when the registry carries it); empty when absent. */
export const KUBECTL = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
})();

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlSession {
  emu: KubernetesEmulator;
  dir: string;
  /** Runs kubectl; resolves with exit code and output whether or not it failed. */
  run(...args: string[]): Promise<KubectlResult>;
  /** Runs kubectl and returns stdout; throws (with stderr) on a non-zero exit. */
  ok(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

export async function startKubectlSession(opts: KubernetesEmulatorOptions = {}): Promise<KubectlSession> {
  const emu = await startKubernetesEmulator({
    anonymousAuth: true,
    podGraceSeconds: 1,
    workloadControllers: true,
    ...opts,
  });
  const dir = await mkdtemp(join(tmpdir(), "k8s-emu-kubectl-"));
  await emu.writeKubeconfig(join(dir, "config"));
  const base = ["--kubeconfig", join(dir, "config"), "--cache-dir", join(dir, "cache"), "--request-timeout=10s"];
  const session: KubectlSession = {
    emu,
    dir,
    async run(...args) {
      try {
        const { stdout, stderr } = await run(KUBECTL, [...base, ...args], { timeout: 30_000 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return {
          code: typeof e.code === "number" ? e.code : -1,
          stdout: e.stdout ?? "",
          stderr: e.stderr ?? String(err),
        };
      }
    },
    async ok(...args) {
      const r = await session.run(...args);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    async close() {
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return session;
}
