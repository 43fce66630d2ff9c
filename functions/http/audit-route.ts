import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { messageOf } from "../../shared/errors/errors.ts";
import type { ApiContext } from "./api-deps.ts";
import { refuseUnless } from "./auth/authorize.ts";
import type { ApiEnv } from "./auth/identity.ts";
import { errorResponse } from "./errors.ts";
import { errorResponses, handler } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/v1/audit",
  summary: "The audit trail of state-changing calls, newest first",
  description: "RBAC: list auditrecords.leasekeeper.io cluster-wide.",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      before: z.string().regex(/^\d+-\d+$/).optional().openapi({ description: "stream id to page back from" }),
    }),
  },
  responses: {
    200: { description: "Records", content: { "application/json": { schema: z.object({ records: z.array(z.object({}).passthrough()) }) } } },
    ...errorResponses,
  },
});

/** GET /v1/audit. */
export function registerAuditRoute(app: OpenAPIHono<ApiEnv>, ctx: ApiContext): void {
  app.openapi(route, handler(route, async (c) => {
    const refused = await refuseUnless(c, ctx.authorize, { verb: "list", resource: "auditrecords" });
    if (refused) return refused;
    const q = c.req.valid("query");
    try {
      return c.json({ records: await ctx.audit.read({ limit: q.limit, before: q.before }) }, 200);
    } catch (err) {
      return errorResponse(c, 503, "unavailable", `cannot read the audit stream: ${messageOf(err)}`);
    }
  }));
}
