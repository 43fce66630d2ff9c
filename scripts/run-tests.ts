/**
 * Runs every uvu test file (test/**\/*.test.ts, or the files/folders given) in its own
 * Node process, streams its output, and ends with one plain line "N passed, M failed"
 * totalled over all files. Exits non-zero when anything failed.
 */
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 600_000);
const EXIT_GRACE_MS = 30_000;

function collect(path: string, out: string[]): void {
  const info = statSync(path);
  if (info.isDirectory()) {
    for (const entry of readdirSync(path).sort()) {
      if (entry === "node_modules" || entry.startsWith(".")) continue;
      collect(join(path, entry), out);
    }
  } else if (path.endsWith(".test.ts")) {
    out.push(path);
  }
}

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  ms: number;
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

function runFile(file: string): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    let output = "";
    let errors = "";
    // A file whose results are printed but whose process does not exit (an open handle) is
    // ended after a grace; its printed results stand and the linger is reported.
    let lingering = false;
    let exitGrace: NodeJS.Timeout | undefined;
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
      if (exitGrace === undefined && /Duration:/.test(stripAnsi(output))) {
        exitGrace = setTimeout(() => {
          lingering = true;
          process.stderr.write(
            `\n[run-tests] ${file} printed its results but did not exit within ${EXIT_GRACE_MS} ms (an open handle); ending it\n`,
          );
          child.kill("SIGKILL");
        }, EXIT_GRACE_MS);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
      process.stderr.write(chunk);
    });
    const timer = setTimeout(() => {
      process.stderr.write(`\n[run-tests] ${file} timed out after ${FILE_TIMEOUT_MS} ms\n`);
      child.kill("SIGKILL");
    }, FILE_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (exitGrace) clearTimeout(exitGrace);
      const text = stripAnsi(output);
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0);
      let result: FileResult;
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        result = { file, passed: 0, failed: 1, skipped: 0, ms: Date.now() - started };
        process.stderr.write(`[run-tests] ${file} ended (code ${code}) without a uvu summary: counted as 1 failure\n`);
      } else {
        // uvu's Total excludes skipped tests; a non-zero exit with nothing failed is a failure too.
        const failed = Math.max(0, total - passed) + (code !== 0 && !lingering && total === passed ? 1 : 0);
        // A request leasekeeper made that infra/ RBAC refuses fails the file, even when the code tolerated it.
        const rbacRefusals = /\[rbac\] infra\/base refused/.test(errors) ? 1 : 0;
        if (rbacRefusals > 0)
          process.stderr.write(
            `[run-tests] ${file}: leasekeeper made requests its RBAC does not grant (see [rbac] above): counted as 1 failure\n`,
          );
        result = { file, passed, failed: failed + rbacRefusals, skipped, ms: Date.now() - started };
      }
      resolve(result);
    });
  });
}

const roots = process.argv.slice(2);
const files: string[] = [];
for (const root of roots.length > 0 ? roots : ["test"]) collect(root, files);
if (files.length === 0) {
  console.error("[run-tests] no test files found");
  process.exit(1);
}

const results: FileResult[] = [];
for (const file of files) {
  process.stdout.write(`\n### ${relative(process.cwd(), file)}\n`);
  results.push(await runFile(file));
}

let passed = 0;
let failed = 0;
let skipped = 0;
console.log("\nper file:");
for (const r of results) {
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
  console.log(
    `  ${r.failed > 0 ? "FAIL" : "ok  "} ${r.file}  ${r.passed} passed, ${r.failed} failed  (${(r.ms / 1000).toFixed(1)} s)`,
  );
}
if (skipped > 0) console.log(`\n${skipped} skipped`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
