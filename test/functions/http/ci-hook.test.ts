import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { serve } from "@hono/node-server";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CI_HEADERS, signCiRequest } from "../../../functions/http/auth/hmac.ts";
import { record, startFixture, type Fixture } from "./api-fixture.ts";

const test = suite<{ f: Fixture }>("http api: CI hook (HMAC, window, replay)");

test.before(async (ctx) => {
  ctx.f = await startFixture();
  await ctx.f.index.put(record("team-a", "web-1"));
  await ctx.f.index.put(record("team-b", "db-1"));
});
test.after(async (ctx) => ctx.f?.close());

const now = () => Math.floor(Date.now() / 1000);
let n = 0;
const delivery = () => `d-${Date.now()}-${n++}`;
const rotate = JSON.stringify({
  action: "rotate",
  scope: { type: "namespace", namespace: "team-a" },
  reason: "deploy 42",
});
const jobCount = async (f: Fixture) =>
  await f.producer.queues.revoke.getJobCounts("waiting", "prioritized", "active", "completed", "failed", "delayed");
const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

test("a signed rotate becomes one operation job ci-<delivery>; its replay is refused with 409 and enqueues nothing", async ({
  f,
}) => {
  const id = delivery();
  const headers = signCiRequest(f.ciSecret, rotate, now(), id);
  const res = await f.app.request("/v1/hooks/ci", { method: "POST", headers, body: rotate });
  assert.is(res.status, 202);
  const body = (await res.json()) as { jobId: string; matched: number };
  assert.is(body.jobId, `ci-${id}`);
  assert.is(body.matched, 1);
  const job = await f.producer.queues.revoke.getJob(`ci-${id}`);
  assert.is(job?.name, "operation");
  assert.is((job?.data as { action: string }).action, "rotate");
  const before = total(await jobCount(f));
  const replay = await f.app.request("/v1/hooks/ci", { method: "POST", headers, body: rotate });
  assert.is(replay.status, 409);
  assert.is(((await replay.json()) as { error: { code: string } }).error.code, "replayed_delivery");
  assert.is(total(await jobCount(f)), before);
  const audit = await f.audit.read({ limit: 20 });
  assert.ok(
    audit.some(
      (r) => r.delivery === id && r.result === "accepted" && r.jobId === `ci-${id}` && r.actor.kind === "ci-hmac",
    ),
  );
  assert.ok(audit.some((r) => r.delivery === id && r.result === "replay-refused" && r.status === 409));
});

test("the delivery id is signed: a captured request sent again under a fresh delivery id is refused and enqueues nothing", async ({
  f,
}) => {
  const first = delivery();
  const headers = signCiRequest(f.ciSecret, rotate, now(), first);
  assert.is((await f.app.request("/v1/hooks/ci", { method: "POST", headers, body: rotate })).status, 202);
  const before = total(await jobCount(f));
  const fresh = delivery();
  const replay = await f.app.request("/v1/hooks/ci", {
    method: "POST",
    headers: { ...headers, [CI_HEADERS.delivery]: fresh },
    body: rotate,
  });
  assert.is(replay.status, 401);
  assert.is(((await replay.json()) as { error: { code: string } }).error.code, "invalid_signature");
  assert.is(await f.producer.queues.revoke.getJob(`ci-${fresh}`), undefined);
  assert.is(total(await jobCount(f)), before);
});

test("a CI key may only use its verbs and namespaces (team-a-deploy: rotate in team-a)", async ({ f }) => {
  const send = (body: object) => {
    const text = JSON.stringify(body);
    return f.app.request("/v1/hooks/ci", {
      method: "POST",
      headers: signCiRequest(f.ciTeamASecret, text, now(), delivery()),
      body: text,
    });
  };
  const [teamA] = await f.index.byName("team-a", "web-1");
  const [teamB] = await f.index.byName("team-b", "db-1");
  const allowed = await send({ action: "rotate", scope: { type: "namespace", namespace: "team-a" }, reason: "deploy" });
  assert.is(allowed.status, 202, await allowed.clone().text());
  assert.is((await send({ action: "rotate", scope: { type: "pod-uid", uid: teamA?.uid }, dryRun: true })).status, 200);
  const before = total(await jobCount(f));
  const refused = [
    await send({ action: "revoke", scope: { type: "namespace", namespace: "team-a" } }),
    await send({ action: "rotate", scope: { type: "namespace", namespace: "team-b" } }),
    await send({ action: "rotate", scope: { type: "pod-uid", uid: teamB?.uid } }),
    await send({ action: "rotate", scope: { type: "lease", id: teamB?.leases[0]?.id } }),
    await send({ action: "rotate", scope: { type: "path-prefix", prefix: "database/creds/" } }),
    await send({ action: "unseal" }),
  ];
  assert.equal(
    refused.map((r) => r.status),
    [403, 403, 403, 403, 403, 403],
  );
  for (const r of refused) assert.is(((await r.json()) as { error: { code: string } }).error.code, "forbidden");
  assert.is(total(await jobCount(f)), before, "nothing enqueued");
  const audit = await f.audit.read({ limit: 50 });
  assert.ok(audit.filter((r) => r.actor.name === "team-a-deploy" && r.result === "refused").length >= 6);
  assert.ok(audit.some((r) => r.actor.name === "team-a-deploy" && r.result === "accepted"));
});

