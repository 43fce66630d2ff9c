import { Hono, type Context, type Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { messageOf } from "../../shared/errors/errors.ts";
import type { PodIndex } from "../../shared/index/pod-index.ts";
import type { JobProducer } from "../../shared/jobs/producer.ts";
import type { AccessReviewer } from "../../shared/kube/access-review.ts";
import type { Metrics } from "../../shared/observability/metrics.ts";
import type { PodEventRouter, RouteResult } from "../../shared/pods/pod-events.ts";
import type { KubePort } from "../../shared/ports/vault-kube.ts";
import { authenticate } from "./auth/authenticate.ts";
import { createAuthorizer, refuseUnless, type Authorizer } from "./auth/authorize.ts";
import type { ApiEnv } from "./auth/identity.ts";
import { CloudEventError, parseCloudEvent } from "./cloudevents.ts";
import { errorResponse } from "./errors.ts";

/** The RBAC resource (API group leasekeeper.io, cluster-scoped) an event sender needs `create` on. */
export const EVENTS_RESOURCE = "podevents";

/**
 * Who may post events (LEASEKEEPER_EVENTS_AUTH). `kubernetes`: a bearer token, either a static API
 * token or a Kubernetes token that passes TokenReview for the events audience (Knative Eventing's
 * OIDC sender identity), then SubjectAccessReview `create podevents.leasekeeper.io` cluster-wide.
 * `none`: not checked at all — only for trusted networks (e.g. behind a NetworkPolicy).
 */
export type EventsAuth =
  | { readonly mode: "none" }
  | {
      readonly mode: "kubernetes";
      /** TokenReview with the events audience (LEASEKEEPER_EVENTS_AUDIENCE) + SubjectAccessReview; absent: only API tokens work. */
      readonly reviewer?: AccessReviewer | undefined;
      /** sha256 hex digests of the static API tokens (LEASEKEEPER_API_TOKENS). */
      readonly apiTokenHashes: readonly string[];
    };

export interface EventsRouteDeps {
  readonly router: PodEventRouter;
  readonly kube: KubePort;
  readonly index: PodIndex;
  readonly producer: JobProducer;
  readonly metrics: Metrics;
  readonly eventsAuth: EventsAuth;
}

/** POST /v1/events/kubernetes: pod events as CloudEvents, into the same router as the watcher. */
export function eventsRoute(deps: EventsRouteDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  if (deps.eventsAuth.mode === "kubernetes") {
    // Checked before the body is read. Knative does not retry 401/403; it does retry the 503 of an unreachable API server.
    const { reviewer, apiTokenHashes } = deps.eventsAuth;
    app.post("/", authenticate({ reviewer, apiTokenHashes }), senderAccess(createAuthorizer(reviewer)));
  }
  app.post(
    "/",
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: (c) => errorResponse(c, 413, "payload_too_large", "event body is larger than 1 MiB"),
    }),
    async (c) => {
      const raw = await c.req.arrayBuffer();
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
      } catch {
        return errorResponse(c, 400, "invalid_event", "body is not valid UTF-8");
      }
      let event;
      try {
        event = parseCloudEvent(c.req.raw.headers, text);
      } catch (err) {
        if (err instanceof CloudEventError) return errorResponse(c, 400, "invalid_event", err.message);
        throw err;
      }
      let result: RouteResult | { action: "revoke-by-name"; jobIds: string[] };
      try {
        if (event.mode === "resource") {
          result = await deps.router.route(event.type, event.pod, "cloudevent");
        } else {
          result = await routeReference(deps, event.type, event.namespace, event.name);
        }
      } catch (err) {
        // 503 makes the sender retry (Knative retries 503 with backoff).
        return errorResponse(c, 503, "unavailable", `could not enqueue: ${messageOf(err)}`);
      }
      deps.metrics.watchEvents.inc({ source: "cloudevent", type: event.type, action: result.action });
      return c.json({ accepted: true, id: event.id, ...result }, 202);
    },
  );
  return app;
}

function senderAccess(authorize: Authorizer) {
  return async function eventSenderAccess(c: Context<ApiEnv>, next: Next) {
    const refused = await refuseUnless(c, authorize, { verb: "create", resource: EVENTS_RESOURCE });
    if (refused) return refused;
    return next();
  };
}

/** Reference mode carries no UID: look the pod up, and for deletions find what we hold under that name. */
async function routeReference(
  deps: EventsRouteDeps,
  type: "ADDED" | "MODIFIED" | "DELETED",
  namespace: string,
  name: string,
) {
  const pod = await deps.kube.readPod(namespace, name);
  if (pod && type !== "DELETED") return deps.router.route(type, pod, "cloudevent");
  const records = (await deps.index.byName(namespace, name)).filter((r) => r.uid !== pod?.metadata?.uid);
  const jobIds: string[] = [];
  for (const record of records) {
    jobIds.push(
      (await deps.producer.revoke({ uid: record.uid, namespace, name, source: "cloudevent", reason: "pod deleted" }))
        .id,
    );
  }
  return { action: "revoke-by-name" as const, jobIds };
}
