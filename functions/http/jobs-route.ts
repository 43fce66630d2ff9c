import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { messageOf } from "../../shared/errors/errors.ts";
import type { ApiContext } from "./api-deps.ts";
import { refuseUnless } from "./auth/authorize.ts";
import type { ApiEnv } from "./auth/identity.ts";
import { errorResponse } from "./errors.ts";
import { findJob, waitForJob } from "./job-status.ts";
import { ErrorSchema, JobSchema, errorResponses, handler } from "./schemas.ts";

const route = createRoute({
  method: "get",
  path: "/v1/jobs/{id}",
  summary: "Progress and result of a job (operation, revoke, unseal, ...)",
  description: "RBAC: get jobs.leasekeeper.io in the namespace the job acts in (cluster-wide when it spans several).",
  request: {
    params: z.object({
      id: z
        .string()
        .min(1)
        .max(300)
        .regex(/^[A-Za-z0-9._:{}-]+$/),
    }),
    query: z.object({ wait: z.coerce.number().int().min(0).max(60).optional() }),
  },
  responses: {
    200: { description: "The job", content: { "application/json": { schema: JobSchema } } },
    404: { description: "No such job (or already removed)", content: { "application/json": { schema: ErrorSchema } } },
    ...errorResponses,
  },
});

/** GET /v1/jobs/:id[?wait=seconds]. */
export function registerJobsRoute(app: OpenAPIHono<ApiEnv>, ctx: ApiContext): void {
  app.openapi(
    route,
    handler(route, async (c) => {
      const { id } = c.req.valid("param");
      const { wait } = c.req.valid("query");
      let job;
      try {
        job = await findJob(ctx.producer.queues, id);
      } catch (err) {
        return errorResponse(c, 503, "unavailable", `cannot reach Redis: ${messageOf(err)}`);
      }
      // Authorize before saying anything about the job, even whether it exists.
      const refused = await refuseUnless(c, ctx.authorize, {
        verb: "get",
        resource: "jobs",
        namespaces: job && job.namespaces.length === 1 ? job.namespaces : [],
      });
      if (refused) return refused;
      if (!job) return errorResponse(c, 404, "not_found", `no job ${id}`);
      if (wait) job = (await waitForJob(ctx.producer.queues, id, wait)) ?? job;
      const { namespaces: _, ...shown } = job;
      return c.json(shown, 200);
    }),
  );
}
