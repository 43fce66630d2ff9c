/**
 * The Cloudflare Worker entry in workerd (`wrangler dev`, offline): a signed CI call becomes a
 * BullMQ job that a Node worker completes. Skipped with a message only when workerd cannot start here.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sha256Hex } from "../../../functions/http/auth/digest.ts";
import { signCiRequest } from "../../../functions/http/auth/hmac.ts";
import { freePort } from "../../helpers/ports.ts";
import { seedExample, startStack, type Stack } from "../../helpers/stack.ts";
import { opted, roleExists, startLeasekeeper, waitFor, type Harness } from "../../e2e/harness.ts";

let stack: Stack | undefined;
let lk: Harness | undefined;
let wrangler: ChildProcess | undefined;
let output = "";
const persist = mkdtempSync(join(tmpdir(), "lk-wrangler-"));

async function startWorker(vars: Record<string, string>): Promise<string | undefined> {
  const port = await freePort();
  const args = [
    "dev",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--persist-to",
    persist,
    "--log-level",
    "info",
    "--show-interactive-dev-session=false",
  ];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  wrangler = spawn(join(process.cwd(), "node_modules/.bin/wrangler"), args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
  });
  wrangler.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  wrangler.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (/Ready on/.test(output)) return `http://127.0.0.1:${port}`;
    if (/The Workers runtime failed to start|ERROR/.test(output) || wrangler.exitCode !== null) return undefined;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

function stopWorker(): void {
  if (wrangler?.pid && wrangler.exitCode === null) {
    try {
      process.kill(-wrangler.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

test.after(async () => {
  stopWorker();
  await lk?.stop();
  await stack?.close();
  rmSync(persist, { recursive: true, force: true });
});

test("workerd: signed CI revoke → BullMQ job (ci-<delivery>) → completed by a Node worker; roles dropped; a second request works too", async () => {
  stack = await startStack({ podGraceSeconds: 0 });
  const seeded = await seedExample(stack);
  const prefix = "{lk-workerd}";
  const secret = randomBytes(32).toString("hex");
  const apiToken = randomBytes(24).toString("base64url");
  lk = await startLeasekeeper(stack, seeded, { LEASEKEEPER_ROLES: "watch,workers", LEASEKEEPER_QUEUE_PREFIX: prefix });
  await stack.core.createNamespacedPod({ namespace: "default", body: opted("ci-target") });
  const secretObj = await waitFor("issued", async () =>
    stack?.core.readNamespacedSecret({ namespace: "default", name: "ci-target-leasekeeper" }).catch(() => undefined),
  );
  const user = (
    JSON.parse(Buffer.from(secretObj.data?.["creds.json"] ?? "", "base64").toString()) as { username: string }
  ).username;
  assert.ok(await roleExists(stack, user));

  const url = await startWorker({
    LEASEKEEPER_REDIS_URL: stack.redis.url,
    LEASEKEEPER_QUEUE_PREFIX: prefix,
    LEASEKEEPER_CI_HMAC_SECRETS: `${secret};verbs=revoke;namespaces=default;name=workerd-ci`,
    LEASEKEEPER_KUBE_SERVER: stack.kube.url,
    LEASEKEEPER_KUBE_TOKEN: stack.kube.adminToken,
    LEASEKEEPER_API_TOKENS: sha256Hex(apiToken),
    LEASEKEEPER_HTTP_RATE_LIMIT: "3",
  });
  if (!url) {
    // Only a machine whose workerd binary cannot run at all may skip; a build error, a crash or a
    // slow start is a failure.
    const unsupported = /workerd.*(not found|ENOENT|not supported on this platform|GLIBC_[0-9.]+' not found)/i.test(
      output,
    );
    if (unsupported && process.env.LEASEKEEPER_ALLOW_WORKERD_SKIP === "1") {
      console.log(`SKIP: workerd cannot run on this machine:\n${output.slice(-2000)}`);
      return;
    }
    assert.unreachable(`wrangler dev did not become ready:\n${output.slice(-3000)}`);
  }
  const health = await fetch(`${url}/readyz`);
  assert.is(health.status, 200, await health.text());

  const body = JSON.stringify({
    action: "revoke",
    scope: { type: "pod", namespace: "default", name: "ci-target" },
    reason: "pipeline 17",
  });
  const delivery = `wd-${Date.now()}`;
  const headers = signCiRequest(secret, body, Math.floor(Date.now() / 1000), delivery);
  const res = await fetch(`${url}/v1/hooks/ci`, { method: "POST", headers, body });
  const answer = (await res.json()) as { jobId?: string };
  assert.is(res.status, 202, JSON.stringify(answer));
  assert.is(answer.jobId, `ci-${delivery}`);

  const queue = lk.runtime.deps.producer.queues.revoke;
  const done = await waitFor(
    "the Node worker to complete the job",
    async () => {
      const job = await queue.getJob(`ci-${delivery}`);
      return job && (await job.isCompleted()) ? job : undefined;
    },
    20_000,
  );
  assert.equal(
    (done.returnvalue as { items: Array<{ outcome: string }> }).items.map((i) => i.outcome),
    ["revoked"],
  );
  await waitFor("role dropped", async () => !(await roleExists(stack as Stack, user)));

  // Per-request Redis connection: later requests on the same isolate still work.
  const replay = await fetch(`${url}/v1/hooks/ci`, { method: "POST", headers, body });
  assert.is(replay.status, 409);
  for (let i = 0; i < 3; i++) assert.is((await fetch(`${url}/readyz`)).status, 200);

  // One app per isolate and a limit counted in Redis: the fourth call of three allowed is refused.
  const leases = () =>
    fetch(`${url}/v1/leases`, { headers: { authorization: `Bearer ${apiToken}` } }).then((r) => r.status);
  assert.equal([await leases(), await leases(), await leases(), await leases()], [200, 200, 200, 429]);
});

test.run();
