/** Generic delete: DeleteOptions, preconditions, finalizers, Orphan propagation; Status Success body. */
import { orphanDependents } from "./gc.ts";
import { isObject } from "./patch.ts";
import { decodeProtobuf, isProtobuf } from "./protobuf-codec.ts";
import type { ApiRequest, ApiResponse, ResourceHooks } from "./request.ts";
import { badRequest, conflict, notFound, successStatus } from "./status.ts";
import { nowTime } from "./validation.ts";
import type { Json, KubeObject } from "./types.ts";

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export function readDeleteOptions(req: ApiRequest): DeleteOptions {
  let body: Json = {};
  const text = req.body.toString("utf8").trim();
  if (isProtobuf(req.contentType) && req.body.length > 0) {
    body = decodeProtobuf(req.body, 'DeleteOptions in version "v1" cannot be handled as a DeleteOptions', {
      apiVersion: "meta.k8s.io/v1",
      kind: "DeleteOptions",
    });
  } else if (text !== "") {
    try {
      body = JSON.parse(text) as Json;
    } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
    if (!isObject(body))
      throw badRequest('DeleteOptions in version "v1" cannot be handled as a DeleteOptions: not an object');
  }
  const opts: DeleteOptions = {};
  const q = req.query.get("gracePeriodSeconds");
  const grace = q !== null ? Number(q) : body.gracePeriodSeconds;
  if (grace !== undefined && grace !== null) {
    if (!Number.isInteger(Number(grace))) throw badRequest(`invalid gracePeriodSeconds: ${String(grace)}`);
    opts.gracePeriodSeconds = Number(grace);
  }
  const policy =
    req.query.get("propagationPolicy") ??
    body.propagationPolicy ??
    (body.orphanDependents === true || req.query.get("orphanDependents") === "true" ? "Orphan" : undefined);
  if (policy !== undefined && policy !== null) opts.propagationPolicy = String(policy);
  if (isObject(body.preconditions)) opts.preconditions = body.preconditions;
  return opts;
}

export function checkPreconditions(req: ApiRequest, existing: KubeObject, opts: DeleteOptions): void {
  const r = req.route.resource;
  const name = existing.metadata.name ?? "";
  const p = opts.preconditions;
  if (p?.uid !== undefined && p.uid !== null && p.uid !== existing.metadata.uid) {
    throw conflict(
      r.plural,
      name,
      `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${existing.metadata.uid ?? ""}. The object might have been deleted and then recreated`,
      r.group,
    );
  }
  if (
    p?.resourceVersion !== undefined &&
    p.resourceVersion !== null &&
    p.resourceVersion !== existing.metadata.resourceVersion
  ) {
    throw conflict(
      r.plural,
      name,
      `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion ?? ""}`,
      r.group,
    );
  }
}

export async function deleteObject(req: ApiRequest, hooks: ResourceHooks): Promise<ApiResponse> {
  const r = req.route.resource;
  const ns = req.route.namespace ?? "";
  const name = req.route.name ?? "";
  const existing = req.state.store.get(r.key, ns, name);
  if (existing === undefined) throw notFound(r.plural, name, r.group);
  const opts = readDeleteOptions(req);
  checkPreconditions(req, existing, opts);
  if (req.query.get("dryRun") === "All") return { code: 200, body: existing };
  if (opts.propagationPolicy === "Orphan") orphanDependents(req.state, existing.metadata.uid ?? "");
  if (hooks.delete !== undefined) return hooks.delete(req, existing, opts.gracePeriodSeconds);
  if ((existing.metadata.finalizers ?? []).length > 0) {
    if (existing.metadata.deletionTimestamp !== undefined) return { code: 200, body: existing };
    existing.metadata.deletionTimestamp = nowTime();
    existing.metadata.deletionGracePeriodSeconds = 0;
    return { code: 200, body: req.state.store.put(r.key, existing) };
  }
  req.state.store.remove(r.key, ns, name);
  return { code: 200, body: successStatus(name, r.plural, r.group, existing.metadata.uid) };
}
