/** Mutating admission webhooks for pod CREATE (spec §7): AdmissionReview v1, JSONPatch, failurePolicy. */
import { randomUUID } from "node:crypto";
import { jsonPatch, PatchError } from "./patch.ts";
import { matchesLabelSelectorObject } from "./selectors.ts";
import { ApiError, internalError } from "./status.ts";
import type { EmulatorState } from "./state.ts";
import type { Json, KubeObject, UserInfo } from "./types.ts";

interface Target {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespace: string;
}

function ruleMatches(webhook: Json, t: Target, operation: string): boolean {
  const rules: Json[] = webhook.rules ?? [];
  return rules.some((rule) => {
    const has = (list: Json, v: string): boolean => Array.isArray(list) && (list.includes("*") || list.includes(v));
    const scope = rule.scope ?? "*";
    return (
      has(rule.operations, operation) &&
      has(rule.apiGroups, t.group) &&
      has(rule.apiVersions, t.version) &&
      has(rule.resources, t.resource) &&
      (scope === "*" || scope === "Namespaced")
    );
  });
}

class CallFailure extends Error {}

async function call(url: string, timeoutSeconds: number, review: Json): Promise<Json> {
  const target = `${url}${url.includes("?") ? "&" : "?"}timeout=${timeoutSeconds}s`;
  let res: Response;
  try {
    res = await fetch(target, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(review),
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
  } catch (err) {
    const e = err as Error;
    const why =
      e.name === "TimeoutError" ? "context deadline exceeded" : ((e.cause as Error | undefined)?.message ?? e.message);
    throw new CallFailure(`failed to call webhook: Post "${target}": ${why}`);
  }
  const text = await res.text();
  if (res.status < 200 || res.status >= 300)
    throw new CallFailure(`received invalid webhook response: status code ${res.status}`);
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new CallFailure(`received invalid webhook response: ${(err as Error).message}`);
  }
}

function verify(body: Json, uid: string): Json {
  if (body?.apiVersion !== "admission.k8s.io/v1" || body?.kind !== "AdmissionReview") {
    throw new CallFailure(
      `expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${String(body?.apiVersion)}, Kind=${String(body?.kind)}`,
    );
  }
  const response = body.response;
  if (response === undefined || response === null) throw new CallFailure("webhook response was absent");
  if (response.uid !== uid) throw new CallFailure(`expected response.uid="${uid}", got "${String(response.uid)}"`);
  if ((response.patch === undefined) !== (response.patchType === undefined))
    throw new CallFailure("webhook returned patch without patchType or patchType without patch");
  if (response.patchType !== undefined && response.patchType !== "JSONPatch")
    throw new CallFailure(`webhook returned invalid patchType: "${String(response.patchType)}"`);
  return response;
}

/** Runs every matching mutating webhook over a pod being created; returns the (possibly patched) pod. */
export async function admitCreate(
  state: EmulatorState,
  t: Target,
  object: KubeObject,
  user: UserInfo,
): Promise<KubeObject> {
  let current = object;
  const namespace = state.store.get("namespaces", "", t.namespace);
  const nsLabels = namespace?.metadata.labels ?? {};
  for (const config of state.store.list("admissionregistration.k8s.io/mutatingwebhookconfigurations")) {
    for (const webhook of (config.webhooks ?? []) as Json[]) {
      if (!ruleMatches(webhook, t, "CREATE")) continue;
      if (!matchesLabelSelectorObject(webhook.namespaceSelector, nsLabels)) continue;
      if (!matchesLabelSelectorObject(webhook.objectSelector, current.metadata.labels ?? {})) continue;
      const url = webhook.clientConfig?.url;
      if (typeof url !== "string") continue; // `service` references cannot be reached from the emulator: skipped
      current = await callOne(state, webhook, url, t, current, user);
    }
  }
  return current;
}

async function callOne(
  state: EmulatorState,
  webhook: Json,
  url: string,
  t: Target,
  object: KubeObject,
  user: UserInfo,
): Promise<KubeObject> {
  const uid = randomUUID();
  const name = String(webhook.name);
  const review: Json = {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: t.group, version: t.version, kind: t.kind },
      resource: { group: t.group, version: t.version, resource: t.resource },
      requestKind: { group: t.group, version: t.version, kind: t.kind },
      requestResource: { group: t.group, version: t.version, resource: t.resource },
      namespace: t.namespace,
      operation: "CREATE",
      userInfo: user,
      object,
      oldObject: null,
      dryRun: false,
      options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1" },
    },
  };
  if ((object.metadata.name ?? "") !== "") review.request.name = object.metadata.name;
  const timeout = Math.min(30, Math.max(1, Number(webhook.timeoutSeconds ?? 10)));
  let response: Json;
  try {
    response = verify(await call(url, timeout, review), uid);
  } catch (err) {
    if (!(err instanceof CallFailure) || state.closed) throw err;
    if (webhook.failurePolicy === "Ignore") return object;
    throw internalError(`failed calling webhook "${name}": ${err.message}`);
  }
  if (response.allowed !== true) {
    const status = response.status ?? {};
    const code = typeof status.code === "number" && status.code >= 400 ? status.code : 400;
    const message =
      typeof status.message === "string" && status.message !== ""
        ? `admission webhook "${name}" denied the request: ${status.message}`
        : `admission webhook "${name}" denied the request without explanation`;
    throw new ApiError(code, typeof status.reason === "string" ? status.reason : "", message);
  }
  if (response.patch === undefined) return object;
  try {
    const ops = JSON.parse(Buffer.from(String(response.patch), "base64").toString("utf8")) as Json;
    return jsonPatch(object, ops) as KubeObject;
  } catch (err) {
    if (err instanceof PatchError || err instanceof SyntaxError)
      throw internalError(`JSON Patch from webhook "${name}" could not be applied: ${err.message}`);
    throw err;
  }
}
