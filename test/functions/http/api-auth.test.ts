import { suite } from "uvu";
import * as assert from "uvu/assert";
import { bearer, record, startFixture, type Fixture } from "./api-fixture.ts";

const test = suite<{ f: Fixture }>("http api: authentication and authorization");

test.before(async (ctx) => {
  ctx.f = await startFixture();
  await ctx.f.index.put(record("team-a", "web-1"));
  await ctx.f.index.put(record("team-b", "db-1"));
});
test.after(async (ctx) => ctx.f?.close());

const revokeBody = (namespace: string, dryRun = true) =>
  JSON.stringify({ scope: { type: "namespace", namespace }, reason: "test", dryRun });

test("no token → 401 with WWW-Authenticate; malformed and unknown tokens → 401", async ({ f }) => {
  const none = await f.app.request("/v1/revoke", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: revokeBody("team-a"),
  });
  assert.is(none.status, 401);
  assert.match(none.headers.get("www-authenticate") ?? "", /Bearer/);
  assert.equal(Object.keys(((await none.json()) as { error: object }).error), ["code", "message"]);
  const bad = await f.app.request("/v1/revoke", {
    method: "POST",
    headers: bearer("not-a-real-token-at-all"),
    body: revokeBody("team-a"),
  });
  assert.is(bad.status, 401);
  assert.is(((await bad.json()) as { error: { code: string } }).error.code, "invalid_token");
  const basic = await f.app.request("/v1/leases", { headers: { authorization: "Basic Zm9vOmJhcg==" } });
  assert.is(basic.status, 401);
});

test("only tokens made for leasekeeper's audience are accepted: a kubeconfig-style token (the API server's audience) → 401", async ({
  f,
}) => {
  const apiAudience = await f.app.request("/v1/leases", { headers: bearer(f.tokens.adminSaApiAudience, false) });
  assert.is(apiAudience.status, 401);
  assert.is(((await apiAudience.json()) as { error: { code: string } }).error.code, "invalid_token");
  assert.is((await f.app.request("/v1/leases", { headers: bearer(f.tokens.adminSa, false) })).status, 200);
});

test("valid token without the RBAC verb → 403; right verb in the wrong namespace → 403; right namespace → 200", async ({
  f,
}) => {
  const reader = await f.app.request("/v1/revoke", {
    method: "POST",
    headers: bearer(f.tokens.reader),
    body: revokeBody("team-a"),
  });
  assert.is(reader.status, 403);
  const wrongNs = await f.app.request("/v1/revoke", {
    method: "POST",
    headers: bearer(f.tokens.oncallA),
    body: revokeBody("team-b"),
  });
  assert.is(wrongNs.status, 403);
  // One refusal body whatever the request named (it never confirms a namespace or an id).
  assert.equal(await wrongNs.json(), {
    error: {
      code: "forbidden",
      message: "not allowed: create revocations.leasekeeper.io is not granted for what this request reaches",
    },
  });
  const ok = await f.app.request("/v1/revoke", {
    method: "POST",
    headers: bearer(f.tokens.oncallA),
    body: revokeBody("team-a"),
  });
  assert.is(ok.status, 200);
  const body = (await ok.json()) as { dryRun: boolean; matched: number; targets: Array<{ name: string }> };
  assert.is(body.dryRun, true);
  assert.equal(
    body.targets.map((t) => t.name),
    ["web-1"],
  );
  // A prefix scope spans namespaces: only cluster-wide rights do.
  const prefix = await f.app.request("/v1/revoke", {
    method: "POST",
    headers: bearer(f.tokens.oncallA),
    body: JSON.stringify({ scope: { type: "path-prefix", prefix: "database/" }, reason: "x", dryRun: true }),
  });
  assert.is(prefix.status, 403);
  const prefixOps = await f.app.request("/v1/revoke", {
    method: "POST",
    headers: bearer(f.tokens.adminSa),
    body: JSON.stringify({ scope: { type: "path-prefix", prefix: "database/" }, reason: "x", dryRun: true }),
  });
  assert.is(prefixOps.status, 200);
  assert.is(((await prefixOps.json()) as { matched: number }).matched, 2);
});

test("a lease scope is authorized in the namespace of the pod that holds it", async ({ f }) => {
  const leaseB = (await f.index.all()).find((r) => r.namespace === "team-b")?.leases[0]?.id ?? "";
  const res = await f.app.request("/v1/revoke", {
    method: "POST",
    headers: bearer(f.tokens.oncallA),
    body: JSON.stringify({ scope: { type: "lease", id: leaseB }, reason: "x", dryRun: true }),
  });
  assert.is(res.status, 403);
});

