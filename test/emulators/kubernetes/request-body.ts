/** Decodes a create/update body by its Content-Type: JSON, or the Kubernetes protobuf envelope. */
import { parseJson } from "./http-io.ts";
import { decodeProtobuf, isProtobuf } from "./protobuf-codec.ts";
import type { ApiRequest } from "./request.ts";
import type { Json } from "./types.ts";

/** `defaults` is the endpoint's apiVersion/kind, used when a protobuf envelope leaves them empty. */
export function decodeRequestBody(
  req: Pick<ApiRequest, "body" | "contentType">,
  what: string,
  defaults: { apiVersion: string; kind: string },
): Json {
  return isProtobuf(req.contentType) ? decodeProtobuf(req.body, what, defaults) : parseJson(req.body, what);
}
