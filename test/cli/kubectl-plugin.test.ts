/**
 * The CLI as a kubectl plugin: the real kubectl (/usr/bin/kubectl, or kubectl on PATH) finds
 * bin/kubectl-leasekeeper on PATH and runs it. --help exits 0 and lists the commands in order;
 * without LEASEKEEPER_URL the server comes from the sandbox's .sandbox/endpoints.json.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";

const BIN = resolve("bin");
const KUBECTL = existsSync("/usr/bin/kubectl") ? "/usr/bin/kubectl" : "kubectl";
const t = suite<{ dir: string; server: Server; seen: IncomingMessage[] }>("kubectl leasekeeper");

t.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), "lk-plugin-"));
  ctx.seen = [];
  // A stand-in for leasekeeper's API: records what the CLI asked.
  ctx.server = createServer((req, res) => {
    ctx.seen.push(req);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ pods: [] }));
  });
  await new Promise<void>((r) => ctx.server.listen(0, "127.0.0.1", r));
});
t.after((ctx) => {
  ctx.server?.close();
  rmSync(ctx.dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
  err: string;
}

function kubectl(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  // Node 24 first on PATH (the wrapper's with-node.sh would otherwise install it), then the plugin dir.
  const path = [BIN, dirname(process.execPath), process.env.PATH ?? ""].join(delimiter);
  const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: path, ...opts.env };
  return new Promise((done) => {
    execFile(KUBECTL, args, { cwd: opts.cwd ?? process.cwd(), env, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: stdout, err: stderr });
    });
  });
}

t("kubectl plugin list finds kubectl-leasekeeper on PATH", async () => {
  const run = await kubectl(["plugin", "list"]);
  assert.match(run.out, new RegExp(`${join(BIN, "kubectl-leasekeeper").replace(/[/.]/g, "\\$&")}`), run.out + run.err);
});

t("kubectl leasekeeper --help: exit 0, usage on stdout, every command in order, named as the plugin", async () => {
  const run = await kubectl(["leasekeeper", "--help"]);
  assert.is(run.code, 0, run.err);
  assert.is(run.err, "");
  assert.match(run.out, /^usage: kubectl leasekeeper <command> \[flags\]/);
  const order = [
    "revoke",
    "leases",
    "audit",
    "job",
    "unseal",
    "dashboard",
    "ci-sign",
    "keys import",
    "keys verify",
  ].map((c) => run.out.search(new RegExp(`\n  kubectl leasekeeper ${c}[ \n]`)));
  assert.ok(
    order.every((at) => at > 0),
    `every command listed: ${order.join(",")}`,
  );
  assert.equal(
    [...order].sort((a, b) => a - b),
    order,
    "in order",
  );
  assert.match(run.out, /\.sandbox\/endpoints\.json/);
  assert.match(run.out, /http:\/\/leasekeeper\.leasekeeper\.svc/);

  const one = await kubectl(["leasekeeper", "audit", "--help"]);
  assert.is(one.code, 0);
  assert.match(one.out, /^usage:\n {2}kubectl leasekeeper audit \[--actor name\]/);
  const bad = await kubectl(["leasekeeper", "frobnicate"]);
  assert.is(bad.code, 2);
  assert.match(bad.err, /unknown command "frobnicate"/);
});

t(
  "without LEASEKEEPER_URL the CLI calls the sandbox's api from .sandbox/endpoints.json; without either it says what to set",
  async ({ dir, server, seen }) => {
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    mkdirSync(join(dir, ".sandbox"), { recursive: true });
    writeFileSync(join(dir, ".sandbox", "endpoints.json"), JSON.stringify({ api, apiToken: "not-used-here" }));
    const run = await kubectl(["leasekeeper", "leases", "--namespace", "default"], {
      cwd: dir,
      env: { LEASEKEEPER_API_TOKEN: "a-token-for-the-stand-in" },
    });
    assert.is(run.code, 0, run.err);
    assert.is(run.out.trim(), "No pods match.");
    assert.is(seen.at(-1)?.url, "/v1/leases?namespace=default");
    assert.is(seen.at(-1)?.headers.authorization, "Bearer a-token-for-the-stand-in");

    rmSync(join(dir, ".sandbox"), { recursive: true });
    const none = await kubectl(["leasekeeper", "leases"], { cwd: dir, env: { LEASEKEEPER_API_TOKEN: "x-token-x" } });
    assert.is(none.code, 2);
    assert.match(
      none.err,
      /no server: pass --server or set LEASEKEEPER_URL.*kubectl port-forward -n leasekeeper svc\/leasekeeper 8080:80/s,
    );
  },
);

t.run();
