import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { ApiEnv } from "./auth/identity.ts";
import { ErrorSchema, errorResponses } from "./schemas.ts";
import { UnsealRequestSchema } from "./unseal-route.ts";

/** Which optional routes app.ts mounts, so the document lists exactly what is served. */
export interface PlatformRoutes {
  readonly admission: boolean;
  readonly unseal: boolean;
  readonly adminQueues: boolean;
}

const json = (schema: z.ZodType, description: string) => ({ description, content: { "application/json": { schema } } });
const text = (type: string, description: string) => ({ description, content: { [type]: { schema: z.string() } } });
const anyJson = z.object({}).passthrough();
const noAuth: Array<Record<string, string[]>> = [];

const UnsealAccepted = z
  .object({ accepted: z.boolean(), jobs: z.array(z.object({ replica: z.string(), jobId: z.string() })) })
  .openapi("UnsealAccepted");

/**
 * OpenAPI descriptions of the routes app.ts serves outside the OpenAPI-typed API (health,
 * metrics, CloudEvents, admission, unseal, the dashboard, the document itself), so /openapi.json
 * and /docs list every route (test/functions/http/openapi-routes.test.ts enumerates them).
 */
export function registerPlatformDocs(app: OpenAPIHono<ApiEnv>, mounted: PlatformRoutes): void {
  const add = (route: Parameters<typeof createRoute>[0]) => app.openAPIRegistry.registerPath(createRoute(route));
  add({
    method: "get",
    path: "/healthz",
    summary: "Liveness: the process answers",
    security: noAuth,
    responses: { 200: json(z.object({ status: z.literal("ok") }), "Alive") },
  });
  add({
    method: "get",
    path: "/readyz",
    summary: "Readiness: Redis, Kubernetes and (watch role) the pod watch are synced",
    security: noAuth,
    responses: { 200: json(anyJson, "Ready, with each check"), 503: json(anyJson, "Not ready, with each check") },
  });
  add({
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics (closed label sets, never a secret)",
    security: noAuth,
    responses: { 200: text("text/plain", "Prometheus text format") },
  });
  add({
    method: "get",
    path: "/openapi.json",
    summary: "This document (OpenAPI 3.1)",
    security: noAuth,
    responses: { 200: json(anyJson, "The OpenAPI document") },
  });
  add({
    method: "get",
    path: "/docs",
    summary: "This document as a readable page",
    security: noAuth,
    responses: { 200: text("text/html", "HTML") },
  });
  add({
    method: "post",
    path: "/v1/events/kubernetes",
    summary:
      "Pod events as CloudEvents 1.0 (Knative ApiServerSource): binary or structured mode, Resource or Reference mode",
    description:
      "Auth (LEASEKEEPER_EVENTS_AUTH=kubernetes, default): a bearer token that passes TokenReview for LEASEKEEPER_EVENTS_AUDIENCE and may create podevents.leasekeeper.io, or an API token; =none: unauthenticated (trusted networks only). Body ≤ 1 MiB.",
    request: {
      body: {
        required: true,
        content: { "application/cloudevents+json": { schema: anyJson }, "application/json": { schema: anyJson } },
      },
    },
    responses: {
      200: json(anyJson, "Routed: what the event led to (issue, revoke, ignored and why)"),
      400: json(ErrorSchema, "Not a valid CloudEvent or pod"),
      401: json(ErrorSchema, "No or invalid credentials"),
      403: json(ErrorSchema, "May not create podevents.leasekeeper.io"),
      413: json(ErrorSchema, "Body too large"),
      503: json(ErrorSchema, "Redis or Kubernetes unreachable (the sender retries)"),
    },
  });
  if (mounted.admission) {
    add({
      method: "post",
      path: "/v1/admission/pods",
      summary:
        "Mutating admission webhook for pods (AdmissionReview v1): adds the per-pod Secret volume at /vault/secrets",
      description:
        "Called by the API server (MutatingWebhookConfiguration, TLS on LEASEKEEPER_HTTPS_PORT); honours vault.hashicorp.com/* annotations when LEASEKEEPER_VAULT_ANNOTATIONS=true.",
      security: noAuth,
      request: { body: { required: true, content: { "application/json": { schema: anyJson } } } },
      responses: {
        200: json(anyJson, "AdmissionReview with the response (a JSON patch, or a refusal)"),
        400: json(ErrorSchema, "Not an AdmissionReview"),
      },
    });
  }
  if (mounted.unseal) {
    add({
      method: "post",
      path: "/v1/unseal",
      summary: "Run an unseal pass now (every Vault replica, or the ones named)",
      description:
        "RBAC: create unseals.leasekeeper.io cluster-wide; audited. One job per replica: follow GET /v1/jobs/{id}; the id shows that replica's latest pass.",
      request: { body: { required: false, content: { "application/json": { schema: UnsealRequestSchema } } } },
      responses: {
        202: json(UnsealAccepted, "Enqueued"),
        404: json(ErrorSchema, "No (named) Vault replica found"),
        ...errorResponses,
      },
    });
  }
  if (mounted.adminQueues) {
    add({
      method: "get",
      path: "/admin/queues",
      summary: "The BullMQ dashboard (bull-board, read-only)",
      description:
        "RBAC: get queues.leasekeeper.io cluster-wide. A bearer token, or the browser session cookie that GET /admin/login sets.",
      responses: {
        200: text("text/html", "The dashboard"),
        401: json(ErrorSchema, "No or invalid credentials"),
        403: json(ErrorSchema, "RBAC does not allow it"),
      },
    });
    add({
      method: "get",
      path: "/admin/queues/{path}",
      summary: "The dashboard's own files and read-only JSON API (bull-board)",
      request: { params: z.object({ path: z.string() }) },
      responses: {
        200: json(anyJson, "A dashboard file or answer"),
        401: json(ErrorSchema, "No or invalid credentials"),
        403: json(ErrorSchema, "RBAC does not allow it"),
      },
    });
    for (const method of ["put", "post", "patch"] as const) {
      add({
        method,
        path: "/admin/queues/{path}",
        summary: "bull-board's actions (retry, clean, pause, …): refused, the dashboard is read-only",
        request: { params: z.object({ path: z.string() }) },
        responses: { 405: json(ErrorSchema, "Read-only") },
      });
    }
  }
}
