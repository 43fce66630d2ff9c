/** TokenReview (spec §5) and SubjectAccessReview / SelfSubjectAccessReview. */
import { authenticateToken } from "../authn.ts";
import { parseJson } from "../http-io.ts";
import { isObject } from "../patch.ts";
import type { ApiRequest, ApiResponse } from "../request.ts";
import { badRequest } from "../status.ts";
import type { AuthzAttributes, Json } from "../types.ts";

function decode(req: ApiRequest, kind: string): Json {
  const r = req.route.resource;
  const body = parseJson(req.body, `${kind} in version "${r.version}" cannot be handled as a ${kind}`);
  if (!isObject(body))
    throw badRequest(`${kind} in version "${r.version}" cannot be handled as a ${kind}: not an object`);
  if (body.kind !== undefined && body.kind !== kind)
    throw badRequest(
      `the object provided is unrecognized (must be of type ${kind}): object kind "${String(body.kind)}" does not match expected kind "${kind}"`,
    );
  return body;
}

export function createTokenReview(req: ApiRequest): ApiResponse {
  const body = decode(req, "TokenReview");
  const spec: Json = isObject(body.spec) ? body.spec : {};
  const token = typeof spec.token === "string" ? spec.token : "";
  if (token === "") throw badRequest("token is required for TokenReview in authentication");
  const audiences: string[] = Array.isArray(spec.audiences) ? spec.audiences.map(String) : [];
  const result = authenticateToken(req.state, token, audiences);
  const status: Json = result.ok
    ? { authenticated: true, user: result.user, audiences: result.audiences }
    : { user: {}, error: result.error };
  return {
    code: 201,
    body: {
      kind: "TokenReview",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec,
      status,
    },
  };
}

export function createAccessReview(req: ApiRequest, self: boolean): ApiResponse {
  const kind = self ? "SelfSubjectAccessReview" : "SubjectAccessReview";
  const body = decode(req, kind);
  const spec: Json = isObject(body.spec) ? body.spec : {};
  const ra: Json = isObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  if (ra === undefined && !isObject(spec.nonResourceAttributes)) {
    throw badRequest(
      `${kind}.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`,
    );
  }
  const user = self
    ? req.user
    : {
        username: String(spec.user ?? ""),
        uid: spec.uid,
        groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [],
        extra: spec.extra,
      };
  const attrs: AuthzAttributes = {
    user,
    verb: String(ra?.verb ?? spec.nonResourceAttributes?.verb ?? ""),
    apiGroup: String(ra?.group ?? ""),
    resource: String(ra?.resource ?? spec.nonResourceAttributes?.path ?? ""),
  };
  if (ra?.subresource) attrs.subresource = String(ra.subresource);
  if (ra?.namespace) attrs.namespace = String(ra.namespace);
  if (ra?.name) attrs.name = String(ra.name);
  const decision = req.state.authorize(attrs);
  const status: Json = { allowed: decision.allowed };
  if (decision.reason !== undefined) status.reason = decision.reason;
  return {
    code: 201,
    body: { kind, apiVersion: "authorization.k8s.io/v1", metadata: { creationTimestamp: null }, spec, status },
  };
}
