import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { dashboardAuth, registerAdminLogin } from "./admin-login.ts";
import { AdminSessions } from "./admin-sessions.ts";
import type { ApiContext, ApiDeps } from "./api-deps.ts";
import { auditCall } from "./audit-call.ts";
import { authenticate } from "./auth/authenticate.ts";
import { createAuthorizer, refuseUnless } from "./auth/authorize.ts";
import type { ApiEnv } from "./auth/identity.ts";
import { registerAuditRoute } from "./audit-route.ts";
import { registerCiHook } from "./ci-hook-route.ts";
import { docsPage } from "./docs-page.ts";
import { errorResponse } from "./errors.ts";
import { registerJobsRoute } from "./jobs-route.ts";
import { registerLeasesRoute } from "./leases-route.ts";
import { rateLimit } from "./rate-limit.ts";
import { registerPlatformDocs, type PlatformRoutes } from "./platform-docs.ts";
import { registerOperationRoutes } from "./operation-route.ts";
import { issuesText } from "./schemas.ts";

const BEARER_PATHS = ["/v1/revoke", "/v1/rotate", "/v1/leases", "/v1/jobs/*", "/v1/audit", "/v1/unseal"];

/**
 * The on-call and CI routes, the OpenAPI document (/openapi.json) and its page (/docs). Every
 * route here is authenticated (bearer: API token or TokenReview; the CI hook: HMAC), authorized
 * with SubjectAccessReview, rate limited per identity, size limited and validated.
 */
export function createApiApp(
  deps: ApiDeps,
  mounted: Omit<PlatformRoutes, "adminQueues"> = { admission: false, unseal: deps.unseal !== undefined },
): OpenAPIHono<ApiEnv> {
  const ctx: ApiContext = { ...deps, authorize: createAuthorizer(deps.reviewer) };
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return errorResponse(c, 400, "invalid_request", issuesText(result.error));
      return undefined;
    },
  });
  const auth = authenticate({ reviewer: deps.reviewer, apiTokenHashes: deps.apiTokenHashes });
  const limit = rateLimit({ limit: deps.rateLimitPerMinute, windowMs: 60_000, counter: deps.rateCounter });
  const size = bodyLimit({
    maxSize: 64 * 1024,
    onError: (c) => errorResponse(c, 413, "payload_too_large", "body is larger than 64 KiB"),
  });
  for (const path of BEARER_PATHS) app.use(path, size, auth, limit);
  app.use("/v1/revoke", requireJson());
  app.use("/v1/rotate", requireJson());

  // POST /v1/unseal (unseal-route.ts, mounted by app.ts after this) needs create on unseals, cluster-wide; audited.
  app.use("/v1/unseal", async function unsealAccess(c, next) {
    const refused = await refuseUnless(c, ctx.authorize, { verb: "create", resource: "unseals" });
    const res = refused ?? (await next(), c.res);
    let jobIds: string | undefined;
    if (res.status === 202) {
      const body = (await res.clone().json()) as { jobs?: Array<{ jobId: string }> };
      jobIds = body.jobs?.map((j) => j.jobId).join(",");
    }
    await auditCall(c, ctx.audit, {
      action: "unseal",
      result: res.status === 202 ? "accepted" : res.status === 403 ? "refused" : "failed",
      status: res.status,
      jobId: jobIds || undefined,
    });
    if (refused) return refused;
    return undefined;
  });

  registerOperationRoutes(app, ctx);
  registerCiHook(app, ctx);
  registerJobsRoute(app, ctx);
  registerLeasesRoute(app, ctx);
  registerAuditRoute(app, ctx);

  if (deps.adminQueues) {
    // A browser gets in with a one-time login link (admin-login.ts), curl with a bearer token.
    const sessions = AdminSessions.onQueueConnection(deps.producer);
    registerAdminLogin(app, ctx, sessions, [size, auth, limit]);
    for (const path of ["/admin/queues", "/admin/queues/*"])
      app.use(path, dashboardAuth(sessions, auth), limit, adminAccess(ctx));
    app.route("/admin/queues", deps.adminQueues);
  }

  registerPlatformDocs(app, { ...mounted, adminQueues: deps.adminQueues !== undefined });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "Kubernetes token (TokenReview + SubjectAccessReview) or a static API token",
  });
  const info = {
    title: "leasekeeper",
    version: "1",
    description:
      'Per-pod dynamic Vault credentials: on-call and CI API. Errors are always {"error":{"code","message"}}.',
  };
  app.doc31("/openapi.json", { openapi: "3.1.0", info, security: [{ bearer: [] }] });
  app.get("/docs", (c) =>
    c.html(docsPage(app.getOpenAPI31Document({ openapi: "3.1.0", info }) as Parameters<typeof docsPage>[0])),
  );
  return app;
}

function requireJson(): MiddlewareHandler<ApiEnv> {
  return async function jsonOnly(c, next) {
    if (c.req.method !== "POST") return next();
    const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!/^application\/([\w.-]+\+)?json$/.test(mediaType))
      return errorResponse(c, 415, "unsupported_media_type", "body must be application/json");
    return next();
  };
}

function adminAccess(ctx: ApiContext): MiddlewareHandler<ApiEnv> {
  return async function queuesDashboardAccess(c, next) {
    const refused = await refuseUnless(c, ctx.authorize, { verb: "get", resource: "queues" });
    if (refused) return refused;
    return next();
  };
}
