/** Dispatches an authenticated, authorized resource request to list/watch/get/create/update/patch/delete. */
import { createObject } from "./crud-create.ts";
import { deleteObject, readDeleteOptions } from "./crud-delete.ts";
import { patchObject, updateObject } from "./crud-update.ts";
import { createAccessReview, createTokenReview } from "./handlers/reviews.ts";
import { podRuntimeRequest } from "./handlers/pod-runtime.ts";
import { handleScale } from "./handlers/scale.ts";
import { createTokenRequest } from "./handlers/token-request.ts";
import { hooksFor } from "./hooks.ts";
import { readListOptions } from "./list-options.ts";
import { listObjects } from "./list.ts";
import { asListItem } from "./object-meta.ts";
import type { ApiRequest, ApiResponse } from "./request.ts";
import { apiVersionOf } from "./resources.ts";
import { methodNotAllowed, notFound } from "./status.ts";
import { metadataObject, metadataTarget } from "./partial-metadata.ts";
import { toTable, wantsTable } from "./table.ts";
import { serveWatch } from "./watch.ts";

/** The RBAC verb of a request (get/list/watch/create/update/patch/delete/deletecollection). */
export function verbOf(method: string, hasName: boolean, watch: boolean): string {
  if (method === "GET" || method === "HEAD") return watch ? "watch" : hasName ? "get" : "list";
  if (method === "POST") return "create";
  if (method === "PUT") return "update";
  if (method === "PATCH") return "patch";
  if (method === "DELETE") return hasName ? "delete" : "deletecollection";
  return method.toLowerCase();
}

export function isWatch(req: Pick<ApiRequest, "query" | "route">): boolean {
  const w = req.query.get("watch");
  return req.route.legacyWatch || w === "true" || w === "1";
}

function virtualCreate(req: ApiRequest): ApiResponse {
  switch (req.route.resource.key) {
    case "authentication.k8s.io/tokenreviews":
      return createTokenReview(req);
    case "authorization.k8s.io/subjectaccessreviews":
      return createAccessReview(req, false);
    default:
      return createAccessReview(req, true);
  }
}

/** Returns undefined when the handler streamed its own response (watch). */
export async function handleResource(req: ApiRequest): Promise<ApiResponse | undefined> {
  const { route, method } = req;
  const r = route.resource;
  const hooks = hooksFor(r.key);
  const plural = route.subresource === undefined ? r.plural : `${r.plural}/${route.subresource}`;
  if (r.virtual === true) {
    if (method !== "POST" || route.name !== undefined)
      throw methodNotAllowed(verbOf(method, route.name !== undefined, false), r.plural);
    return virtualCreate(req);
  }
  if (route.subresource === "token") {
    if (method !== "POST") throw methodNotAllowed(verbOf(method, true, false), plural);
    return createTokenRequest(req);
  }
  if (route.subresource === "scale") return handleScale(req);
  if (route.subresource === "log" || route.subresource === "exec") return podRuntimeRequest(req);
  if (method === "GET" && isWatch(req)) {
    serveWatch(req);
    return undefined;
  }
  if (method === "GET" && route.name === undefined) return listObjects(req);
  if (method === "GET") {
    const found = req.state.store.get(r.key, route.namespace ?? "", route.name ?? "");
    if (found === undefined) throw notFound(r.plural, route.name ?? "", r.group);
    if (wantsTable(req.accept))
      return {
        code: 200,
        body: toTable(r, [found], { resourceVersion: found.metadata.resourceVersion }, req.query.get("includeObject")),
      };
    const target = metadataTarget(req.accept);
    if (target !== undefined) return { code: 200, body: metadataObject(target, found, `core.${r.kind}`) };
    return { code: 200, body: found };
  }
  if (method === "POST" && route.name === undefined) return createObject(req, hooks);
  if (method === "PUT" && route.name !== undefined) return updateObject(req, hooks);
  if (method === "PATCH" && route.name !== undefined) return patchObject(req, hooks);
  if (method === "DELETE" && route.name !== undefined) return deleteObject(req, hooks);
  if (method === "DELETE") {
    const opts = readListOptions(req, false);
    readDeleteOptions(req);
    const deleted = [];
    for (const obj of req.state.store.list(r.key).filter(opts.match)) {
      req.state.deleteInternal(r.key, obj);
      deleted.push(asListItem(obj));
    }
    return {
      code: 200,
      body: {
        kind: `${r.kind}List`,
        apiVersion: apiVersionOf(r),
        metadata: { resourceVersion: String(req.state.store.currentRv()) },
        items: deleted,
      },
    };
  }
  throw methodNotAllowed(verbOf(method, route.name !== undefined, false), plural);
}
