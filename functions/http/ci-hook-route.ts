import { bodyLimit } from "hono/body-limit";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { parseCiKeys, type CiKey } from "../../shared/config/ci-keys.ts";
import { messageOf } from "../../shared/errors/errors.ts";
import { ScopeSchema } from "../../shared/scopes/scope.ts";
import type { ApiContext } from "./api-deps.ts";
import { refuseUnless } from "./auth/authorize.ts";
import { auditCall } from "./audit-call.ts";
import { CI_HEADERS, checkSignature } from "./auth/hmac.ts";
import type { ApiEnv } from "./auth/identity.ts";
import { errorResponse } from "./errors.ts";
import { rateLimit } from "./rate-limit.ts";
import { runOperation } from "./operation-route.ts";
import { ErrorSchema, errorResponses, issuesText } from "./schemas.ts";
import { enqueueUnseal, unsealResponse, type UnsealEnqueued } from "./unseal-route.ts";

export const CiBodySchema = z
  .discriminatedUnion("action", [
    z
      .object({
        action: z.literal("rotate"),
        scope: ScopeSchema,
        reason: z.string().trim().min(1).max(200).default("CI rotation"),
        dryRun: z.boolean().default(false),
      })
      .strict(),
    z
      .object({
        action: z.literal("revoke"),
        scope: ScopeSchema,
        reason: z.string().trim().min(1).max(200).default("CI revocation"),
        dryRun: z.boolean().default(false),
      })
      .strict(),
    z
      .object({
        action: z.literal("unseal"),
        replicas: z.array(z.string().min(1).max(300)).max(100).optional(),
        reason: z.string().trim().max(200).optional(),
      })
      .strict(),
  ])
  .openapi("CiAction");

const MAX_BODY = 64 * 1024;

/**
 * POST /v1/hooks/ci: HMAC-signed CI actions. Order: signature over delivery id, timestamp and body
 * and the timestamp window (constant time), then the delivery id is claimed in Redis (a replay is
 * refused with 409 and the first delivery's job id), then the action, authorized against the
 * signing key's scope (verbs and namespaces). Idempotent per delivery id (the job id is ci-<delivery>).
 */
