/**
 * Metadata-only answers (meta.k8s.io PartialObjectMetadata / PartialObjectMetadataList), chosen by the
 * Accept header's `as=…;g=meta.k8s.io;v=v1` parameters, as k8s.io/apiserver does in
 * kubernetes staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go:
 * - targetEncodingForTransform: only Kind PartialObjectMetadata(List) or Table in meta.k8s.io v1 / v1beta1
 *   is a transform target; the answer is then written in that group version;
 * - doTransformObject → asPartialObjectMetadataList: a list becomes `PartialObjectMetadataList` whose items
 *   are `PartialObjectMetadata` (kind and apiVersion set, `metadata` only; the list keeps its ListMeta);
 *   asPartialObjectMetadata on a list, or asPartialObjectMetadataList on a single object, is 406 NotAcceptable;
 * - watchEmbeddedEncoder.doEncode: each watch event's object goes through the same transform; when it fails
 *   (a watch asked `as=PartialObjectMetadataList`, but its objects are not lists) the full object is sent.
 * An Accept entry naming another conversion is not acceptable and the next entry is tried
 * (negotiation.NegotiateOutputMediaType); none acceptable is 406.
 */
import { ApiError } from "./status.ts";
import type { Json, KubeObject } from "./types.ts";

export type MetadataTarget = { kind: "PartialObjectMetadata" | "PartialObjectMetadataList"; apiVersion: string };

const GROUP_VERSIONS = new Set(["v1", "v1beta1"]);
const PLAIN = new Set([
  "application/json",
  "application/yaml",
  "application/vnd.kubernetes.protobuf",
  "*/*",
  "application/*",
]);

function notAcceptable(message: string): ApiError {
  return new ApiError(406, "NotAcceptable", message);
}

/** The metadata transform an Accept header asks for; undefined for plain objects (or Table, served elsewhere). */
export function metadataTarget(accept: string): MetadataTarget | undefined {
  if (accept.trim() === "") return undefined;
  for (const range of accept.split(",")) {
    const [type = "", ...rest] = range.split(";").map((p) => p.trim());
    const params = new Map(rest.map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)] as const));
    const as = params.get("as");
    if (as === undefined) {
      if (PLAIN.has(type.toLowerCase())) return undefined;
      continue;
    }
    if (as === "Table") return undefined;
    const v = params.get("v") ?? "";
    if ((as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") && params.get("g") === "meta.k8s.io")
      if (GROUP_VERSIONS.has(v)) return { kind: as, apiVersion: `meta.k8s.io/${v}` };
  }
  throw notAcceptable(
    "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
  );
}

function partial(obj: KubeObject, apiVersion: string): Json {
  return { kind: "PartialObjectMetadata", apiVersion, metadata: obj.metadata };
}

/** A LIST answer's body in the target's shape. */
export function metadataList(target: MetadataTarget, metadata: Json, items: KubeObject[], listType: string): Json {
  if (target.kind === "PartialObjectMetadata")
    throw notAcceptable(`you requested PartialObjectMetadata, but the requested object is a list (*${listType})`);
  return {
    kind: "PartialObjectMetadataList",
    apiVersion: target.apiVersion,
    metadata,
    items: items.map((o) => partial(o, target.apiVersion)),
  };
}

/** A GET answer's body in the target's shape. */
export function metadataObject(target: MetadataTarget, obj: KubeObject, objectType: string): Json {
  if (target.kind === "PartialObjectMetadataList")
    throw notAcceptable(
      `you requested PartialObjectMetadataList, but the requested object is not a list (*${objectType})`,
    );
  return partial(obj, target.apiVersion);
}

/** A watch event's object: transformed when the target is a single PartialObjectMetadata, else sent whole. */
export function metadataWatchObject(target: MetadataTarget | undefined, obj: Json): Json {
  if (target?.kind !== "PartialObjectMetadata" || obj.kind === "Status") return obj;
  return partial(obj as KubeObject, target.apiVersion);
}
