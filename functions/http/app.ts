import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { Registry } from "prom-client";
import { messageOf } from "../../shared/errors/errors.ts";
import type { Log } from "../../shared/observability/log.ts";
import { createApiApp } from "./api.ts";
import type { ApiDeps } from "./api-deps.ts";
import { admissionRoute, type AdmissionRouteDeps } from "./admission-route.ts";
import { errorResponse } from "./errors.ts";
import { eventsRoute, type EventsRouteDeps } from "./events-route.ts";
import { unsealRoute, type UnsealRouteDeps } from "./unseal-route.ts";

export interface ReadinessCheck {
  readonly name: string;
  readonly check: () => Promise<boolean>;
}

export interface AppDeps extends EventsRouteDeps {
  readonly registry: Registry;
  readonly readiness: readonly ReadinessCheck[];
  readonly log: Log;
  /** POST /v1/unseal, mounted when unseal is enabled. */
  readonly unseal?: UnsealRouteDeps | undefined;
  /** POST /v1/admission/pods, the mutating webhook (docs/injector.md). */
  readonly admission?: AdmissionRouteDeps | undefined;
  /** On-call and CI routes, /openapi.json, /docs, /admin/queues (functions/http/api.ts); when set, /v1/unseal is behind auth. */
  readonly api?: ApiDeps | undefined;
}

const READINESS_BOUND_MS = 2000;

/** Request ids, one error shape, and /healthz: what every listener serves. */
function baseApp(log: Log): Hono {
  const app = new Hono();
  app.use(requestId());
  app.onError((err, c) => {
    // Malformed JSON and similar input errors raised by Hono's validators keep their 4xx status.
    if (err instanceof HTTPException && err.status < 500)
      return errorResponse(c, err.status as 400, "bad_request", err.message);
    log.error({ path: c.req.path, error: messageOf(err) }, "request failed");
    return errorResponse(c, 500, "internal", "internal error");
  });
  app.notFound((c) => errorResponse(c, 404, "not_found", `no route for ${c.req.method} ${c.req.path}`));
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  return app;
}

/**
 * The TLS listener's app: the API server's admission calls and health, nothing else. Its port is
 * open to the control plane, so it must not be a way around the NetworkPolicy to the other routes.
 */
export function createAdmissionApp(deps: { readonly admission: AdmissionRouteDeps; readonly log: Log }): Hono {
  const app = baseApp(deps.log);
  app.route("/v1/admission/pods", admissionRoute(deps.admission));
  return app;
}

/** The HTTP functions as one Hono app on web-standard Request/Response. */
export function createApp(deps: AppDeps): Hono {
  const app = baseApp(deps.log);
  app.get("/readyz", async (c) => {
    const results: Record<string, boolean> = {};
    await Promise.all(
      deps.readiness.map(async (r) => {
        // Bounded: a hanging dependency makes the probe answer not-ready, never hang with it.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), READINESS_BOUND_MS)));
        results[r.name] = await Promise.race([r.check().catch(() => false), late]);
        clearTimeout(timer);
      }),
    );
    const ready = Object.values(results).every(Boolean);
    return c.json({ status: ready ? "ready" : "not-ready", checks: results }, ready ? 200 : 503);
  });
  app.get("/metrics", async (c) =>
    c.text(await deps.registry.metrics(), 200, { "content-type": deps.registry.contentType }),
  );
  app.route("/v1/events/kubernetes", eventsRoute(deps));
  if (deps.admission) app.route("/v1/admission/pods", admissionRoute(deps.admission));
  if (deps.api)
    app.route(
      "/",
      createApiApp(deps.api, { admission: deps.admission !== undefined, unseal: deps.unseal !== undefined }),
    );
  if (deps.unseal) app.route("/v1/unseal", unsealRoute(deps.unseal));
  return app;
}
