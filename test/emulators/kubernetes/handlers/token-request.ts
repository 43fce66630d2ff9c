/** TokenRequest (`POST serviceaccounts/{name}/token`, spec §4): bound, audience-scoped JWTs. */
import { randomUUID } from "node:crypto";
import { NODE_UID } from "../fake-kubelet.ts";
import { isObject } from "../patch.ts";
import type { ApiRequest, ApiResponse } from "../request.ts";
import { decodeRequestBody } from "../request-body.ts";
import { ApiError, badRequest, conflict, invalid, invalidValue, notFound, type FieldError } from "../status.ts";
import { API_AUDIENCE, ISSUER, type ServiceAccountClaims } from "../tokens.ts";
import type { Json } from "../types.ts";

export interface IssueTokenInput {
  namespace: string;
  serviceAccount: string;
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind: string; apiVersion?: string; name: string; uid?: string };
}

/** Issues a token as the TokenRequest REST handler would; throws ApiError on the same conditions. */
export function issueToken(
  req: Pick<ApiRequest, "state">,
  input: IssueTokenInput,
): { token: string; expirationTimestamp: string; spec: Json } {
  const { state } = req;
  const { namespace, serviceAccount } = input;
  const sa = state.store.get("serviceaccounts", namespace, serviceAccount);
  if (sa === undefined) throw notFound("serviceaccounts", serviceAccount);
  const expirationSeconds = input.expirationSeconds ?? 3600;
  const errors: FieldError[] = [];
  if (!Number.isInteger(expirationSeconds) || expirationSeconds < 600)
    errors.push(
      invalidValue("spec.expirationSeconds", expirationSeconds, "may not specify a duration less than 10 minutes"),
    );
  else if (expirationSeconds > 2 ** 32)
    errors.push(
      invalidValue("spec.expirationSeconds", expirationSeconds, "may not specify a duration larger than 2^32 seconds"),
    );
  if (errors.length > 0) throw invalid("TokenRequest", serviceAccount, errors, "authentication.k8s.io");
  const audiences = input.audiences !== undefined && input.audiences.length > 0 ? input.audiences : [API_AUDIENCE];
  const now = Math.floor(Date.now() / 1000);
  const claims: ServiceAccountClaims = {
    iss: ISSUER,
    sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
    aud: audiences,
    exp: now + expirationSeconds,
    iat: now,
    nbf: now,
    jti: randomUUID(),
    "kubernetes.io": { namespace, serviceaccount: { name: serviceAccount, uid: sa.metadata.uid ?? "" } },
  };
  const ref = input.boundObjectRef;
  if (ref !== undefined) {
    if (ref.kind !== "Pod" && ref.kind !== "Secret")
      throw badRequest(`cannot bind token to object of type ${ref.kind}`);
    const plural = ref.kind === "Pod" ? "pods" : "secrets";
    const target = state.store.get(plural, namespace, ref.name);
    if (target === undefined) throw notFound(plural, ref.name);
    if (ref.uid !== undefined && ref.uid !== "" && ref.uid !== target.metadata.uid) {
      throw conflict(
        ref.kind,
        ref.name,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    const uid = target.metadata.uid ?? "";
    if (ref.kind === "Pod") {
      if (target.spec?.serviceAccountName !== serviceAccount) {
        throw badRequest(
          `cannot bind token for serviceaccount ${JSON.stringify(serviceAccount)} to pod running with different serviceaccount name.`,
        );
      }
      claims["kubernetes.io"].pod = { name: ref.name, uid };
      if ((target.spec?.nodeName ?? "") !== "")
        claims["kubernetes.io"].node = { name: String(target.spec.nodeName), uid: NODE_UID };
    } else {
      claims["kubernetes.io"].secret = { name: ref.name, uid };
    }
  }
  const spec: Json = { audiences, expirationSeconds };
  if (ref !== undefined)
    spec.boundObjectRef = {
      kind: ref.kind,
      apiVersion: ref.apiVersion ?? "v1",
      name: ref.name,
      uid: claims["kubernetes.io"].pod?.uid ?? claims["kubernetes.io"].secret?.uid,
    };
  return {
    token: state.signer.sign(claims),
    expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(".000Z", "Z"),
    spec,
  };
}

export function createTokenRequest(req: ApiRequest): ApiResponse {
  const body = decodeRequestBody(req, 'TokenRequest in version "v1" cannot be handled as a TokenRequest', {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
  });
  if (!isObject(body))
    throw badRequest('TokenRequest in version "v1" cannot be handled as a TokenRequest: not an object');
  if (body.kind !== undefined && body.kind !== "TokenRequest")
    throw badRequest(
      `the object provided is unrecognized (must be of type TokenRequest): object kind "${String(body.kind)}" does not match expected kind "TokenRequest"`,
    );
  const spec: Json = isObject(body.spec) ? body.spec : {};
  if (spec.expirationSeconds !== undefined && typeof spec.expirationSeconds !== "number")
    throw new ApiError(
      400,
      "BadRequest",
      'TokenRequest in version "v1" cannot be handled as a TokenRequest: spec.expirationSeconds: expected integer',
    );
  const ref = isObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
  const issued = issueToken(req, {
    namespace: req.route.namespace ?? "",
    serviceAccount: req.route.name ?? "",
    audiences: Array.isArray(spec.audiences) ? spec.audiences.map(String) : undefined,
    expirationSeconds: spec.expirationSeconds,
    boundObjectRef:
      ref === undefined
        ? undefined
        : { kind: String(ref.kind ?? ""), apiVersion: ref.apiVersion, name: String(ref.name ?? ""), uid: ref.uid },
  } as IssueTokenInput);
  return {
    code: 201,
    body: {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name: req.route.name, namespace: req.route.namespace, creationTimestamp: null },
      spec: issued.spec,
      status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp },
    },
  };
}
