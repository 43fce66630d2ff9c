import { randomUUID } from "node:crypto";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { messageOf } from "../../shared/errors/errors.ts";
import { jobId, type OperationJob } from "../../shared/jobs/job-types.ts";
import { resolveScope, type ResolvedTarget } from "../../shared/scopes/resolve.ts";
import { ScopeSchema, scopeNamespace, type Scope } from "../../shared/scopes/scope.ts";
import type { ApiContext } from "./api-deps.ts";
import { auditCall } from "./audit-call.ts";
import { refuseUnless } from "./auth/authorize.ts";
import type { ApiEnv } from "./auth/identity.ts";
import { errorResponse } from "./errors.ts";
import { waitForJob } from "./job-status.ts";
import { JobSchema, TargetSchema, errorResponses, handler } from "./schemas.ts";

export const OperationBodySchema = z
  .object({
    scope: ScopeSchema,
    reason: z.string().trim().min(1).max(200),
    dryRun: z.boolean().default(false),
  })
  .strict()
  .openapi("OperationRequest");

const WaitQuery = z.object({
  wait: z.coerce
    .number()
    .int()
    .min(0)
    .max(60)
    .optional()
    .openapi({ description: "seconds to wait for the job to finish" }),
});

const OperationResult = z
  .object({
    dryRun: z.boolean(),
    matched: z.number(),
    targets: z.array(TargetSchema),
    jobId: z.string().nullable(),
    job: JobSchema.optional(),
  })
  .openapi("OperationResult");

type Action = "revoke" | "rotate";
const RESOURCE: Record<Action, string> = { revoke: "revocations", rotate: "rotations" };

/** POST /v1/revoke and /v1/rotate for on-call: resolve the scope, dry-run or enqueue one operation job. */
export function registerOperationRoutes(app: OpenAPIHono<ApiEnv>, ctx: ApiContext): void {
  for (const action of ["revoke", "rotate"] as const) {
    const route = createRoute({
      method: "post",
      path: `/v1/${action}`,
      summary:
        action === "revoke"
          ? "Revoke credentials by lease, pod, workload, namespace or Vault path prefix"
          : "Rotate credentials (new ones now, old ones revoked after the grace)",
      description: `RBAC: create ${RESOURCE[action]}.leasekeeper.io in the scope's namespace (cluster-wide for lease, pod-uid and path-prefix scopes that span namespaces).`,
      request: {
        body: { required: true, content: { "application/json": { schema: OperationBodySchema } } },
        query: WaitQuery,
      },
      responses: {
        200: {
          description: "Dry run, nothing matched, or the job finished within ?wait",
          content: { "application/json": { schema: OperationResult } },
        },
        202: {
          description: "Enqueued; follow GET /v1/jobs/{id}",
          content: { "application/json": { schema: OperationResult } },
        },
        ...errorResponses,
      },
    });
    app.openapi(
      route,
      handler(route, async (c) => {
        const body = c.req.valid("json");
        const { wait } = c.req.valid("query");
        return runOperation(c, ctx, { action, scope: body.scope, reason: body.reason, dryRun: body.dryRun, wait });
      }),
    );
  }
}

/** One on-call or CI operation as asked for. */
export interface OperationRequest {
  readonly action: Action;
  readonly scope: Scope;
  readonly reason: string;
  readonly dryRun: boolean;
  /** Seconds to wait for the job to finish (on-call `?wait`). */
  readonly wait?: number | undefined;
  /** The CI delivery id: the job id becomes ci-<delivery> and the audit record names it. */
  readonly delivery?: string | undefined;
}

/** Shared by the on-call routes and the CI hook: authorize, resolve, audit, enqueue. */
export async function runOperation(c: Context<ApiEnv>, ctx: ApiContext, request: OperationRequest): Promise<Response> {
  const { action, scope, reason, dryRun, wait, delivery } = request;
  const identity = c.get("identity");
  const audit = (result: string, status: number, extra: { jobId?: string; matched?: number } = {}) =>
    auditCall(c, ctx.audit, {
      action,
      scope,
      reason,
      dryRun,
      result,
      status,
      ...extra,
      delivery: delivery || undefined,
    });
  const resource = RESOURCE[action];
  const named = scopeNamespace(scope);
  // Namespaced scopes are checked before anything is looked up; prefix scopes need cluster-wide rights.
  if (named !== undefined || scope.type === "path-prefix") {
    const refused = await refuseUnless(c, ctx.authorize, {
      verb: "create",
      resource,
      namespaces: named === undefined ? [] : [named],
    });
    if (refused) {
      await audit("refused", refused.status);
      return refused;
    }
  }
  let targets: ResolvedTarget[];
  try {
    targets = await resolveScope(ctx, scope);
  } catch (err) {
    await audit("failed", 503);
    return errorResponse(c, 503, "unavailable", `could not resolve the scope: ${messageOf(err)}`);
  }
  // Lease and pod-uid scopes name no namespace: they need the right in every namespace they reach,
  // and one that reaches nothing needs it cluster-wide, so the answer (200 "matched 0" or 403) never
  // tells a caller without rights whether the id exists.
  if (named === undefined && scope.type !== "path-prefix") {
    const refused = await refuseUnless(c, ctx.authorize, {
      verb: "create",
      resource,
      namespaces: targets.map((t) => t.namespace),
    });
    if (refused) {
      await audit("refused", refused.status);
      return refused;
    }
  }
  if (dryRun || targets.length === 0) {
    await audit(dryRun ? "dry-run" : "nothing-matched", 200, { matched: targets.length });
    return c.json({ dryRun, matched: targets.length, targets, jobId: null }, 200);
  }
  const job: OperationJob = {
    action,
    source: identity.kind === "ci-hmac" ? "ci" : "api",
    actor: identity.name,
    reason,
    targets: targets.map((t) => ({
      uid: t.uid,
      namespace: t.namespace,
      name: t.name,
      ...(t.onlyLeases ? { leases: [...t.onlyLeases] } : {}),
    })),
  };
  let id: string;
  try {
    id = await ctx.producer.operation(job, delivery ? jobId.ci(delivery) : jobId.operation(randomUUID()));
  } catch (err) {
    await audit("failed", 503, { matched: targets.length });
    return errorResponse(c, 503, "unavailable", `could not enqueue: ${messageOf(err)}`);
  }
  await audit("accepted", 202, { jobId: id, matched: targets.length });
  c.header("Location", `/v1/jobs/${id}`);
  if (wait) {
    const finished = await waitForJob(ctx.producer.queues, id, wait);
    if (finished && (finished.state === "completed" || finished.state === "failed")) {
      const { namespaces: _, ...shown } = finished;
      return c.json({ dryRun, matched: targets.length, targets, jobId: id, job: shown }, 200);
    }
  }
  return c.json({ dryRun, matched: targets.length, targets, jobId: id }, 202);
}