test("docs/http-api.md's curl + openssl recipe is accepted as written", async ({ f }) => {
  const doc = readFileSync(new URL("../../../docs/http-api.md", import.meta.url), "utf8");
  const recipe = /## CI hook signing[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(recipe?.includes("openssl dgst"), "the recipe is in the doc");
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: f.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  try {
    const port = (server.address() as { port: number }).port;
    const env = {
      PATH: process.env.PATH,
      LEASEKEEPER_URL: `http://127.0.0.1:${port}`,
      LEASEKEEPER_CI_SECRET: f.ciSecret,
      CI_PIPELINE_ID: "77",
      CI_JOB_ID: `${Date.now()}`,
    };
    // Asynchronously: the server answers from this same process.
    const { stdout: out } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", recipe ?? ""], {
      env,
      encoding: "utf8",
      timeout: 20_000,
    });
    // The workload does not exist here: accepted and signed correctly means "nothing matched", not 401.
    assert.equal(JSON.parse(out), { dryRun: false, matched: 0, targets: [], jobId: null });
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test("expired or future timestamp → 401; tampered body → 401; wrong secret → 401; no state change", async ({ f }) => {
  const before = total(await jobCount(f));
  const old = await f.app.request("/v1/hooks/ci", {
    method: "POST",
    headers: signCiRequest(f.ciSecret, rotate, now() - 301, delivery()),
    body: rotate,
  });
  assert.is(old.status, 401);
  assert.is(((await old.json()) as { error: { code: string } }).error.code, "expired_signature");
  const future = await f.app.request("/v1/hooks/ci", {
    method: "POST",
    headers: signCiRequest(f.ciSecret, rotate, now() + 400, delivery()),
    body: rotate,
  });
  assert.is(future.status, 401);
  const tampered = await f.app.request("/v1/hooks/ci", {
    method: "POST",
    headers: signCiRequest(f.ciSecret, rotate, now(), delivery()),
    body: rotate.replace("team-a", "team-b"),
  });
  assert.is(tampered.status, 401);
  assert.is(((await tampered.json()) as { error: { code: string } }).error.code, "invalid_signature");
  const wrong = await f.app.request("/v1/hooks/ci", {
    method: "POST",
    headers: signCiRequest("x".repeat(64), rotate, now(), delivery()),
    body: rotate,
  });
  assert.is(wrong.status, 401);
  const unsigned = await f.app.request("/v1/hooks/ci", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: rotate,
  });
  assert.is(unsigned.status, 400);
  assert.is(total(await jobCount(f)), before);
});

test("signed but invalid: wrong content type 415, bad JSON 400, unknown action 400; the delivery id stays usable", async ({
  f,
}) => {
  const id = delivery();
  const text = "not json";
  const ct = await f.app.request("/v1/hooks/ci", {
    method: "POST",
    headers: { ...signCiRequest(f.ciSecret, rotate, now(), delivery()), "content-type": "text/plain" },
    body: rotate,
  });
  assert.is(ct.status, 415);
  assert.is(
    (
      await f.app.request("/v1/hooks/ci", {
        method: "POST",
        headers: signCiRequest(f.ciSecret, text, now(), id),
        body: text,
      })
    ).status,
    400,
  );
  const bad = JSON.stringify({ action: "explode" });
  assert.is(
    (
      await f.app.request("/v1/hooks/ci", {
        method: "POST",
        headers: signCiRequest(f.ciSecret, bad, now(), delivery()),
        body: bad,
      })
    ).status,
    400,
  );
  // A dry run or a scope that matches nothing changes nothing and is not an error.
  const nothing = JSON.stringify({ action: "revoke", scope: { type: "namespace", namespace: "empty-ns" } });
  const res = await f.app.request("/v1/hooks/ci", {
    method: "POST",
    headers: signCiRequest(f.ciSecret, nothing, now(), id),
    body: nothing,
  });
  assert.is(res.status, 200);
  assert.equal(((await res.json()) as { matched: number }).matched, 0);
});

test("unseal via CI enqueues unseal jobs with source ci", async ({ f }) => {
  const body = JSON.stringify({ action: "unseal" });
  const res = await f.app.request("/v1/hooks/ci", {
    method: "POST",
    headers: signCiRequest(f.ciSecret, body, now(), delivery()),
    body,
  });
  assert.is(res.status, 202);
  const jobs = ((await res.json()) as { jobs: Array<{ jobId: string }> }).jobs;
  const job = await f.producer.queues.unseal.getJob(jobs[0]?.jobId ?? "");
  assert.is((job?.data as { source: string }).source, "ci");
});

test("unseal via CI naming no known replica: 404 no_replicas naming it, audited, the delivery free again", async ({
  f,
}) => {
  const body = JSON.stringify({ action: "unseal", replicas: ["vault/nope"] });
  const id = delivery();
  const headers = signCiRequest(f.ciSecret, body, now(), id);
  const res = await f.app.request("/v1/hooks/ci", { method: "POST", headers, body });
  assert.is(res.status, 404);
  const error = ((await res.json()) as { error: { code: string; message: string } }).error;
  assert.is(error.code, "no_replicas");
  assert.match(error.message, "vault/nope");
  assert.match(error.message, "vault/vault-0");
  const audit = await f.audit.read({ limit: 20 });
  assert.ok(
    audit.some((r) => r.delivery === id && r.action === "unseal" && r.result === "nothing-matched" && r.status === 404),
  );
  assert.is.not(
    (await f.app.request("/v1/hooks/ci", { method: "POST", headers, body })).status,
    409,
    "nothing was done: the delivery id is not used up",
  );
});

test("the CI secret never reaches the logs or the audit stream", async ({ f }) => {
  const audit = JSON.stringify(await f.audit.read({ limit: 1000 }));
  assert.not.ok(audit.includes(f.ciSecret));
  assert.not.ok(f.logs.join("").includes(f.ciSecret));
});

test.run();
