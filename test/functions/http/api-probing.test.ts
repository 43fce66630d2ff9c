/**
 * A caller without rights learns nothing from a refusal: the same 403 body whether a lease id, pod
 * UID or job exists or not, and in whichever namespace; probing cannot flood the audit trail.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomUUID } from "node:crypto";
import { bearer, record, startFixture, type Fixture } from "./api-fixture.ts";

const test = suite<{ f: Fixture }>("http api: refusals do not reveal what exists");

test.before(async (ctx) => {
  ctx.f = await startFixture();
  await ctx.f.index.put(record("team-a", "web-1"));
  await ctx.f.index.put(record("team-b", "db-1"));
});
test.after(async (ctx) => ctx.f?.close());

const post = (f: Fixture, token: string, path: string, scope: object) =>
  f.app.request(path, {
    method: "POST",
    headers: bearer(token),
    body: JSON.stringify({ scope, reason: "probe", dryRun: true }),
  });
const answer = async (res: Response) => `${res.status} ${await res.text()}`;

test("lease and pod-uid scopes: the same 403 for an existing id, a missing one and one in another namespace", async ({
  f,
}) => {
  const [b] = await f.index.byName("team-b", "db-1");
  const existingLease = { type: "lease", id: b?.leases[0]?.id };
  const missingLease = { type: "lease", id: `database/creds/postgres-role/${randomUUID()}` };
  const existingUid = { type: "pod-uid", uid: b?.uid };
  const missingUid = { type: "pod-uid", uid: randomUUID() };
  for (const token of [f.tokens.reader, f.tokens.oncallA]) {
    for (const path of ["/v1/revoke", "/v1/rotate"]) {
      const answers = new Set<string>();
      for (const scope of [existingLease, missingLease, existingUid, missingUid])
        answers.add(await answer(await post(f, token, path, scope)));
      assert.equal(
        [...answers].map((a) => a.slice(0, 3)),
        ["403"],
        `${path}: ${[...answers].join(" | ")}`,
      );
      assert.is(answers.size, 1, `one body for all four: ${[...answers].join(" | ")}`);
    }
  }
  // The refusal names neither the namespace nor the caller's target.
  const body = await answer(await post(f, f.tokens.oncallA, "/v1/revoke", { type: "namespace", namespace: "team-b" }));
  assert.not.match(body, /team-b/);
  // Cluster-wide rights still learn that nothing matches; namespaced rights still act on their own pods.
  const admin = (await (await post(f, f.tokens.adminSa, "/v1/revoke", missingLease)).json()) as { matched: number };
  assert.is(admin.matched, 0);
  const [a] = await f.index.byName("team-a", "web-1");
  const own = await post(f, f.tokens.oncallA, "/v1/revoke", { type: "lease", id: a?.leases[0]?.id });
  assert.is(own.status, 200);
});

test("jobs: the same 403 for an existing job in another namespace and a missing one", async ({ f }) => {
  const created = await f.app.request("/v1/revoke", {
    method: "POST",
    headers: bearer(f.apiToken),
    body: JSON.stringify({ scope: { type: "namespace", namespace: "team-b" }, reason: "x", dryRun: false }),
  });
  const { jobId } = (await created.json()) as { jobId: string };
  const existing = await answer(await f.app.request(`/v1/jobs/${jobId}`, { headers: bearer(f.tokens.oncallA, false) }));
  const missing = await answer(
    await f.app.request(`/v1/jobs/op-${randomUUID()}`, { headers: bearer(f.tokens.oncallA, false) }),
  );
  assert.ok(existing.startsWith("403"), existing);
  assert.is(existing, missing);
});

test("a prober cannot flood the audit trail: its refusals are recorded up to the per-identity limit", async ({ f }) => {
  for (let i = 0; i < 100; i++) await post(f, f.tokens.reader, "/v1/revoke", { type: "pod-uid", uid: randomUUID() });
  const records = await f.audit.read({ limit: 1000 });
  const reader = records.filter((r) => r.actor.name === "system:serviceaccount:team-a:reader");
  assert.ok(reader.length <= 61, `${reader.length} records of the prober`);
  assert.ok(reader.some((r) => r.suppressedUntil !== undefined));
  assert.ok(
    records.some((r) => r.actor.kind === "api-token" && r.result === "accepted"),
    "the real change is still on the trail",
  );
});

test.run();
