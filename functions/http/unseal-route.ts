import { Hono } from "hono";
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
    replicas: z.array(z.string().min(1).max(300)).max(100).optional().openapi({ description: 'only these replicas ("namespace/pod" or "host:port"); default: all' }),
    source: z.enum(["api", "ci"]).default("api"),
  })
  .strict()
  .openapi("UnsealRequest");

/** POST /v1/unseal: enqueue an unseal pass now (the same producer as the watch and the sweep). */
export function unsealRoute(deps: UnsealRouteDeps): Hono {
  const app = new Hono();
  app.post(
    "/",
    bodyLimit({ maxSize: 16 * 1024, onError: (c) => errorResponse(c, 413, "payload_too_large", "body is larger than 16 KiB") }),
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
      if (!parsed.success) return errorResponse(c, 400, "invalid_body", parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
      let replicas;
      try {
        replicas = await deps.discovery.list();
      } catch (err) {
        return errorResponse(c, 503, "unavailable", `could not list vault replicas: ${messageOf(err)}`);
      }
      const wanted = parsed.data.replicas;
      const chosen = wanted ? replicas.filter((r) => wanted.includes(replicaName(r))) : replicas;
      if (chosen.length === 0) return errorResponse(c, 404, "no_replicas", wanted ? "none of the named replicas were found" : "no vault replicas found");
      const requestedAt = Date.now();
      const jobs: { replica: string; jobId: string }[] = [];
      try {
        for (const replica of chosen) jobs.push({ replica: replicaName(replica), jobId: await deps.enqueue({ replica, source: parsed.data.source, requestedAt }) });
      } catch (err) {
        return errorResponse(c, 503, "unavailable", `could not enqueue: ${messageOf(err)}`);
      }
      return c.json({ accepted: true, jobs }, 202);
    },
  );
  return app;
}
