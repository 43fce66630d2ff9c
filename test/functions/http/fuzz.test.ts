import { suite } from "uvu";
import * as assert from "uvu/assert";
import { signCiRequest } from "../../../functions/http/auth/hmac.ts";
import { bearer, record, startFixture, type Fixture } from "./api-fixture.ts";

const test = suite<{ f: Fixture }>("http api: fuzzed input never 500s, never changes state");

test.before(async (ctx) => {
  ctx.f = await startFixture();
  await ctx.f.index.put(record("team-a", "web-1"));
});
test.after(async (ctx) => ctx.f?.close());

// Deterministic PRNG so a failure reproduces.
let seed = 0x5eed;
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

function randomJson(depth = 0): unknown {
  const kind = Math.floor(rand() * (depth > 3 ? 5 : 8));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return pick([0, -1, 1e308, 3.5, Number.MAX_SAFE_INTEGER]);
    case 3:
      return pick(["", "x", "team-a", "../..", "\u0000", "💥".repeat(50), "a".repeat(600)]);
    case 4:
      return pick(["revoke", "rotate", "unseal", "namespace", "pod", "lease", "workload", "path-prefix"]);
    case 5:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomJson(depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < Math.floor(rand() * 5); i++)
        obj[
          pick([
            "scope",
            "type",
            "namespace",
            "name",
            "reason",
            "dryRun",
            "action",
            "id",
            "kind",
            "prefix",
            "uid",
            "replicas",
            "__proto__",
            "constructor",
          ])
        ] = randomJson(depth + 1);
      return obj;
    }
  }
}

const nested = (n: number) => "[".repeat(n) + "]".repeat(n);

async function snapshot(f: Fixture) {
  const counts = await Promise.all(Object.values(f.producer.queues).map((q) => q.getJobCounts()));
  return JSON.stringify([counts, (await f.index.uids()).sort()]);
}

test("random, mistyped, huge, deeply nested and wrongly typed bodies on every POST route", async ({ f }) => {
  const before = await snapshot(f);
  const bodies: string[] = [
    nested(100_000),
    "{".repeat(50_000),
    "a".repeat(2 * 1024 * 1024),
    "",
    "null",
    "[]",
    '{"scope":1}',
    '{"scope":{"type":"namespace","namespace":5},"reason":"x"}',
    "\uFEFF{}",
    '{"a":1}garbage',
  ];
  for (let i = 0; i < 300; i++) bodies.push(JSON.stringify(randomJson()));
  const statuses = new Map<number, number>();
  for (const body of bodies) {
    for (const path of ["/v1/revoke", "/v1/rotate", "/v1/unseal", "/v1/hooks/ci", "/v1/events/kubernetes"]) {
      for (const contentType of ["application/json", "text/plain", "application/x-www-form-urlencoded"]) {
        const headers =
          path === "/v1/hooks/ci"
            ? {
                ...signCiRequest(
                  f.ciSecret,
                  body,
                  Math.floor(Date.now() / 1000),
                  `fz-${statuses.size}-${Math.floor(rand() * 1e9)}`,
                ),
                "content-type": contentType,
              }
            : { ...bearer(f.apiToken), "content-type": contentType };
        if (path === "/v1/unseal" && body.length < 100 && !body.includes("replicas")) continue; // a valid unseal body would enqueue (by design)
        const res = await f.app.request(path, { method: "POST", headers, body });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(res.status < 500, `${path} ${contentType} ${body.slice(0, 80)} → ${res.status}`);
        if (res.status >= 400) {
          const err = (await res.json()) as { error?: { code?: string; message?: string } };
          assert.type(err.error?.code, "string", `${path}: one error shape`);
        }
      }
    }
  }
  assert.is(await snapshot(f), before, "no job and no index entry changed");
  assert.ok(
    (statuses.get(400) ?? 0) > 0 && (statuses.get(413) ?? 0) > 0 && (statuses.get(415) ?? 0) > 0,
    JSON.stringify([...statuses]),
  );
});

test("fuzzed query strings and ids on the GET routes", async ({ f }) => {
  const values = ["", "-1", "abc", "1e999", "%00", "a".repeat(5000), "../../etc", "999999999999"];
  for (const v of values) {
    for (const path of [
      `/v1/leases?namespace=${v}&expiringWithin=${v}`,
      `/v1/audit?limit=${v}&before=${v}`,
      `/v1/jobs/${encodeURIComponent(v) || "x"}?wait=${v}`,
    ]) {
      const res = await f.app.request(path, { headers: bearer(f.apiToken, false) });
      assert.ok(res.status < 500, `${path.slice(0, 80)} → ${res.status}`);
    }
  }
});

test.run();
