/** Decoding request objects: kind/apiVersion/namespace checks and server-owned metadata. */
import { randomBytes, randomUUID } from "node:crypto";
import { isObject } from "./patch.ts";
import type { ApiRequest } from "./request.ts";
import { decodeRequestBody } from "./request-body.ts";
import { apiVersionOf } from "./resources.ts";
import { badRequest, notFound } from "./status.ts";
import { nowTime } from "./validation.ts";
import type { KubeObject } from "./types.ts";

/** Parses and checks the body of a create/update: must be an object of the route's kind. */
export function decodeObject(req: ApiRequest, body: unknown = undefined): KubeObject {
  const r = req.route.resource;
  const parsed =
    body ??
    decodeRequestBody(req, `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}`, {
      apiVersion: apiVersionOf(r),
      kind: r.kind,
    });
  if (!isObject(parsed))
    throw badRequest(
      `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: json: cannot unmarshal ${Array.isArray(parsed) ? "array" : typeof parsed} into Go value of type struct`,
    );
  const obj = parsed as KubeObject;
  if (obj.kind !== undefined && obj.kind !== r.kind) {
    throw badRequest(
      `the object provided is unrecognized (must be of type ${r.kind}): object kind "${String(obj.kind)}" does not match expected kind "${r.kind}"`,
    );
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(r)) {
    throw badRequest(
      `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`,
    );
  }
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  if (!isObject(obj.metadata))
    throw badRequest(
      `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: json: cannot unmarshal into Go struct field ${r.kind}.metadata of type v1.ObjectMeta`,
    );
  obj.kind = r.kind;
  obj.apiVersion = apiVersionOf(r);
  applyNamespace(req, obj);
  return obj;
}

function applyNamespace(req: ApiRequest, obj: KubeObject): void {
  const r = req.route.resource;
  if (!r.namespaced) {
    delete obj.metadata.namespace;
    return;
  }
  const ns = req.route.namespace;
  if (ns === undefined) throw badRequest("the namespace of the object must be set on the request URL");
  const given = obj.metadata.namespace;
  if (given !== undefined && given !== "" && given !== ns) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  obj.metadata.namespace = ns;
}

export function requireNamespace(req: ApiRequest): void {
  const ns = req.route.namespace;
  if (req.route.resource.namespaced && ns !== undefined && req.state.store.get("namespaces", "", ns) === undefined) {
    throw notFound("namespaces", ns);
  }
}

const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export function generateName(base: string): string {
  const bytes = randomBytes(5);
  let suffix = "";
  for (const b of bytes) suffix += NAME_ALPHABET[b % NAME_ALPHABET.length];
  return `${base.length > 58 ? base.slice(0, 58) : base}${suffix}`;
}

/** Sets server-owned metadata on a new object. */
export function stampNew(obj: KubeObject): void {
  const m = obj.metadata;
  m.uid = randomUUID();
  m.creationTimestamp = nowTime();
  m.generation = 1;
  delete m.resourceVersion;
  delete m.deletionTimestamp;
  delete m.deletionGracePeriodSeconds;
  delete m.selfLink;
}

/** List items carry no kind/apiVersion (spec §0). */
export function asListItem(obj: KubeObject): KubeObject {
  const copy = { ...obj };
  delete copy.kind;
  delete copy.apiVersion;
  return copy;
}
