import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { messageOf } from "../../shared/errors/errors.ts";
import type { ApiContext } from "./api-deps.ts";
import { refuseUnless } from "./auth/authorize.ts";
import type { ApiEnv } from "./auth/identity.ts";
import { errorResponse } from "./errors.ts";
import { errorResponses, handler } from "./schemas.ts";

const streamId = z.string().regex(/^\d+-\d+$/);

const route = createRoute({
  method: "get",
  path: "/v1/audit",
  summary: "The audit trail of state-changing calls: newest first, or oldest first after a given record (to follow it)",
  description:
    "RBAC: list auditrecords.leasekeeper.io cluster-wide. Filters: actor (part of the name), action (exact), since (time). At most 5000 records are scanned per call: `cursor` says where to go on (as `before`, or as `after` when following).",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      before: streamId.optional().openapi({ description: "record id to page back from (exclusive)" }),
      after: streamId
        .optional()
        .openapi({ description: "record id to follow from (exclusive): the answer is oldest first" }),
      since: z
        .string()
        .datetime({ offset: true })
        .optional()
        .openapi({ description: "only records at or after this time (RFC 3339)" }),
      actor: z
        .string()
        .min(1)
        .max(300)
        .optional()
        .openapi({ description: "only records whose actor name contains this" }),
      action: z
        .string()
        .min(1)
        .max(100)
        .optional()
        .openapi({ description: "only this action (revoke, rotate, unseal, dashboard-login-link, …)" }),
    }),
  },
  responses: {
    200: {
      description: "Records",
      content: {
        "application/json": {
          schema: z.object({ records: z.array(z.object({}).passthrough()), cursor: z.string().optional() }),
        },
      },
    },
    ...errorResponses,
  },
});

/** GET /v1/audit. */
export function registerAuditRoute(app: OpenAPIHono<ApiEnv>, ctx: ApiContext): void {
  app.openapi(
    route,
    handler(route, async (c) => {
      const refused = await refuseUnless(c, ctx.authorize, { verb: "list", resource: "auditrecords" });
      if (refused) return refused;
      const q = c.req.valid("query");
      if (q.before !== undefined && q.after !== undefined)
        return errorResponse(c, 400, "invalid_request", "give before or after, not both");
      try {
        const found = await ctx.audit.query({
          limit: q.limit,
          before: q.before,
          after: q.after,
          sinceMs: q.since === undefined ? undefined : Date.parse(q.since),
          actor: q.actor,
          action: q.action,
        });
        return c.json(found, 200);
      } catch (err) {
        return errorResponse(c, 503, "unavailable", `cannot read the audit stream: ${messageOf(err)}`);
      }
    }),
  );
}
