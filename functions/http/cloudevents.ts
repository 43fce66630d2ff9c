import { z } from "zod";
import type { V1Pod } from "@kubernetes/client-node";
import type { PodEventType } from "../../shared/pods/pod-events.ts";

/**
 * CloudEvents 1.0 as Knative's ApiServerSource sends them: binary mode (ce-* headers, the
 * data as body) or structured mode (application/cloudevents+json), Resource mode (the whole
 * object) or Reference mode (kind/namespace/name only).
 */
export type ParsedEvent =
  | { mode: "resource"; type: PodEventType; pod: V1Pod; id: string }
  | { mode: "reference"; type: PodEventType; namespace: string; name: string; id: string };

export class CloudEventError extends Error {
  override readonly name = "CloudEventError";
}

const TYPES: Record<string, { mode: "resource" | "reference"; type: PodEventType }> = {
  "dev.knative.apiserver.resource.add": { mode: "resource", type: "ADDED" },
  "dev.knative.apiserver.resource.update": { mode: "resource", type: "MODIFIED" },
  "dev.knative.apiserver.resource.delete": { mode: "resource", type: "DELETED" },
  "dev.knative.apiserver.ref.add": { mode: "reference", type: "ADDED" },
  "dev.knative.apiserver.ref.update": { mode: "reference", type: "MODIFIED" },
  "dev.knative.apiserver.ref.delete": { mode: "reference", type: "DELETED" },
};

const Attributes = z.object({
  specversion: z.literal("1.0", { message: 'specversion must be "1.0"' }),
  id: z.string().min(1, "id is required"),
  source: z.string().min(1, "source is required"),
  type: z.string().min(1, "type is required"),
  datacontenttype: z.string().optional(),
});

const PodData = z
  .object({
    kind: z.literal("Pod", { message: 'data.kind must be "Pod"' }),
    metadata: z
      .object({
        name: z.string().min(1, "data.metadata.name is required"),
        namespace: z.string().min(1, "data.metadata.namespace is required"),
        uid: z.string().min(1, "data.metadata.uid is required"),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .passthrough(),
  })
  .passthrough();

const RefData = z.object({
  kind: z.literal("Pod", { message: 'data.kind must be "Pod"' }),
  namespace: z.string().min(1, "data.namespace is required"),
  name: z.string().min(1, "data.name is required"),
});

export function parseCloudEvent(headers: Headers, body: string): ParsedEvent {
  const contentType = (headers.get("content-type") ?? "").toLowerCase();
  let attributes: Record<string, unknown>;
  let data: unknown;
  if (contentType.startsWith("application/cloudevents+json")) {
    const envelope = parseJson(body, "body");
    if (!envelope || typeof envelope !== "object" || Array.isArray(envelope))
      throw new CloudEventError("structured event must be a JSON object");
    attributes = envelope as Record<string, unknown>;
    data = attributes.data;
    if (data === undefined && typeof attributes.data_base64 === "string")
      data = parseJson(Buffer.from(attributes.data_base64, "base64").toString("utf8"), "data_base64");
  } else if (headers.has("ce-specversion")) {
    if (contentType !== "" && !contentType.startsWith("application/json"))
      throw new CloudEventError(`unsupported content-type "${contentType}"; send application/json`);
    attributes = {};
    headers.forEach((value, key) => {
      if (key.toLowerCase().startsWith("ce-")) attributes[key.toLowerCase().slice(3)] = value;
    });
    data = parseJson(body, "body");
  } else {
    throw new CloudEventError(
      "not a CloudEvent: expected ce-specversion headers (binary mode) or content-type application/cloudevents+json (structured mode)",
    );
  }
  const attrs = Attributes.safeParse(attributes);
  if (!attrs.success) throw new CloudEventError(describe(attrs.error.issues, ""));
  const known = TYPES[attrs.data.type];
  if (!known)
    throw new CloudEventError(
      `unsupported event type "${attrs.data.type.slice(0, 100)}"; expected dev.knative.apiserver.{resource,ref}.{add,update,delete}`,
    );
  if (known.mode === "resource") {
    const pod = PodData.safeParse(data);
    if (!pod.success) throw new CloudEventError(describe(pod.error.issues, "data"));
    return { mode: "resource", type: known.type, pod: pod.data as V1Pod, id: attrs.data.id };
  }
  const ref = RefData.safeParse(data);
  if (!ref.success) throw new CloudEventError(describe(ref.error.issues, "data"));
  return { mode: "reference", type: known.type, namespace: ref.data.namespace, name: ref.data.name, id: attrs.data.id };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CloudEventError(`${what} is not valid JSON`);
  }
}

function describe(issues: readonly z.core.$ZodIssue[], root: string): string {
  return issues
    .map((issue) => {
      const path = [root, ...issue.path.map(String)].filter(Boolean).join(".");
      return issue.message.includes(path) || path === "" ? issue.message : `${path}: ${issue.message}`;
    })
    .join("; ");
}
