import { suite } from "uvu";
import * as assert from "uvu/assert";
import { bearer, startFixture, type Fixture } from "./api-fixture.ts";

/**
 * /admin/queues from a browser: an authorized bearer call mints a one-time login link; opening it
 * sets a short HttpOnly, SameSite=Strict cookie for /admin; the dashboard then opens with the
 * cookie alone, read-only, until the session ends.
 */
const test = suite<{ f: Fixture }>("dashboard: browser login");

test.before(async (ctx) => {
  ctx.f = await startFixture({ adminQueues: true });
});
test.after(async (ctx) => ctx.f?.close());

const mint = (f: Fixture, token: string) =>
  f.app.request("/admin/login-links", { method: "POST", headers: bearer(token, false) });
const cookieOf = (res: Response) => /lk_admin=([^;]*)/.exec(res.headers.get("set-cookie") ?? "")?.[1] ?? "";
const withCookie = (value: string) => ({ cookie: `lk_admin=${value}` });

test("without credentials the dashboard answers 401 and says how to get in; a bearer token still works", async ({
  f,
}) => {
  const none = await f.app.request("/admin/queues");
  assert.is(none.status, 401);
  assert.match(((await none.json()) as { error: { message: string } }).error.message, /leasekeeper dashboard/);
  const withBearer = await f.app.request("/admin/queues", { headers: bearer(f.apiToken, false) });
  assert.is(withBearer.status, 200);
  assert.match(withBearer.headers.get("content-type") ?? "", /text\/html/);
});

test("only who may `get queues` mints a link; it is audited", async ({ f }) => {
  const refused = await mint(f, f.tokens.reader);
  assert.is(refused.status, 403);
  const ok = await mint(f, f.tokens.adminSa);
  assert.is(ok.status, 200);
  const body = (await ok.json()) as { path: string; expiresAt: string; sessionSeconds: number };
  assert.match(body.path, /^\/admin\/login\?ticket=[A-Za-z0-9_-]{43}$/);
  const left = Date.parse(body.expiresAt) - Date.now();
  assert.ok(left > 50_000 && left <= 60_000, `the link works for a minute (${left} ms)`);
  assert.is(body.sessionSeconds, 900);
  const audit = (await (await f.app.request("/v1/audit", { headers: bearer(f.apiToken, false) })).json()) as {
    records: Array<{ action: string; result: string; actor: { name: string } }>;
  };
  assert.ok(
    audit.records.some(
      (r) =>
        r.action === "dashboard-login-link" &&
        r.result === "refused" &&
        r.actor.name === "system:serviceaccount:team-a:reader",
    ),
  );
  assert.ok(
    audit.records.some(
      (r) =>
        r.action === "dashboard-login-link" &&
        r.result === "accepted" &&
        r.actor.name === "system:serviceaccount:kube-system:ops",
    ),
  );
});

test("the link sets an HttpOnly, SameSite=Strict, Path=/admin cookie for 15 minutes, once; the cookie opens the dashboard read-only", async ({
  f,
}) => {
  const { path } = (await (await mint(f, f.apiToken)).json()) as { path: string };
  const login = await f.app.request(path);
  assert.is(login.status, 200);
  const setCookie = login.headers.get("set-cookie") ?? "";
  assert.match(
    setCookie,
    /^lk_admin=[A-Za-z0-9_-]{43}; Max-Age=900; Path=\/admin; HttpOnly; SameSite=Strict$/,
    setCookie,
  );
  assert.is(login.headers.get("cache-control"), "no-store");
  assert.is(login.headers.get("referrer-policy"), "no-referrer");
  assert.match(await login.text(), /http-equiv="refresh" content="0;url=\/admin\/queues"/);
  const session = cookieOf(login);

  const page = await f.app.request("/admin/queues", { headers: withCookie(session) });
  assert.is(page.status, 200);
  const queues = await f.app.request("/admin/queues/api/queues", { headers: withCookie(session) });
  assert.is(queues.status, 200);
  const names = ((await queues.json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> }).queues.map(
    (q) => [q.name, q.readOnlyMode],
  );
  assert.equal(names.sort(), [
    ["issue", true],
    ["renew", true],
    ["revoke", true],
    ["unseal", true],
  ]);
  // Read-only whatever the credentials: bull-board's actions are refused before they are reached.
  for (const [method, url] of [
    ["PUT", "/admin/queues/api/queues/issue/pause"],
    ["PUT", "/admin/queues/api/queues/pause"],
    ["POST", "/admin/queues/api/metrics/history/purge"],
  ] as const) {
    assert.is(
      (await f.app.request(url, { method, headers: withCookie(session) })).status,
      405,
      `${method} ${url} with the cookie`,
    );
    assert.is(
      (await f.app.request(url, { method, headers: bearer(f.apiToken, false) })).status,
      405,
      `${method} ${url} with a bearer token`,
    );
  }
  // The cookie is for the dashboard only, not for the API.
  assert.is((await f.app.request("/v1/leases", { headers: withCookie(session) })).status, 401);

  const again = await f.app.request(path);
  assert.is(again.status, 401, "a link works once");
  assert.is(((await again.json()) as { error: { code: string } }).error.code, "invalid_ticket");
});

test("Redis holds only digests of tickets and sessions, with their expiry; an ended session is refused", async ({
  f,
}) => {
  const { path } = (await (await mint(f, f.apiToken)).json()) as { path: string };
  const ticket = path.split("ticket=")[1] ?? "";
  const ticketKeys = await f.redis.keys(`${f.prefix}:admin:ticket:*`);
  assert.ok(ticketKeys.length >= 1);
  const ttl = await f.redis.ttl(ticketKeys[0] ?? "");
  assert.ok(ttl > 0 && ttl <= 60, `ticket expires in Redis (${ttl} s)`);
  const session = cookieOf(await f.app.request(path, { headers: { "x-forwarded-proto": "https" } }));
  const keys = await f.redis.keys(`${f.prefix}:admin:*`);
  const dump = JSON.stringify(await Promise.all(keys.map(async (k) => [k, await f.redis.get(k)])));
  assert.not.ok(dump.includes(ticket) || dump.includes(session), "no usable ticket or session id in Redis");
  const sessionKeys = await f.redis.keys(`${f.prefix}:admin:session:*`);
  for (const key of sessionKeys) {
    const left = await f.redis.ttl(key);
    assert.ok(left > 0 && left <= 900, `session expires in Redis (${left} s)`);
  }
  assert.is((await f.app.request("/admin/queues", { headers: withCookie(session) })).status, 200);
  // Logging out (or the expiry) ends it on the server, whatever the browser keeps.
  const out = await f.app.request("/admin/logout", { method: "POST", headers: withCookie(session) });
  assert.is(out.status, 204);
  assert.match(out.headers.get("set-cookie") ?? "", /lk_admin=; Max-Age=0; Path=\/admin/);
  const after = await f.app.request("/admin/queues", { headers: withCookie(session) });
  assert.is(after.status, 401);
});

test("behind TLS (https or X-Forwarded-Proto: https) the cookie is Secure", async ({ f }) => {
  const { path } = (await (await mint(f, f.apiToken)).json()) as { path: string };
  const login = await f.app.request(path, { headers: { "x-forwarded-proto": "https" } });
  assert.match(login.headers.get("set-cookie") ?? "", /; Secure/);
});

test.run();
