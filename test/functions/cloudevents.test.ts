import { test } from "uvu";
import * as assert from "uvu/assert";
import { CloudEventError, parseCloudEvent } from "../../functions/http/cloudevents.ts";

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default", uid: "u-1", annotations: { "leasekeeper.io/role": "r" } },
};

function binary(type: string, extra: Record<string, string> = {}): Headers {
  return new Headers({
    "content-type": "application/json",
    "ce-specversion": "1.0",
    "ce-id": "1",
    "ce-source": "https://10.96.0.1:443",
    "ce-type": type,
    ...extra,
  });
}

test("binary mode, resource add/update/delete", () => {
  for (const [suffix, type] of [
    ["add", "ADDED"],
    ["update", "MODIFIED"],
    ["delete", "DELETED"],
  ] as const) {
    const event = parseCloudEvent(binary(`dev.knative.apiserver.resource.${suffix}`), JSON.stringify(pod));
    assert.is(event.mode, "resource");
    assert.is(event.type, type);
    if (event.mode === "resource") assert.is(event.pod.metadata?.uid, "u-1");
  }
});

test("structured mode and reference mode", () => {
  const structured = parseCloudEvent(
    new Headers({ "content-type": "application/cloudevents+json; charset=utf-8" }),
    JSON.stringify({
      specversion: "1.0",
      id: "2",
      source: "s",
      type: "dev.knative.apiserver.ref.delete",
      data: { kind: "Pod", namespace: "default", name: "web", apiVersion: "v1" },
    }),
  );
  assert.equal(structured, { mode: "reference", type: "DELETED", namespace: "default", name: "web", id: "2" });
});

test("malformed events are refused with a message naming the problem", () => {
  const cases: Array<[Headers, string, RegExp]> = [
    [new Headers({ "content-type": "application/json" }), "{}", /not a CloudEvent/],
    [binary("dev.knative.apiserver.resource.add"), "{not json", /body is not valid JSON/],
    [binary("com.example.other"), JSON.stringify(pod), /unsupported event type "com.example.other"/],
    [
      binary("dev.knative.apiserver.resource.add", { "ce-specversion": "0.3" }),
      JSON.stringify(pod),
      /specversion must be "1.0"/,
    ],
    [
      binary("dev.knative.apiserver.resource.add"),
      JSON.stringify({ ...pod, kind: "Secret" }),
      /data.kind must be "Pod"/,
    ],
    [
      binary("dev.knative.apiserver.resource.add"),
      JSON.stringify({ kind: "Pod", metadata: { name: "x", namespace: "d" } }),
      /uid/,
    ],
    [binary("dev.knative.apiserver.ref.add"), JSON.stringify({ kind: "Pod", name: "x" }), /namespace/],
    [new Headers({ "content-type": "application/cloudevents+json" }), "[1,2]", /must be a JSON object/],
    [
      new Headers({ "content-type": "application/cloudevents+json" }),
      JSON.stringify({ specversion: "1.0", source: "s", type: "dev.knative.apiserver.ref.add" }),
      /id/,
    ],
  ];
  for (const [headers, body, pattern] of cases) {
    assert.throws(
      () => parseCloudEvent(headers, body),
      (err: unknown) => err instanceof CloudEventError && pattern.test(err.message),
    );
  }
});

test.run();
