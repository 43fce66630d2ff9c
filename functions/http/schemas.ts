import { z, type RouteConfig, type RouteHandler } from "@hono/zod-openapi";
import type { ApiEnv } from "./auth/identity.ts";

/**
 * Lets a route handler return our one error shape (a plain Response) besides its typed
 * success answers; the OpenAPI document still declares every status.
 */
export function handler<R extends RouteConfig>(
  _route: R,
  fn: (c: Parameters<RouteHandler<R, ApiEnv>>[0]) => Promise<Response>,
): RouteHandler<R, ApiEnv> {
  return fn as unknown as RouteHandler<R, ApiEnv>;
}

export const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).openapi("Error");

export const errorResponses = {
  400: { description: "Invalid input", content: { "application/json": { schema: ErrorSchema } } },
  401: { description: "No or invalid credentials", content: { "application/json": { schema: ErrorSchema } } },
  403: { description: "RBAC does not allow it", content: { "application/json": { schema: ErrorSchema } } },
  413: { description: "Body too large", content: { "application/json": { schema: ErrorSchema } } },
  415: { description: "Body is not application/json", content: { "application/json": { schema: ErrorSchema } } },
  429: { description: "Rate limited (per identity)", content: { "application/json": { schema: ErrorSchema } } },
  503: { description: "Redis or Kubernetes unreachable", content: { "application/json": { schema: ErrorSchema } } },
} as const;

export const TargetSchema = z
  .object({
    uid: z.string(),
    namespace: z.string(),
    name: z.string(),
    role: z.string(),
    state: z.string(),
    tokenExpiresAt: z.string(),
    leases: z.array(z.object({ id: z.string(), path: z.string(), file: z.string(), expiresAt: z.string() })),
    onlyLeases: z.array(z.string()).optional(),
  })
  .openapi("Target");

export const JobSchema = z
  .object({
    id: z.string(),
    queue: z.string(),
    name: z.string(),
    state: z.string(),
    progress: z.unknown(),
    result: z.unknown(),
    failedReason: z.string().optional(),
    attemptsMade: z.number(),
    createdAt: z.string(),
    finishedAt: z.string().optional(),
  })
  .openapi("Job");

/** A JSON body as a zod issue list in one line. */
export function issuesText(error: {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}): string {
  return error.issues
    .slice(0, 10)
    .map((i) => `${i.path.map(String).join(".") || "body"}: ${i.message}`)
    .join("; ");
}
