import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { messageOf } from "../../shared/errors/errors.ts";
import { earliestExpiry, type PodRecord } from "../../shared/index/pod-record.ts";
import type { ApiContext } from "./api-deps.ts";
import { refuseUnless } from "./auth/authorize.ts";
import type { ApiEnv } from "./auth/identity.ts";
import { errorResponse } from "./errors.ts";
import { errorResponses, handler } from "./schemas.ts";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

const PodLeasesSchema = z
  .object({
    uid: z.string(),
    namespace: z.string(),
    name: z.string(),
    role: z.string(),
    serviceAccount: z.string(),
    secretName: z.string(),
    state: z.string(),
    tokenExpiresAt: z.string(),
    tokenRenewable: z.boolean(),
    earliestExpiry: z.string(),
    nextRenewAt: z.string().optional(),
    renewedAt: z.string().optional(),
    issuedAt: z.string(),
    rotations: z.number(),
    retiring: z.number(),
    leases: z.array(
      z.object({
        id: z.string(),
        path: z.string(),
        file: z.string(),
        expiresAt: z.string(),
        renewable: z.boolean(),
        ttlSeconds: z.number(),
      }),
    ),
  })
  .openapi("PodLeases");

const route = createRoute({
  method: "get",
  path: "/v1/leases",
  summary: "Pods and their leases with expiry and renewal state (never a secret value, token or accessor)",
  description: "RBAC: list leases.leasekeeper.io in ?namespace (cluster-wide without it).",
  request: {
    query: z.object({
      namespace: z.string().min(1).max(63).optional(),
      pod: z.string().min(1).max(317).optional().openapi({ description: "pod name, or namespace/name" }),
      role: z.string().min(1).max(200).optional(),
      expiringWithin: z.coerce
        .number()
        .int()
        .min(0)
        .max(365 * 24 * 3600)
        .optional()
        .openapi({ description: "seconds: only pods with something expiring that soon" }),
    }),
  },
  responses: {
    200: {
      description: "Matching pods (empty list when none)",
      content: { "application/json": { schema: z.object({ pods: z.array(PodLeasesSchema) }) } },
    },
    ...errorResponses,
  },
});

/** GET /v1/leases. */
export function registerLeasesRoute(app: OpenAPIHono<ApiEnv>, ctx: ApiContext): void {
  app.openapi(
    route,
    handler(route, async (c) => {
      const q = c.req.valid("query");
      let namespace = q.namespace;
      let podName = q.pod;
      if (podName?.includes("/")) [namespace, podName] = podName.split("/", 2) as [string, string];
      const refused = await refuseUnless(c, ctx.authorize, {
        verb: "list",
        resource: "leases",
        namespaces: namespace ? [namespace] : [],
      });
      if (refused) return refused;
      let records: PodRecord[];
      try {
        // Only the namespace's (or the one pod's) records when the query names them.
        records =
          namespace === undefined
            ? await ctx.index.all()
            : podName === undefined
              ? await ctx.index.inNamespace(namespace)
              : await ctx.index.byName(namespace, podName);
      } catch (err) {
        return errorResponse(c, 503, "unavailable", `cannot read the pod index: ${messageOf(err)}`);
      }
      const horizon = q.expiringWithin === undefined ? undefined : Date.now() + q.expiringWithin * 1000;
      const pods = records
        .filter(
          (r) =>
            (namespace === undefined || r.namespace === namespace) &&
            (podName === undefined || r.name === podName) &&
            (q.role === undefined || r.role === q.role),
        )
        .filter((r) => horizon === undefined || earliestExpiry(r) <= horizon)
        .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
        .map((r) => ({
          uid: r.uid,
          namespace: r.namespace,
          name: r.name,
          role: r.role,
          serviceAccount: r.serviceAccount,
          secretName: r.secretName,
          state: r.state,
          tokenExpiresAt: new Date(r.tokenExpiresAt).toISOString(),
          tokenRenewable: r.tokenRenewable,
          earliestExpiry: new Date(earliestExpiry(r)).toISOString(),
          nextRenewAt: iso(r.nextRenewAt),
          renewedAt: iso(r.renewedAt),
          issuedAt: new Date(r.issuedAt).toISOString(),
          rotations: r.rotations,
          retiring: r.retiring.length,
          leases: r.leases
            .filter((l) => l.id)
            .map((l) => ({
              id: l.id,
              path: l.path,
              file: l.file,
              expiresAt: new Date(l.expiresAt).toISOString(),
              renewable: l.renewable,
              ttlSeconds: l.ttlSeconds,
            })),
        }));
      return c.json({ pods }, 200);
    }),
  );
}
