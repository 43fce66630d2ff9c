import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { V1Pod } from "@kubernetes/client-node";
import type { Log } from "../../shared/observability/log.ts";
import { admitPod, type AdmissionSettings } from "./admission-plan.ts";
import { errorResponse } from "./errors.ts";

export interface AdmissionRouteDeps {
  readonly settings: AdmissionSettings;
  readonly log: Log;
}

interface ReviewRequest {
  uid?: unknown;
  kind?: { kind?: unknown };
  operation?: unknown;
  namespace?: unknown;
  object?: unknown;
}

/**
 * POST /v1/admission/pods: the MutatingWebhookConfiguration target (AdmissionReview v1).
 * Echoes the request uid; pods that are not opted in pass untouched; a pod whose annotations
 * leasekeeper cannot honour is refused with a message naming the annotation and construct.
 */
export function admissionRoute(deps: AdmissionRouteDeps): Hono {
  const app = new Hono();
  app.post(
    "/",
    bodyLimit({
      maxSize: 3 * 1024 * 1024,
      onError: (c) => errorResponse(c, 413, "payload_too_large", "AdmissionReview is larger than 3 MiB"),
    }),
    async (c) => {
      let review: { apiVersion?: unknown; kind?: unknown; request?: ReviewRequest };
      try {
        review = (await c.req.json()) as typeof review;
      } catch {
        return errorResponse(c, 400, "invalid_review", "body is not JSON");
      }
      const request = review?.request;
      if (
        review?.apiVersion !== "admission.k8s.io/v1" ||
        review.kind !== "AdmissionReview" ||
        typeof request?.uid !== "string"
      ) {
        return errorResponse(
          c,
          400,
          "invalid_review",
          "expected an admission.k8s.io/v1 AdmissionReview with request.uid",
        );
      }
      const respond = (response: Record<string, unknown>) =>
        c.json({
          apiVersion: "admission.k8s.io/v1",
          kind: "AdmissionReview",
          response: { uid: request.uid, ...response },
        });
      const pod = request.object as V1Pod | undefined;
      if (request.kind?.kind !== "Pod" || request.operation !== "CREATE" || typeof pod !== "object" || pod === null)
        return respond({ allowed: true });
      const namespace = typeof request.namespace === "string" ? request.namespace : (pod.metadata?.namespace ?? "");
      const decision = admitPod(pod, namespace, deps.settings);
      const who = `${namespace}/${pod.metadata?.name || `${pod.metadata?.generateName ?? ""}*`}`;
      switch (decision.kind) {
        case "pass":
          return respond({ allowed: true });
        case "deny":
          deps.log.info({ pod: who, reason: decision.message }, "admission refused");
          return respond({ allowed: false, status: { code: 400, message: decision.message } });
        case "patch":
          deps.log.debug({ pod: who, secret: decision.secretName }, "admission patched");
          return respond({
            allowed: true,
            patchType: "JSONPatch",
            patch: Buffer.from(JSON.stringify(decision.ops), "utf8").toString("base64"),
            ...(decision.warnings.length > 0 ? { warnings: decision.warnings } : {}),
          });
      }
    },
  );
  return app;
}
