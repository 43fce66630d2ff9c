/**
 * Runs infra/vault/setup.sh, as shipped (sh + curl), against a stack's Vault emulator. The
 * emulators live in this process, so the script runs in a child process asynchronously.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { INFRA_DIR } from "./rbac.ts";

export const SETUP_SCRIPT = join(INFRA_DIR, "vault", "setup.sh");

export interface SetupRun {
  readonly code: number | null;
  /** stdout and stderr together, for assertions that nothing secret is printed. */
  readonly text: string;
}

export function runVaultSetup(env: Readonly<Record<string, string>>): Promise<SetupRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", [SETUP_SCRIPT], { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 });
    let text = "";
    child.stdout.on("data", (c: Buffer) => (text += c.toString()));
    child.stderr.on("data", (c: Buffer) => (text += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, text }));
  });
}

/** Runs the script and fails with its output when it does not succeed. */
export async function vaultSetup(env: Readonly<Record<string, string>>): Promise<void> {
  const { code, text } = await runVaultSetup(env);
  if (code !== 0) throw new Error(`infra/vault/setup.sh exited with ${code}:\n${text}`);
}
