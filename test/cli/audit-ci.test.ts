/**
 * The CLI's audit, job, dashboard and ci-sign commands against a running leasekeeper (every role):
 * a CI call signed by `ci-sign` and sent by curl exactly as the README shows, its job followed,
 * the audit trail filtered and followed, and the dashboard's browser login link.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { runCiSign } from "../../cli/ci-sign.ts";
import { runOncallCommand, type OncallCommand, type OncallOptions } from "../../cli/oncall.ts";
import { sha256Hex } from "../../functions/http/auth/digest.ts";
import { seedExample, startStack, type Stack } from "../helpers/stack.ts";
import { opted, startLeasekeeper, waitFor, type Harness } from "../e2e/harness.ts";

const t = suite<{ stack: Stack; lk: Harness; token: string; ciSecret: string; dir: string }>(
  "cli: audit, job, dashboard, ci-sign",
);

t.before(async (ctx) => {
  ctx.stack = await startStack({ postgres: false, podGraceSeconds: 0 });
  const seeded = await seedExample(ctx.stack);
  ctx.token = randomBytes(24).toString("base64url");
  ctx.ciSecret = randomBytes(32).toString("hex");
  ctx.dir = mkdtempSync(join(tmpdir(), "lk-ci-"));
  ctx.lk = await startLeasekeeper(ctx.stack, seeded, {
    LEASEKEEPER_API_TOKENS: sha256Hex(ctx.token),
    LEASEKEEPER_CI_HMAC_SECRETS: `${ctx.ciSecret};verbs=*;namespaces=*`,
  });
  await ctx.stack.core.createNamespacedPod({
    namespace: "default",
    body: opted("ci-web", { "leasekeeper.io/secret-creds.json": "secret/data/db-pass" }),
  });
  await waitFor(
    "ci-web issued",
    async () => (await ctx.lk.runtime.deps.index.byName("default", "ci-web"))[0]?.state === "issued",
  );
});
t.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(lk: Harness, token: string, argv: string[], options: Partial<OncallOptions> = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const [command, ...rest] = argv;
  const code = await runOncallCommand(
    command as OncallCommand,
    rest,
    { stdin: Readable.from([]), isTTY: false, out: (l) => out.push(l), err: (l) => err.push(l) },
    {
      env: { LEASEKEEPER_URL: lk.runtime.httpUrl, LEASEKEEPER_API_TOKEN: token },
      ...options,
    },
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function ciSign(secret: string, args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCiSign(
    args,
    { stdin: [], out: (l) => out.push(l), err: (l) => err.push(l) },
    { LEASEKEEPER_CI_SECRET: secret },
    "usage: …",
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const run = promisify(execFile);

t(
  "ci-sign's headers + curl (the README's recipe) rotate a pod; ?wait returns the finished job; `job ci-<delivery>` shows it; a replay is refused",
  async ({ lk, token, ciSecret, dir }) => {
    const body = JSON.stringify({
      action: "rotate",
      scope: { type: "pod", namespace: "default", name: "ci-web" },
      reason: "deploy 42",
    });
    const delivery = `deploy-42-${Date.now()}`;
    const signed = await ciSign(ciSecret, ["--delivery", delivery, body]);
    assert.is(signed.code, 0, signed.err);
    assert.match(
      signed.out,
      new RegExp(
        `^content-type: application/json\\nx-leasekeeper-delivery: ${delivery}\\nx-leasekeeper-timestamp: \\d+\\nx-leasekeeper-signature: sha256=[0-9a-f]{64}$`,
      ),
    );
    const headers = join(dir, "ci-headers.txt");
    writeFileSync(headers, `${signed.out}\n`);
    const curl = [
      "-sS",
      "-w",
      "\n%{http_code}",
      `${lk.runtime.httpUrl}/v1/hooks/ci?wait=30`,
      "-H",
      `@${headers}`,
      "--data-binary",
      body,
    ];
    const first = await run("curl", curl);
    const [answer, status] = first.stdout.split("\n");
    assert.is(status, "200", first.stdout);
    const reply = JSON.parse(answer ?? "") as {
      jobId: string;
      job: { state: string; result: { outcome: string; items: Array<{ pod: string; outcome: string }> } };
    };
    assert.is(reply.jobId, `ci-${delivery}`);
    assert.is(reply.job.state, "completed");
    assert.equal(
      reply.job.result.items.map((i) => [i.pod, i.outcome]),
      [["default/ci-web", "rotation-queued"]],
    );

    const job = await cli(lk, token, ["job", `ci-${delivery}`, "--wait", "10"]);
    assert.is(job.code, 0, job.err);
    assert.match(
      job.out,
      new RegExp(
        `^JOB\\s+QUEUE\\s+STATE\\s+ATTEMPTS\\s+CREATED\\s+FINISHED\\nci-${delivery}\\s+revoke\\s+completed\\s+1`,
      ),
    );
    assert.match(job.out, /default\/ci-web\s+rotation-queued/);
    const replay = await run("curl", curl);
    assert.match(replay.stdout, /replayed_delivery[\s\S]*\n409$/, replay.stdout);
    const unsigned = await ciSign("", [body]);
    assert.is(unsigned.code, 2);
    assert.match(unsigned.err, /LEASEKEEPER_CI_SECRET/);
    const missing = await cli(lk, token, ["job", "ci-no-such-delivery"]);
    assert.is(missing.code, 1);
    assert.match(missing.err, /404 not_found/);
  },
);

t(
  "audit: oldest first, filtered by actor, action and since; --follow prints what is written next",
  async ({ lk, token }) => {
    await cli(lk, token, ["revoke", "--pod", "default/ci-web", "--dry-run"]);
    const all = await cli(lk, token, ["audit"]);
    assert.is(all.code, 0, all.err);
    const lines = all.out.split("\n");
    assert.match(lines[0] ?? "", /^TIME\s+ACTOR\s+ACTION\s+SCOPE\s+REASON\s+RESULT\s+JOB$/);
    const rotateAt = lines.findIndex((l) =>
      /ci-key-1\s+rotate\s+pod default\/ci-web\s+deploy 42\s+accepted 202\s+ci-deploy-42-/.test(l),
    );
    const dryAt = lines.findIndex((l) => /api-token:[0-9a-f]{8}\s+revoke \(dry run\)\s+pod default\/ci-web/.test(l));
    assert.ok(rotateAt > 0 && dryAt > rotateAt, `oldest first:\n${all.out}`);

    const byActor = await cli(lk, token, ["audit", "--actor", "ci-key", "-o", "json"]);
    const records = byActor.out.split("\n").map((l) => JSON.parse(l) as { actor: { name: string }; action: string });
    assert.ok(records.length >= 2 && records.every((r) => r.actor.name === "ci-key-1"), byActor.out);
    const byAction = await cli(lk, token, ["audit", "--action", "revoke"]);
    assert.not.match(byAction.out, /\srotate\s/);
    const none = await cli(lk, token, ["audit", "--since", "2099-01-01T00:00:00Z"]);
    assert.is(none.out, "No audit records match.");
    const recent = await cli(lk, token, ["audit", "--since", "10m", "--action", "rotate"]);
    assert.match(recent.out, /ci-key-1\s+rotate/);
    const bad = await cli(lk, token, ["audit", "--since", "yesterday"]);
    assert.is(bad.code, 2);

    // --follow: the existing records first, then each new one once.
    const controller = new AbortController();
    const out: string[] = [];
    const following = runOncallCommand(
      "audit",
      ["--follow", "--action", "revoke", "-o", "json"],
      { stdin: [], isTTY: false, out: (l) => out.push(l), err: (l) => out.push(l) },
      {
        env: { LEASEKEEPER_URL: lk.runtime.httpUrl, LEASEKEEPER_API_TOKEN: token },
        signal: controller.signal,
        pollMs: 50,
      },
    );
    await waitFor("the existing record", async () => out.length >= 1);
    const before = out.length;
    await cli(lk, token, ["revoke", "--namespace", "default", "--dry-run"]);
    await cli(lk, token, ["leases"]);
    await waitFor("the new record", async () => out.length > before);
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    assert.is(await following, 0);
    const followed = out.slice(before).map((l) => JSON.parse(l) as { action: string; scope: { type: string } });
    assert.equal(
      followed.map((r) => [r.action, r.scope.type]),
      [["revoke", "namespace"]],
      "exactly the new matching record",
    );
  },
);

t("dashboard prints a login link that opens the queue dashboard in a browser session", async ({ lk, token }) => {
  const link = await cli(lk, token, ["dashboard"]);
  assert.is(link.code, 0, link.err);
  assert.match(
    link.out,
    new RegExp(`^${(lk.runtime.httpUrl ?? "").replace(/[.]/g, "\\.")}/admin/login\\?ticket=[A-Za-z0-9_-]{43}$`),
  );
  assert.match(link.err, /within 60 s.*15 minutes/);
  const login = await fetch(link.out);
  assert.is(login.status, 200);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const page = await fetch(`${lk.runtime.httpUrl}/admin/queues`, { headers: { cookie } });
  assert.is(page.status, 200);
  assert.match(await page.text(), /<html/i);
});

t.run();
