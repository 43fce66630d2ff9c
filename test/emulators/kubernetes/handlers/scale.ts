/**
 * The `scale` subresource of deployments and replicasets: an autoscaling/v1 Scale view of
 * spec.replicas (kubernetes pkg/registry/apps/deployment/storage/storage.go ScaleREST and
 * scaleFromDeployment; the selector is metav1.FormatLabelSelector's string). `kubectl scale`
 * sends a merge patch to it (kubectl pkg/scale/scale.go).
 */
import { parseJson } from "../http-io.ts";
import { clone, isObject, jsonPatch, mergePatch, PatchError } from "../patch.ts";
import type { ApiRequest, ApiResponse } from "../request.ts";
import { decodeRequestBody } from "../request-body.ts";
import {
  ApiError,
  badRequest,
  conflict,
  invalid,
  invalidValue,
  methodNotAllowed,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
} from "../status.ts";
import type { Json, KubeObject } from "../types.ts";

function selectorString(selector: Json): string {
  const parts = Object.entries((selector?.matchLabels ?? {}) as Record<string, string>)
    .sort()
    .map(([k, v]) => `${k}=${v}`);
  for (const e of (selector?.matchExpressions ?? []) as Json[]) {
    const values = ((e.values ?? []) as string[]).join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${values})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${values})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

export function scaleOf(obj: KubeObject): Json {
  const m = obj.metadata;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector: selectorString(obj.spec?.selector) },
  };
}

function patched(req: ApiRequest, current: Json): Json {
  const type = req.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  const patch = parseJson(req.body, "error decoding patch");
  try {
    if (type === "application/json-patch+json") return jsonPatch(current, patch);
    if (type === "application/merge-patch+json" || type === "application/strategic-merge-patch+json") {
      if (!isObject(patch))
        throw new PatchError("json: cannot unmarshal array into Go value of type map[string]interface {}", true);
      return mergePatch(current, patch);
    }
  } catch (err) {
    if (err instanceof PatchError)
      throw err.malformed ? badRequest(err.message) : new ApiError(422, "Invalid", err.message);
    throw err;
  }
  throw new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
  );
}

export function handleScale(req: ApiRequest): ApiResponse {
  const r = req.route.resource;
  const name = req.route.name ?? "";
  const existing = req.state.store.get(r.key, req.route.namespace ?? "", name);
  if (existing === undefined) throw notFound(r.plural, name, r.group);
  if (req.method === "GET") return { code: 200, body: scaleOf(existing) };
  let wanted: Json;
  if (req.method === "PUT")
    wanted = decodeRequestBody(req, 'Scale in version "v1" cannot be handled as a Scale', {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
    });
  else if (req.method === "PATCH") wanted = patched(req, clone(scaleOf(existing)));
  else throw methodNotAllowed(req.method.toLowerCase(), `${r.plural}/scale`);
  const rv = wanted?.metadata?.resourceVersion;
  if (rv !== undefined && rv !== "" && rv !== existing.metadata.resourceVersion)
    throw conflict(r.plural, name, OPTIMISTIC_LOCK_MESSAGE, r.group);
  const replicas = wanted?.spec?.replicas ?? 0;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw invalid(
      "Scale",
      name,
      [invalidValue("spec.replicas", replicas, "must be greater than or equal to 0")],
      "autoscaling",
    );
  }
  if (replicas === existing.spec?.replicas) return { code: 200, body: scaleOf(existing) };
  existing.spec = { ...existing.spec, replicas };
  if (typeof existing.metadata.generation === "number") existing.metadata.generation += 1;
  if (req.query.get("dryRun") === "All") return { code: 200, body: scaleOf(existing) };
  return { code: 200, body: scaleOf(req.state.store.put(r.key, existing)) };
}
