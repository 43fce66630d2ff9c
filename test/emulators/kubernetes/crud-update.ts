/** Generic update (PUT) and patch (PATCH): optimistic concurrency, /status, no-op detection. */
import { createObject } from "./crud-create.ts";
import { decodeObject } from "./object-meta.ts";
import { parseJson } from "./http-io.ts";
import {
  clone,
  deepEqual,
  jsonPatch,
  MAX_JSON_PATCH_OPS,
  mergePatch,
  PatchError,
  strategicMergePatch,
} from "./patch.ts";
import type { ApiRequest, ApiResponse, ResourceHooks } from "./request.ts";
import { ApiError, badRequest, conflict, invalid, notFound, OPTIMISTIC_LOCK_MESSAGE, required } from "./status.ts";
import { validateMeta } from "./validation.ts";
import type { Json, KubeObject } from "./types.ts";

const SERVER_OWNED = [
  "uid",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "generation",
] as const;

function existingOr404(req: ApiRequest): KubeObject {
  const r = req.route.resource;
  const found = req.state.store.get(r.key, req.route.namespace ?? "", req.route.name ?? "");
  if (found === undefined) throw notFound(r.plural, req.route.name ?? "", r.group);
  return found;
}

/** Validates and stores a candidate replacement of `old`. */
export function commitUpdate(
  req: ApiRequest,
  hooks: ResourceHooks,
  old: KubeObject,
  candidate: KubeObject,
): ApiResponse {
  const r = req.route.resource;
  const name = req.route.name ?? "";
  if ((candidate.metadata.name ?? "") !== name) {
    throw badRequest(
      `the name of the object (${candidate.metadata.name ?? ""}) does not match the name on the URL (${name})`,
    );
  }
  const rv = candidate.metadata.resourceVersion;
  if (rv !== undefined && rv !== "" && rv !== old.metadata.resourceVersion)
    throw conflict(r.plural, name, OPTIMISTIC_LOCK_MESSAGE, r.group);
  if (
    candidate.metadata.uid !== undefined &&
    candidate.metadata.uid !== "" &&
    candidate.metadata.uid !== old.metadata.uid
  ) {
    throw new ApiError(
      409,
      "Conflict",
      `Precondition failed: UID in precondition: ${String(candidate.metadata.uid)}, UID in object meta: ${old.metadata.uid ?? ""}`,
      { name, kind: r.plural },
    );
  }
  let next: KubeObject;
  if (req.route.subresource === "status") {
    next = clone(old);
    next.status = candidate.status;
  } else {
    next = candidate;
    for (const k of SERVER_OWNED) {
      if (old.metadata[k] === undefined) delete next.metadata[k];
      else (next.metadata as Record<string, unknown>)[k] = old.metadata[k];
    }
    if (old.status !== undefined && r.subresources.includes("status")) next.status = old.status; // status is written via /status only
    hooks.prepareUpdate?.(req, next, old);
    const specChanged = !deepEqual(withoutMetaStatus(next), withoutMetaStatus(old));
    if (specChanged && typeof old.metadata.generation === "number")
      next.metadata.generation = old.metadata.generation + 1;
  }
  const errors = [...validateMeta(next, old), ...(hooks.validate?.(req, next, old) ?? [])];
  if (errors.length > 0) throw invalid(r.kind, name, errors, r.group);
  next.metadata.resourceVersion = old.metadata.resourceVersion;
  if (deepEqual(next, old)) return { code: 200, body: old };
  if (req.query.get("dryRun") === "All") return { code: 200, body: next };
  const stored = req.state.store.put(r.key, next);
  finishIfReleased(req, stored);
  return { code: 200, body: stored };
}

function withoutMetaStatus(o: KubeObject): Json {
  const copy: Json = { ...o };
  delete copy.metadata;
  delete copy.status;
  return copy;
}

/** An object being deleted whose last finalizer went away is removed now (grace 0 or non-pod). */
function finishIfReleased(req: ApiRequest, obj: KubeObject): void {
  const m = obj.metadata;
  if (m.deletionTimestamp === undefined || (m.finalizers ?? []).length > 0) return;
  if (req.route.resource.plural === "pods" && (m.deletionGracePeriodSeconds ?? 0) > 0) return;
  req.state.store.remove(req.route.resource.key, m.namespace ?? "", m.name ?? "");
}

export function updateObject(req: ApiRequest, hooks: ResourceHooks): ApiResponse {
  const old = existingOr404(req);
  const candidate = decodeObject(req);
  if (req.route.subresource === "status" && candidate.metadata.name === undefined)
    candidate.metadata.name = req.route.name;
  return commitUpdate(req, hooks, old, candidate);
}

const JSON_PATCH = "application/json-patch+json";
const MERGE_PATCH = "application/merge-patch+json";
const STRATEGIC = "application/strategic-merge-patch+json";
const APPLY = "application/apply-patch+yaml";

function unprocessable(message: string): ApiError {
  return new ApiError(422, "Invalid", "the server rejected our request due to an error in our request", {
    causes: [{ reason: "UnexpectedServerResponse", message }],
  });
}

export async function patchObject(req: ApiRequest, hooks: ResourceHooks): Promise<ApiResponse> {
  const r = req.route.resource;
  const type = req.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (![JSON_PATCH, MERGE_PATCH, STRATEGIC, APPLY].includes(type)) {
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${APPLY}, ${STRATEGIC}`,
    );
  }
  if (type === APPLY && (req.query.get("fieldManager") ?? "") === "") {
    throw invalid("PatchOptions", "", [required("fieldManager", "is required for apply patch")], "meta.k8s.io");
  }
  const patch = parseJson(req.body, "error decoding patch");
  const existing = req.state.store.get(r.key, req.route.namespace ?? "", req.route.name ?? "");
  if (existing === undefined) {
    if (type !== APPLY || req.route.subresource !== undefined) throw notFound(r.plural, req.route.name ?? "", r.group);
    const obj = decodeObject(req, clone(patch));
    if ((obj.metadata.name ?? "") !== req.route.name)
      throw badRequest(
        `the name of the object (${obj.metadata.name ?? ""}) does not match the name on the URL (${req.route.name ?? ""})`,
      );
    return createObject(req, hooks, obj);
  }
  let patched: Json;
  try {
    if (type === JSON_PATCH) {
      if (Array.isArray(patch) && patch.length > MAX_JSON_PATCH_OPS) {
        throw new ApiError(
          413,
          "RequestEntityTooLarge",
          `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPS}, got ${patch.length}`,
        );
      }
      patched = jsonPatch(existing, patch);
    } else if (type === MERGE_PATCH || type === APPLY) {
      if (typeof patch !== "object" || patch === null || Array.isArray(patch))
        throw new PatchError("json: cannot unmarshal array into Go value of type map[string]interface {}", true);
      patched = mergePatch(existing, patch);
    } else {
      if (typeof patch !== "object" || patch === null || Array.isArray(patch))
        throw new PatchError("json: cannot unmarshal array into Go value of type map[string]interface {}", true);
      patched = strategicMergePatch(existing, patch);
    }
  } catch (err) {
    if (err instanceof PatchError) throw err.malformed ? badRequest(err.message) : unprocessable(err.message);
    throw err;
  }
  const candidate = decodeObject(req, patched);
  return commitUpdate(req, hooks, existing, candidate);
}
