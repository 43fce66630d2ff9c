import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Finds a server binary on PATH or in Debian's PostgreSQL folders; the error names the package to install. */
export function findBinary(name: string, debianPackage: string): string {
  try {
    const found = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    if (found) return found;
  } catch {
    // not on PATH; look further below
  }
  const pgRoot = "/usr/lib/postgresql";
  if (existsSync(pgRoot)) {
    const versions = readdirSync(pgRoot).sort().reverse();
    for (const version of versions) {
      const candidate = join(pgRoot, version, "bin", name);
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error(
    `${name} not found: install it with 'apt-get update && apt-get install -y ${debianPackage}' (or run bash scripts/install-system-deps.sh)`,
  );
}
