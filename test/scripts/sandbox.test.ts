/**
 * `npm run sandbox` as a user runs it, in its own process group like a terminal's foreground job:
 * ready with everything on (endpoints.json has the API token and CI secret the CLI and CI use),
 * Ctrl-C stops it within 3 s and removes what it made, and after a SIGKILL the next start clears
 * what the killed run left.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cleanUp, sandboxTag } from "../../scripts/sandbox-cleanup.ts";
import { waitFor } from "../e2e/harness.ts";

const REPO = resolve(".");
const TSX = createRequire(join(REPO, "package.json")).resolve("tsx");
const t = suite<{ cwd: string }>("sandbox: start, Ctrl-C, clean-up");

t.before((ctx) => {
  ctx.cwd = mkdtempSync(join(tmpdir(), "lk-sandbox-test-"));
});
const started: Sandbox[] = [];
t.after(async (ctx) => {
  // A failed assertion must not leave a sandbox running: stop what is still up, then clear its leftovers.
  for (const s of started.filter((x) => x.child.exitCode === null && x.child.signalCode === null)) {
    process.kill(-(s.child.pid ?? 0), "SIGINT");
    await Promise.race([s.exited, new Promise((r) => setTimeout(r, 5000))]);
    if (s.child.exitCode === null) process.kill(-(s.child.pid ?? 0), "SIGKILL");
  }
  cleanUp(join(ctx.cwd, ".sandbox"));
  rmSync(ctx.cwd, { recursive: true, force: true });
});

interface Sandbox {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function start(cwd: string): Sandbox {
  // detached: its own process group, so a signal to the group is what Ctrl-C in a terminal sends.
  const child = spawn(process.execPath, ["--import", TSX, join(REPO, "scripts", "sandbox.ts")], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LEASEKEEPER_LOG_LEVEL: "warn" },
  });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) =>
    child.once("exit", (code, signal) => r({ code, signal, at: Date.now() })),
  );
  const sandbox = { child, output: () => output, exited };
  started.push(sandbox);
  return sandbox;
}

const ready = (s: Sandbox) =>
  waitFor(
    "sandbox ready",
    async () =>
      s.output().includes("sandbox ready") || (s.child.exitCode !== null && Promise.reject(new Error(s.output()))),
    120_000,
    100,
  );
const leftovers = (cwd: string) =>
  readdirSync(tmpdir()).filter(
    (n) =>
      n.startsWith(`lk-redis-${sandboxTag(join(cwd, ".sandbox"))}-`) ||
      n.startsWith(`lk-pg-${sandboxTag(join(cwd, ".sandbox"))}-`),
  );
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/status`, "utf8").includes("State:\tZ");
  } catch {
    return false;
  }
};
const redisPid = (cwd: string) => {
  const dir = leftovers(cwd).find((n) => n.startsWith("lk-redis-")) ?? "";
  return Number(readFileSync(join(tmpdir(), dir, "redis.pid"), "utf8").trim());
};

t(
  "ready with everything on; the CLI finds it; Ctrl-C stops it within 3 s and removes .sandbox, Redis's and PostgreSQL's dirs",
  async ({ cwd }) => {
    const sandbox = start(cwd);
    await ready(sandbox);
    const endpoints = JSON.parse(readFileSync(join(cwd, ".sandbox", "endpoints.json"), "utf8")) as Record<
      string,
      string
    >;
    for (const key of [
      "kubernetes",
      "vault",
      "kms",
      "redis",
      "postgres",
      "api",
      "apiToken",
      "ciHmacSecret",
      "sandboxControl",
    ])
      assert.ok(endpoints[key], `endpoints.json has ${key}`);
    for (const section of [
      "platform engineer",
      "CI — a signed call",
      "on-call — the CLI",
      "kubectl leasekeeper dashboard",
      "kubectl leasekeeper ci-sign",
      "kubectl leasekeeper audit",
    ]) {
      assert.ok(sandbox.output().includes(section), `the banner shows ${section}`);
    }
    assert.not.match(sandbox.output(), /"level":(40|50)/, "no warning at start (Vault's unseal is waited for)");
    const api = endpoints.api ?? "";
    // Everything on: API token, CI hook, the webhook (registered with the emulator), docs.
    const leases = await fetch(`${api}/v1/leases`, { headers: { authorization: `Bearer ${endpoints.apiToken}` } });
    assert.is(leases.status, 200);
    const hook = await fetch(`${api}/v1/hooks/ci`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.is(hook.status, 400, "the CI hook is on (an unsigned call is refused, not 404 not_configured)");
    const webhooks = (await (
      await fetch(`${endpoints.kubernetes}/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations`)
    ).json()) as { items: Array<{ webhooks: Array<{ clientConfig: { url: string } }> }> };
    assert.equal(
      webhooks.items.flatMap((w) => w.webhooks.map((h) => h.clientConfig.url)),
      [`${api}/v1/admission/pods`],
    );
    const redis = redisPid(cwd);
    assert.is(leftovers(cwd).length, 2);

    const signalled = Date.now();
    process.kill(-(sandbox.child.pid ?? 0), "SIGINT");
    const { code, at } = await sandbox.exited;
    const ms = at - signalled;
    console.log(`[sandbox] Ctrl-C → exit: ${ms} ms`);
    assert.is(code, 0, sandbox.output().slice(-2000));
    assert.ok(ms <= 3000, `stopped in ${ms} ms`);
    assert.match(sandbox.output(), /sandbox: stopped in \d+\.\d s/);
    assert.not.ok(existsSync(join(cwd, ".sandbox")), ".sandbox removed");
    assert.equal(leftovers(cwd), [], "Redis's and PostgreSQL's temp dirs removed");
    assert.not.ok(alive(redis), "redis-server ended");
  },
);

t(
  "killed with SIGKILL: Redis, PostgreSQL and their dirs are left; the next start clears them first",
  async ({ cwd }) => {
    const first = start(cwd);
    await ready(first);
    const oldApi = (JSON.parse(readFileSync(join(cwd, ".sandbox", "endpoints.json"), "utf8")) as { api: string }).api;
    const oldRedis = redisPid(cwd);
    const oldDirs = leftovers(cwd);
    process.kill(-(first.child.pid ?? 0), "SIGKILL");
    await first.exited;
    assert.ok(alive(oldRedis), "a SIGKILL leaves redis-server running");
    assert.is(oldDirs.filter((d) => existsSync(join(tmpdir(), d))).length, 2, "and both temp dirs");
    assert.ok(existsSync(join(cwd, ".sandbox", "endpoints.json")), "and endpoints.json with dead ports");

    const second = start(cwd);
    await ready(second);
    const cleaned = /sandbox: cleaned up what a previous run left: ([^\n]*)/.exec(second.output())?.[1] ?? "";
    for (const part of [
      /redis-server \(pid \d+\)/,
      /PostgreSQL \(\/\S+\)/,
      /removed 2 temp dir\(s\)/,
      /removed [^\n]*endpoints\.json/,
    ])
      assert.match(cleaned, part, second.output().slice(0, 600));
    assert.not.ok(alive(oldRedis), "the old redis-server was stopped");
    for (const d of oldDirs) assert.not.ok(existsSync(join(tmpdir(), d)), `${d} removed`);
    const newApi = (JSON.parse(readFileSync(join(cwd, ".sandbox", "endpoints.json"), "utf8")) as { api: string }).api;
    assert.is.not(newApi, oldApi);
    // A second sandbox in the same directory is refused while this one runs.
    const third = start(cwd);
    const refused = await third.exited;
    assert.is.not(refused.code, 0);
    assert.match(third.output(), /a sandbox is already running in .*\.sandbox \(pid \d+\)/);

    process.kill(-(second.child.pid ?? 0), "SIGINT");
    assert.is((await second.exited).code, 0);
    assert.equal(leftovers(cwd), []);
  },
);

t.run();
