import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Hono } from "hono";
import { startFixture, type Fixture } from "./api-fixture.ts";

/**
 * /openapi.json (and /docs, built from it) describes every route the app serves: the test lists
 * the app's routes and looks each one up in the document, so a new route without a description
 * fails here (POST /v1/unseal used to be missing).
 */
const test = suite<{ f: Fixture }>("openapi: every route is described");

test.before(async (ctx) => {
  // Every optional part mounted, as the Node runtime mounts them.
  ctx.f = await startFixture({ adminQueues: true });
});
test.after(async (ctx) => ctx.f?.close());

/** Method and OpenAPI path of each handler the app routes to (middleware registrations are method ALL). */
function servedRoutes(app: Hono): string[] {
  const out = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue;
    // Hono's `/:id` is OpenAPI's `/{id}`; bull-board's files and API below /admin/queues are one described path.
    const path = r.path.startsWith("/admin/queues/")
      ? "/admin/queues/{path}"
      : r.path.replace(/:(\w+)/g, "{$1}").replace(/\/$/, "") || "/";
    out.add(`${r.method} ${path}`);
  }
  return [...out].sort();
}

test("each served route (method and path) is in /openapi.json, and /docs lists it", async ({ f }) => {
  const doc = (await (await f.app.request("/openapi.json")).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
  );
  const served = servedRoutes(f.app);
  assert.ok(served.length >= 15, `found ${served.length} routes`);
  for (const route of [
    "POST /v1/unseal",
    "POST /v1/admission/pods",
    "POST /v1/events/kubernetes",
    "GET /healthz",
    "GET /admin/queues",
  ]) {
    assert.ok(served.includes(route), `the fixture serves ${route}`);
  }
  const missing = served.filter((r) => !documented.has(r));
  assert.equal(missing, [], `routes without an OpenAPI description: ${missing.join(", ")}`);
  const page = await (await f.app.request("/docs")).text();
  for (const route of served) {
    const [method, path] = route.split(" ");
    assert.ok(
      page.includes(
        `<code>${method}</code></td><td><code>${(path ?? "").replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)}</code>`,
      ),
      `/docs lists ${route}`,
    );
  }
});

test("POST /v1/unseal is described with its body, 202 answer and RBAC", async ({ f }) => {
  const doc = (await (await f.app.request("/openapi.json")).json()) as {
    paths: Record<
      string,
      Record<string, { description?: string; responses: Record<string, unknown>; requestBody?: unknown }>
    >;
  };
  const unseal = doc.paths["/v1/unseal"]?.post;
  assert.ok(unseal);
  assert.ok(unseal?.requestBody);
  assert.ok(unseal?.responses["202"] && unseal.responses["401"] && unseal.responses["403"]);
  assert.match(unseal?.description ?? "", /create unseals\.leasekeeper\.io/);
});

test.run();
