import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { messageOf } from "../../shared/errors/errors.ts";
import type { AdminSessions } from "./admin-sessions.ts";
import type { ApiContext } from "./api-deps.ts";
import { refuseUnless } from "./auth/authorize.ts";
import type { ApiEnv } from "./auth/identity.ts";
import { errorResponse } from "./errors.ts";
import { ErrorSchema, errorResponses, handler } from "./schemas.ts";

/** The session cookie: HttpOnly, SameSite=Strict, only sent to /admin. */
export const ADMIN_COOKIE = "lk_admin";
const ADMIN_PATH = "/admin";

const linkRoute = createRoute({
  method: "post",
  path: "/admin/login-links",
  summary: "A one-time login link for the dashboard in a browser (`leasekeeper dashboard`)",
  description:
    "RBAC: get queues.leasekeeper.io cluster-wide. The link works once, within ticketSeconds (60 s); it sets an HttpOnly, SameSite=Strict cookie for /admin that lasts sessionSeconds (15 min). Audited.",
  responses: {
    200: {
      description: "The link (append `path` to the server URL)",
      content: {
        "application/json": {
          schema: z
            .object({ path: z.string(), expiresAt: z.string(), sessionSeconds: z.number() })
            .openapi("DashboardLoginLink"),
        },
      },
    },
    ...errorResponses,
  },
});

const loginRoute = createRoute({
  method: "get",
  path: "/admin/login",
  summary: "Redeems a login link: sets the dashboard session cookie and opens /admin/queues",
  security: [],
  request: { query: z.object({ ticket: z.string().min(1).max(200) }) },
  responses: {
    200: {
      description: "Session cookie set; the page moves on to /admin/queues",
      content: { "text/html": { schema: z.string() } },
    },
    401: { description: "Unknown, used or expired link", content: { "application/json": { schema: ErrorSchema } } },
    503: { description: "Redis unreachable", content: { "application/json": { schema: ErrorSchema } } },
  },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/admin/logout",
  summary: "Ends the dashboard session of this browser",
  security: [],
  responses: { 204: { description: "Session ended, cookie cleared" } },
});

/**
 * POST /admin/login-links (bearer: mints a ticket), GET /admin/login?ticket= (the browser redeems
 * it for a session cookie), POST /admin/logout. The dashboard stays read-only and authorized:
 * a session acts as the identity that minted it, checked against RBAC on every request.
 */
export function registerAdminLogin(
  app: OpenAPIHono<ApiEnv>,
  ctx: ApiContext,
  sessions: AdminSessions,
  bearer: readonly MiddlewareHandler<ApiEnv>[],
): void {
  app.use(linkRoute.path, ...bearer);
  app.openapi(
    linkRoute,
    handler(linkRoute, async (c) => {
      const identity = c.get("identity");
      const refused = await refuseUnless(c, ctx.authorize, { verb: "get", resource: "queues" });
      const audit = (result: string, status: number) =>
        ctx.audit.record({
          at: new Date().toISOString(),
          requestId: c.get("requestId"),
          actor: { kind: identity.kind, name: identity.name },
          action: "dashboard-login-link",
          dryRun: false,
          result,
          status,
        });
      if (refused) {
        await audit("refused", refused.status);
        return refused;
      }
      let minted;
      try {
        minted = await sessions.mintTicket(identity);
      } catch (err) {
        return errorResponse(c, 503, "unavailable", `cannot reach Redis: ${messageOf(err)}`);
      }
      await audit("accepted", 200);
      c.header("Cache-Control", "no-store");
      return c.json(
        {
          path: `${ADMIN_PATH}/login?ticket=${minted.ticket}`,
          expiresAt: minted.expiresAt.toISOString(),
          sessionSeconds: sessions.settings.sessionSeconds,
        },
        200,
      );
    }),
  );

  app.openapi(
    loginRoute,
    handler(loginRoute, async (c) => {
      const { ticket } = c.req.valid("query");
      let session: string | undefined;
      try {
        session = await sessions.redeem(ticket);
      } catch (err) {
        return errorResponse(c, 503, "unavailable", `cannot reach Redis: ${messageOf(err)}`);
      }
      c.header("Cache-Control", "no-store");
      c.header("Referrer-Policy", "no-referrer");
      if (!session)
        return errorResponse(
          c,
          401,
          "invalid_ticket",
          "this login link is unknown, used or expired: get a new one with `leasekeeper dashboard`",
        );
      setCookie(c, ADMIN_COOKIE, session, {
        path: ADMIN_PATH,
        httpOnly: true,
        sameSite: "Strict",
        secure: isHttps(c.req.url, c.req.header("x-forwarded-proto")),
        maxAge: sessions.settings.sessionSeconds,
      });
      // A same-origin page moves on (not a redirect): a SameSite=Strict cookie is then sent even when the link was opened from another site.
      return c.html(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${ADMIN_PATH}/queues"><title>leasekeeper</title></head>
<body><p>Signed in for ${Math.round(sessions.settings.sessionSeconds / 60)} minutes. <a href="${ADMIN_PATH}/queues">Open the queue dashboard</a>.</p></body></html>`,
        200,
      );
    }),
  );

  app.openapi(
    logoutRoute,
    handler(logoutRoute, async (c) => {
      const session = getCookie(c, ADMIN_COOKIE);
      if (session) await sessions.end(session).catch(() => undefined);
      deleteCookie(c, ADMIN_COOKIE, { path: ADMIN_PATH });
      return c.body(null, 204);
    }),
  );
}

/**
 * The dashboard's authentication: a bearer token (curl) as everywhere, or the session cookie of
 * a redeemed login link (a browser). Only GET and HEAD pass: the dashboard is read-only here
 * whatever bull-board would allow, which also leaves a cookie nothing to forge a change with.
 */
export function dashboardAuth(
  sessions: AdminSessions,
  bearerAuth: MiddlewareHandler<ApiEnv>,
): MiddlewareHandler<ApiEnv> {
  return async function dashboardSessionOrBearer(c, next) {
    if (c.req.method !== "GET" && c.req.method !== "HEAD")
      return errorResponse(c, 405, "read_only", "the queue dashboard is read-only");
    if (c.req.header("authorization") !== undefined) return bearerAuth(c, next);
    const session = getCookie(c, ADMIN_COOKIE);
    if (session) {
      let identity;
      try {
        identity = await sessions.identity(session);
      } catch (err) {
        return errorResponse(c, 503, "unavailable", `cannot reach Redis: ${messageOf(err)}`);
      }
      if (identity) {
        c.set("identity", identity);
        return next();
      }
      deleteCookie(c, ADMIN_COOKIE, { path: ADMIN_PATH });
    }
    c.header("WWW-Authenticate", 'Bearer realm="leasekeeper"');
    return errorResponse(
      c,
      401,
      "unauthenticated",
      "a bearer token is required, or a browser session: open the link `leasekeeper dashboard` prints",
    );
  };
}

function isHttps(url: string, forwardedProto: string | undefined): boolean {
  return new URL(url).protocol === "https:" || forwardedProto?.split(",")[0]?.trim() === "https";
}
