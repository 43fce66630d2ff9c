import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "@hono/zod-openapi";
import { messageOf } from "../../shared/errors/errors.ts";
import type { UnsealJob } from "../../shared/jobs/job-types.ts";
import type { ReplicaDiscovery } from "../../shared/unseal/replica-discovery.ts";
import { replicaName } from "../../shared/unseal/replicas.ts";
import { errorResponse } from "./errors.ts";

export interface UnsealRouteDeps {
  readonly discovery: ReplicaDiscovery;
  readonly enqueue: (job: UnsealJob) => Promise<string>;
}

/** The body of POST /v1/unseal (also its OpenAPI schema, platform-docs.ts). */
export const UnsealRequestSchema = z
  .object({
    replicas: z
      .array(z.string().min(1).max(300))
      .max(100)
      .optional()
      .openapi({ description: 'only these replicas ("namespace/pod" or "host:port"); default: all' }),
    source: z.enum(["api", "ci"]).default("api"),
  })
  .strict()
  .openapi("UnsealRequest");

/** POST /v1/unseal: enqueue an unseal pass now (the same producer as the watch and the sweep). */
export function unsealRoute(deps: UnsealRouteDeps): Hono {
  const app = new Hono();
  app.post(
    "/",
    bodyLimit({
      maxSize: 16 * 1024,
      onError: (c) => errorResponse(c, 413, "payload_too_large", "body is larger than 16 KiB"),
    }),
    async (c) => {
      const text = await c.req.text();
      let raw: unknown = {};
      if (text.trim() !== "") {
        try {
          raw = JSON.parse(text);
        } catch {
          return errorResponse(c, 400, "invalid_body", "body is not JSON");
        }
      }
      const parsed = UnsealRequestSchema.safeParse(raw);
      if (!parsed.success)
        return errorResponse(
          c,
          400,
          "invalid_body",
          parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
        );
      return unsealResponse(c, await enqueueUnseal(deps, parsed.data.replicas, parsed.data.source));
    },
  );
  return app;
}

export type UnsealEnqueued =
  | { readonly kind: "accepted"; readonly jobs: readonly { readonly replica: string; readonly jobId: string }[] }
  | { readonly kind: "no-replica"; readonly message: string }
  | { readonly kind: "unavailable"; readonly message: string };

/**
 * An unseal request from any caller (POST /v1/unseal, the CI hook): lists the Vault replicas,
 * keeps the named ones (every one when none is named) and enqueues one unseal job for each.
 */
export async function enqueueUnseal(
  deps: UnsealRouteDeps,
  wanted: readonly string[] | undefined,
  source: UnsealJob["source"],
): Promise<UnsealEnqueued> {
  let replicas;
  try {
    replicas = await deps.discovery.list();
  } catch (err) {
    return { kind: "unavailable", message: `could not list vault replicas: ${messageOf(err)}` };
  }
  const chosen = wanted ? replicas.filter((r) => wanted.includes(replicaName(r))) : replicas;
  if (chosen.length === 0) {
    const known =
      replicas.length === 0
        ? "none found"
        : replicas.slice(0, 10).map(replicaName).join(", ") + (replicas.length > 10 ? ", …" : "");
    return {
      kind: "no-replica",
      message: wanted ? `no Vault replica matches ${wanted.join(", ")} (known: ${known})` : "no vault replicas found",
    };
  }
  const requestedAt = Date.now();
  const jobs: { replica: string; jobId: string }[] = [];
  try {
    for (const replica of chosen)
      jobs.push({ replica: replicaName(replica), jobId: await deps.enqueue({ replica, source, requestedAt }) });
  } catch (err) {
    return { kind: "unavailable", message: `could not enqueue: ${messageOf(err)}` };
  }
  return { kind: "accepted", jobs };
}

/** The one HTTP answer to an unseal request: 202 with the jobs, 404 no_replicas naming what was asked for, 503 unavailable. */
export function unsealResponse(c: Context, result: UnsealEnqueued): Response {
  if (result.kind === "accepted") return c.json({ accepted: true, jobs: result.jobs }, 202);
  if (result.kind === "no-replica") return errorResponse(c, 404, "no_replicas", result.message);
  return errorResponse(c, 503, "unavailable", result.message);
}
