import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { messageOf } from "../../shared/errors/errors.ts";
import type { PodIndex } from "../../shared/index/pod-index.ts";
import type { JobProducer } from "../../shared/jobs/producer.ts";
import type { Metrics } from "../../shared/observability/metrics.ts";
import type { PodEventRouter, RouteResult } from "../../shared/pods/pod-events.ts";
import type { KubePort } from "../../shared/ports.ts";
import { CloudEventError, parseCloudEvent } from "./cloudevents.ts";
import { errorResponse } from "./errors.ts";

export interface EventsRouteDeps {
  readonly router: PodEventRouter;
  readonly kube: KubePort;
  readonly index: PodIndex;
  readonly producer: JobProducer;
  readonly metrics: Metrics;
}

/** POST /v1/events/kubernetes: pod events as CloudEvents, into the same router as the watcher. */
export function eventsRoute(deps: EventsRouteDeps): Hono {
  const app = new Hono();
  app.post(
    "/",
    bodyLimit({ maxSize: 1024 * 1024, onError: (c) => errorResponse(c, 413, "payload_too_large", "event body is larger than 1 MiB") }),
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

/** Reference mode carries no UID: look the pod up, and for deletions find what we hold under that name. */
async function routeReference(deps: EventsRouteDeps, type: "ADDED" | "MODIFIED" | "DELETED", namespace: string, name: string) {
  const pod = await deps.kube.readPod(namespace, name);
  if (pod && type !== "DELETED") return deps.router.route(type, pod, "cloudevent");
  const records = (await deps.index.byName(namespace, name)).filter((r) => r.uid !== pod?.metadata?.uid);
  const jobIds: string[] = [];
  for (const record of records) {
    jobIds.push(await deps.producer.revoke({ uid: record.uid, namespace, name, source: "cloudevent", reason: "pod deleted" }));
  }
  return { action: "revoke-by-name" as const, jobIds };
}