export function registerCiHook(app: OpenAPIHono<ApiEnv>, ctx: ApiContext): void {
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "post",
      path: "/v1/hooks/ci",
      summary: "HMAC-signed CI action: rotate, revoke or unseal",
      description: `Headers: ${CI_HEADERS.delivery} (unique id), ${CI_HEADERS.timestamp} (unix seconds, ±300 s), ${CI_HEADERS.signature}: sha256=hex(HMAC-SHA256(secret, delivery + "." + timestamp + "." + raw body)). The signing key's scope limits verbs and namespaces (403 otherwise).`,
      request: {
        body: { required: true, content: { "application/json": { schema: CiBodySchema } } },
        query: z.object({
          wait: z.coerce.number().int().min(0).max(60).optional().openapi({
            description: "rotate/revoke: seconds to wait for the job to finish (not signed: it changes nothing)",
          }),
        }),
      },
      responses: {
        200: {
          description: "Dry run, nothing matched, or the job finished within ?wait",
          content: { "application/json": { schema: z.object({}).passthrough() } },
        },
        202: { description: "Enqueued", content: { "application/json": { schema: z.object({}).passthrough() } } },
        404: {
          description: "Unseal: no Vault replica matches (no_replicas), or unseal or the hook is off",
          content: { "application/json": { schema: ErrorSchema } },
        },
        409: {
          description: "Delivery id already used (replay)",
          content: { "application/json": { schema: ErrorSchema } },
        },
        ...errorResponses,
      },
    }),
  );
  if (ctx.ciSecrets.length === 0) {
    app.post("/v1/hooks/ci", (c) =>
      errorResponse(c, 404, "not_configured", "the CI hook is off (no LEASEKEEPER_CI_HMAC_SECRETS)"),
    );
    return;
  }
  let keys: CiKey[];
  try {
    keys = parseCiKeys(ctx.ciSecrets);
  } catch (err) {
    // Node refuses such a configuration at start-up (config.ts); a Worker's bindings are only read here.
    const message = `the CI hook is off: LEASEKEEPER_CI_HMAC_SECRETS ${messageOf(err)}`;
    ctx.log.error({}, message);
    app.post("/v1/hooks/ci", (c) => errorResponse(c, 503, "misconfigured", message));
    return;
  }
  const secrets = keys.map((k) => k.secret);
  const verify: MiddlewareHandler<ApiEnv> = async function ciSignature(c, next) {
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (raw.length > MAX_BODY) return errorResponse(c, 413, "payload_too_large", "body is larger than 64 KiB");
    const check = checkSignature(c.req.raw.headers, raw, { secrets });
    if (!check.ok) return errorResponse(c, check.status, check.code, check.message);
    const key = keys[check.keyIndex] as CiKey;
    c.set("identity", { kind: "ci-hmac", name: key.name, scope: key.scope });
    return next();
  };
  // The body is bounded before it is read for the signature (chunked bodies included).
  const size = bodyLimit({
    maxSize: MAX_BODY,
    onError: (c) => errorResponse(c, 413, "payload_too_large", `the CI hook body is larger than ${MAX_BODY} bytes`),
  });
  app.post(
    "/v1/hooks/ci",
    size,
    verify,
    rateLimit({ limit: ctx.rateLimitPerMinute, windowMs: 60_000, counter: ctx.rateCounter }),
    async (c) => {
      const delivery = c.req.header(CI_HEADERS.delivery) ?? "";
      const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
      if (mediaType !== "application/json")
        return errorResponse(c, 415, "unsupported_media_type", "body must be application/json");
      let raw: unknown;
      try {
        raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(await c.req.arrayBuffer()));
      } catch {
        return errorResponse(c, 400, "invalid_body", "body is not JSON");
      }
      const parsed = CiBodySchema.safeParse(raw);
      if (!parsed.success) return errorResponse(c, 400, "invalid_body", issuesText(parsed.error));
      const body = parsed.data;
      let first: boolean;
      try {
        first = await ctx.replay.claim(delivery, `ci-${delivery}`);
      } catch (err) {
        return errorResponse(c, 503, "unavailable", `cannot reach Redis: ${messageOf(err)}`);
      }
      if (!first) {
        await auditCall(c, ctx.audit, { action: body.action, result: "replay-refused", status: 409, delivery });
        return errorResponse(
          c,
          409,
          "replayed_delivery",
          `delivery ${delivery} was already received (job ci-${delivery})`,
        );
      }
      let response: Response;
      try {
        if (body.action === "unseal") response = await unseal(c, ctx, delivery, body);
        else
          response = await runOperation(c, ctx, {
            action: body.action,
            scope: body.scope,
            reason: body.reason,
            dryRun: body.dryRun,
            wait: waitSeconds(c.req.query("wait")),
            delivery,
          });
      } catch (err) {
        await ctx.replay.release(delivery);
        throw err;
      }
      // Nothing was done (refused, unavailable, dry run): the same delivery may be sent again. A job
      // was enqueued when the answer names it (202, or 200 after ?wait with Location set).
      if (response.status !== 202 && !response.headers.has("location")) await ctx.replay.release(delivery);
      return response;
    },
  );
}

const UNSEAL_AUDIT_RESULT: Record<UnsealEnqueued["kind"], string> = {
  accepted: "accepted",
  "no-replica": "nothing-matched",
  unavailable: "failed",
};

async function unseal(
  c: Context<ApiEnv>,
  ctx: ApiContext,
  delivery: string,
  body: { replicas?: string[] | undefined; reason?: string | undefined },
): Promise<Response> {
  const record = (result: string, status: number, jobId?: string) =>
    auditCall(c, ctx.audit, { action: "unseal", result, status, delivery, reason: body.reason || undefined, jobId });
  const refused = await refuseUnless(c, ctx.authorize, { verb: "create", resource: "unseals" });
  if (refused) {
    await record("refused", refused.status);
    return refused;
  }
  if (!ctx.unseal) {
    await record("refused", 404);
    return errorResponse(c, 404, "not_configured", "unseal is off (LEASEKEEPER_UNSEAL)");
  }
  const result = await enqueueUnseal(ctx.unseal, body.replicas, "ci");
  const response = unsealResponse(c, result);
  await record(
    UNSEAL_AUDIT_RESULT[result.kind],
    response.status,
    result.kind === "accepted" ? result.jobs.map((j) => j.jobId).join(",") : undefined,
  );
  return response;
}

/** ?wait=<seconds> (0–60, like the on-call routes); anything else is ignored. */
function waitSeconds(raw: string | undefined): number | undefined {
  const n = Number(raw);
  return raw !== undefined && Number.isInteger(n) && n > 0 ? Math.min(n, 60) : undefined;
}