test("static API token (stored as sha256) is accepted; /v1/leases never returns the sealed token or accessor", async ({
  f,
}) => {
  const res = await f.app.request("/v1/leases", { headers: bearer(f.apiToken, false) });
  assert.is(res.status, 200);
  const text = await res.text();
  assert.not.match(text, /SEALED-TOKEN-MARKER/);
  assert.not.match(text, /acc-/);
  const body = JSON.parse(text) as { pods: Array<{ namespace: string; leases: unknown[] }> };
  assert.is(body.pods.length, 2);
  const filtered = (await (
    await f.app.request("/v1/leases?namespace=team-b&expiringWithin=700", { headers: bearer(f.apiToken, false) })
  ).json()) as { pods: unknown[] };
  assert.is(filtered.pods.length, 1);
  const none = (await (
    await f.app.request("/v1/leases?expiringWithin=10", { headers: bearer(f.apiToken, false) })
  ).json()) as { pods: unknown[] };
  assert.is(none.pods.length, 0);
  const byPod = (await (
    await f.app.request("/v1/leases?pod=team-a/web-1&role=postgres", { headers: bearer(f.apiToken, false) })
  ).json()) as { pods: unknown[] };
  assert.is(byPod.pods.length, 1);
  // RBAC on reads: oncall-a may list in team-a only.
  assert.is(
    (await f.app.request("/v1/leases?namespace=team-a", { headers: bearer(f.tokens.oncallA, false) })).status,
    200,
  );
  assert.is(
    (await f.app.request("/v1/leases?namespace=team-b", { headers: bearer(f.tokens.oncallA, false) })).status,
    403,
  );
  assert.is((await f.app.request("/v1/leases", { headers: bearer(f.tokens.oncallA, false) })).status, 403);
});

test("/v1/unseal is behind auth (create unseals, cluster-wide) and audited", async ({ f }) => {
  assert.is((await f.app.request("/v1/unseal", { method: "POST", body: "{}" })).status, 401);
  assert.is(
    (await f.app.request("/v1/unseal", { method: "POST", headers: bearer(f.tokens.oncallA), body: "{}" })).status,
    403,
  );
  const ok = await f.app.request("/v1/unseal", { method: "POST", headers: bearer(f.tokens.adminSa), body: "{}" });
  assert.is(ok.status, 202);
  const records = await f.audit.read({ limit: 50 });
  assert.ok(
    records.some(
      (r) =>
        r.action === "unseal" &&
        r.result === "accepted" &&
        r.actor.name === "system:serviceaccount:kube-system:ops" &&
        r.jobId?.startsWith("unseal-"),
    ),
  );
  assert.ok(records.some((r) => r.action === "unseal" && r.result === "refused" && r.status === 403));
});

test("openapi.json, /docs, health and a 404 in the one error shape; request ids", async ({ f }) => {
  const doc = (await (await f.app.request("/openapi.json")).json()) as {
    openapi: string;
    paths: Record<string, unknown>;
  };
  assert.is(doc.openapi, "3.1.0");
  for (const path of ["/v1/revoke", "/v1/rotate", "/v1/hooks/ci", "/v1/jobs/{id}", "/v1/leases", "/v1/audit"])
    assert.ok(doc.paths[path], path);
  const docs = await f.app.request("/docs");
  assert.is(docs.status, 200);
  assert.match(await docs.text(), /\/v1\/revoke/);
  const health = await f.app.request("/healthz");
  assert.ok(health.headers.get("x-request-id"));
  const missing = await f.app.request("/v1/nope");
  assert.is(missing.status, 404);
  assert.equal(Object.keys(((await missing.json()) as { error: object }).error), ["code", "message"]);
});

test("jobs: 404 for an unknown id after authorization; audit needs cluster-wide list", async ({ f }) => {
  assert.is((await f.app.request("/v1/jobs/op-nope", { headers: bearer(f.apiToken, false) })).status, 404);
  assert.is((await f.app.request("/v1/jobs/op-nope", { headers: bearer(f.tokens.reader, false) })).status, 403);
  assert.is((await f.app.request("/v1/audit", { headers: bearer(f.tokens.oncallA, false) })).status, 403);
  const audit = (await (
    await f.app.request("/v1/audit?limit=500", { headers: bearer(f.tokens.adminSa, false) })
  ).json()) as { records: Array<{ action: string; result: string; status: number }> };
  // Every state-changing call of this file, refused or not, is on the stream.
  assert.ok(audit.records.filter((r) => r.action === "revoke" && r.result === "refused").length >= 4);
  assert.ok(audit.records.some((r) => r.action === "revoke" && r.result === "dry-run"));
});

test.run();
