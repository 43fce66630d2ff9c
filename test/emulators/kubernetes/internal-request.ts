/** What the emulator's controllers use to act like API clients: an in-process request and Event recording. */
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiRequest } from "./request.ts";
import { resourceByKey } from "./resources.ts";
import type { EmulatorState } from "./state.ts";
import type { KubeObject, UserInfo } from "./types.ts";
import { nowTime } from "./validation.ts";

/** A create request as a controller's client would send it (no HTTP exchange behind it). */
export function internalRequest(
  state: EmulatorState,
  resourceKey: string,
  namespace: string,
  user: UserInfo,
): ApiRequest {
  return {
    state,
    method: "POST",
    route: { resource: resourceByKey(resourceKey), namespace, legacyWatch: false },
    query: new URLSearchParams(),
    user,
    contentType: "application/json",
    accept: "application/json",
    body: Buffer.alloc(0),
    req: undefined as unknown as IncomingMessage,
    res: undefined as unknown as ServerResponse,
  };
}

/** A core/v1 Event about `obj`, as client-go's event recorder writes it (name `<object>.<hex>`). */
export function recordEvent(
  state: EmulatorState,
  obj: KubeObject,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
  component: string,
): void {
  const m = obj.metadata;
  const now = nowTime();
  state.store.put("events", {
    kind: "Event",
    apiVersion: "v1",
    metadata: {
      name: `${m.name ?? ""}.${randomBytes(8).toString("hex")}`,
      namespace: m.namespace ?? "default",
      uid: randomUUID(),
      creationTimestamp: now,
    },
    involvedObject: {
      kind: obj.kind,
      namespace: m.namespace,
      name: m.name,
      uid: m.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: m.resourceVersion,
    },
    reason,
    message,
    source: { component },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type,
    eventTime: null,
    reportingComponent: component,
    reportingInstance: "",
  });
}
