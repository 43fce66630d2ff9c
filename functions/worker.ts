import { Hono } from "hono";

/**
 * Cloudflare Worker entry (wrangler.toml). It serves the stateless HTTP functions that need
 * no long-lived connection; the pod watcher, workers and reconciler run on Node.
 */
const app = new Hono();
app.get("/healthz", (c) => c.json({ status: "ok", runtime: "workers" }));
app.notFound((c) => c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404));

export default app;
