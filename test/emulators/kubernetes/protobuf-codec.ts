/**
 * Request bodies in `application/vnd.kubernetes.protobuf`, as client-go's typed clients (and so
 * kubectl's `create secret|namespace|serviceaccount|token|deployment`) send them. The wire format
 * is kubernetes/apimachinery@release-1.32 pkg/runtime/serializer/protobuf/protobuf.go: the magic
 * prefix `k8s\0`, then a runtime.Unknown whose typeMeta names the kind and whose raw holds the
 * object's own message. The messages are decoded by protobufjs from the .proto subset in ./proto
 * (field numbers as published in kubernetes/api and kubernetes/apimachinery generated.proto) and
 * turned into the JSON object the server would have decoded, so the rest of the emulator sees JSON.
 */
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { ApiError, badRequest } from "./status.ts";
import type { Json } from "./types.ts";

export const PROTOBUF_MEDIA_TYPE = "application/vnd.kubernetes.protobuf";
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Kinds whose messages are modelled: "apiVersion/Kind" -> protobuf message. */
const KINDS: Record<string, string> = {
  "v1/Secret": "k8s.io.api.core.v1.Secret",
  "v1/ConfigMap": "k8s.io.api.core.v1.ConfigMap",
  "v1/Namespace": "k8s.io.api.core.v1.Namespace",
  "v1/ServiceAccount": "k8s.io.api.core.v1.ServiceAccount",
  "v1/Pod": "k8s.io.api.core.v1.Pod",
  "v1/Service": "k8s.io.api.core.v1.Service",
  "apps/v1/Deployment": "k8s.io.api.apps.v1.Deployment",
  "authentication.k8s.io/v1/TokenRequest": "k8s.io.api.authentication.v1.TokenRequest",
  "v1/DeleteOptions": "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions",
  "meta.k8s.io/v1/DeleteOptions": "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions",
};

/**
 * Fields where a zero value on the wire is data, not absence: Go pointer fields (nil vs zero) and
 * fields whose json tag has no omitempty (kubernetes/api@release-1.32 core/v1/types.go,
 * apps/v1/types.go, authentication/v1/types.go; apimachinery meta/v1/types.go). Every other
 * scalar equal to "", 0 or false is what gogo-protobuf writes for an unset Go value and is dropped.
 */
const KEEP_ZERO = new Set([
  "Secret.immutable",
  "ConfigMap.immutable",
  "ServiceAccount.automountServiceAccountToken",
  "PodSpec.terminationGracePeriodSeconds",
  "PodSpec.activeDeadlineSeconds",
  "PodSpec.automountServiceAccountToken",
  "PodSpec.shareProcessNamespace",
  "PodSpec.priority",
  "PodSpec.runtimeClassName",
  "PodSpec.enableServiceLinks",
  "PodSpec.preemptionPolicy",
  "PodSpec.setHostnameAsFQDN",
  "PodSpec.hostUsers",
  "Container.restartPolicy",
  "SecurityContext.privileged",
  "SecurityContext.runAsUser",
  "SecurityContext.runAsGroup",
  "SecurityContext.runAsNonRoot",
  "SecurityContext.readOnlyRootFilesystem",
  "SecurityContext.allowPrivilegeEscalation",
  "SecurityContext.procMount",
  "ContainerPort.containerPort",
  "ServicePort.port",
  "ServicePort.appProtocol",
  "ServiceSpec.allocateLoadBalancerNodePorts",
  "ServiceSpec.ipFamilyPolicy",
  "ServiceSpec.loadBalancerClass",
  "ServiceSpec.internalTrafficPolicy",
  "ServiceSpec.trafficDistribution",
  "VolumeMount.recursiveReadOnly",
  "VolumeMount.mountPropagation",
  "LoadBalancerIngress.ipMode",
  "DeploymentSpec.replicas",
  "DeploymentSpec.revisionHistoryLimit",
  "DeploymentSpec.progressDeadlineSeconds",
  "TokenRequestSpec.expirationSeconds",
  "OwnerReference.controller",
  "OwnerReference.blockOwnerDeletion",
  "ObjectMeta.deletionGracePeriodSeconds",
  "DeleteOptions.gracePeriodSeconds",
  "DeleteOptions.orphanDependents",
  "DeleteOptions.propagationPolicy",
  "Preconditions.uid",
  "Preconditions.resourceVersion",
]);

/** Proto field names that differ from the json tag (authentication/v1/types.go BoundObjectReference.UID). */
const JSON_NAMES: Record<string, string> = { "BoundObjectReference.uID": "uid" };

const PROTO_DIR = fileURLToPath(new URL("./proto/", import.meta.url));
const root = new protobuf.Root().loadSync(
  [
    "runtime.proto",
    "meta-v1.proto",
    "intstr.proto",
    "resource.proto",
    "core-v1.proto",
    "apps-v1.proto",
    "authentication-v1.proto",
  ].map((f) => `${PROTO_DIR}${f}`),
  { keepCase: true },
);
root.resolveAll();
const UNKNOWN = root.lookupType("k8s.io.apimachinery.pkg.runtime.Unknown");

export function isProtobuf(contentType: string): boolean {
  return contentType.split(";")[0]?.trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}

function unmodelled(what: string): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    `the kubernetes emulator does not model ${what} in ${PROTOBUF_MEDIA_TYPE} bodies (see test/emulators/kubernetes/README.md); send application/json`,
  );
}

/** The first wire field the subset does not define (fields are never dropped silently), or undefined. */
function findUnmodelled(type: protobuf.Type, reader: protobuf.Reader, end: number): string | undefined {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const field = type.fieldsById[id];
    if (field === undefined) return `field ${id} of ${type.fullName.slice(1)}`;
    const sub = field.resolvedType;
    if ((tag & 7) !== 2 || !(sub instanceof protobuf.Type)) {
      reader.skipType(tag & 7);
      continue;
    }
    const stop = reader.uint32() + reader.pos;
    const found =
      field instanceof protobuf.MapField ? findInMapEntry(sub, reader, stop) : findUnmodelled(sub, reader, stop);
    if (found !== undefined) return found;
    reader.pos = stop;
  }
  return undefined;
}

/** A map entry is a message {1: key, 2: value}; only a message value needs checking. */
function findInMapEntry(valueType: protobuf.Type, reader: protobuf.Reader, end: number): string | undefined {
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 2 || (tag & 7) !== 2) {
      reader.skipType(tag & 7);
      continue;
    }
    const stop = reader.uint32() + reader.pos;
    const found = findUnmodelled(valueType, reader, stop);
    if (found !== undefined) return found;
    reader.pos = stop;
  }
  return undefined;
}

/** metav1.Time: empty message = zero time (JSON null); nanoseconds are dropped on decode (meta/v1/time_proto.go). */
function timeJson(v: Json, micro: boolean): string | null {
  const seconds = Number(v?.seconds ?? 0);
  if (v?.seconds === undefined && v?.nanos === undefined) return null;
  const iso = new Date(seconds * 1000).toISOString();
  if (!micro) return iso.replace(/\.\d{3}Z$/, "Z");
  const micros = Math.floor(Number(v?.nanos ?? 0) / 1000); // micro_time_proto.go truncates to microseconds
  return iso.replace(/\.\d{3}Z$/, `.${String(micros).padStart(6, "0")}Z`);
}

function messageJson(type: protobuf.Type, v: Json): Json {
  switch (type.fullName) {
    case ".k8s.io.apimachinery.pkg.apis.meta.v1.Time":
      return timeJson(v, false);
    case ".k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime":
      return timeJson(v, true);
    case ".k8s.io.apimachinery.pkg.util.intstr.IntOrString":
      return Number(v.type ?? 0) === 1 ? (v.strVal ?? "") : (v.intVal ?? 0);
    case ".k8s.io.apimachinery.pkg.api.resource.Quantity":
      return v.string ?? "0";
    case ".k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1":
      return v.Raw === undefined ? {} : JSON.parse(Buffer.from(String(v.Raw), "base64").toString("utf8"));
    case ".k8s.io.apimachinery.pkg.runtime.RawExtension":
      return v.raw === undefined ? null : JSON.parse(Buffer.from(String(v.raw), "base64").toString("utf8"));
    default:
      return objectJson(type, v);
  }
}

const isZero = (v: unknown): boolean => v === "" || v === 0 || v === false;

function valueJson(field: protobuf.Field, v: Json): Json {
  return field.resolvedType instanceof protobuf.Type ? messageJson(field.resolvedType, v) : v;
}

/** protobufjs toObject output -> the JSON the apiserver's Go struct would marshal to. */
function objectJson(type: protobuf.Type, obj: Json): Json {
  const out: Json = {};
  for (const field of type.fieldsArray) {
    const v = obj?.[field.name];
    if (v === undefined || v === null) continue;
    const id = `${type.name}.${field.name}`;
    const key = JSON_NAMES[id] ?? field.name;
    if (field instanceof protobuf.MapField) {
      const entries = Object.entries(v as Record<string, Json>);
      if (entries.length > 0) out[key] = Object.fromEntries(entries.map(([k, e]) => [k, valueJson(field, e)]));
    } else if (field.repeated) {
      if ((v as Json[]).length > 0) out[key] = (v as Json[]).map((e) => valueJson(field, e));
    } else {
      const converted = valueJson(field, v);
      if (!isZero(converted) || KEEP_ZERO.has(id)) out[key] = converted;
    }
  }
  return out;
}

/**
 * Decodes a protobuf request body to JSON; `defaults` (the endpoint's apiVersion and kind) fill
 * a typeMeta the client left empty, as copyKindDefaults does. Errors are 400s prefixed `what`.
 */
export function decodeProtobuf(body: Buffer, what: string, defaults: { apiVersion: string; kind: string }): Json {
  if (body.length === 0) throw badRequest(`${what}: empty data`);
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw badRequest(`${what}: provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]`);
  }
  if (body.length === MAGIC.length) throw badRequest(`${what}: empty body`);
  let envelope: Json;
  try {
    envelope = UNKNOWN.toObject(UNKNOWN.decode(body.subarray(MAGIC.length)), { longs: Number, bytes: Buffer });
  } catch (err) {
    throw badRequest(`${what}: ${(err as Error).message}`);
  }
  const apiVersion = envelope.typeMeta?.apiVersion || defaults.apiVersion;
  const kind = envelope.typeMeta?.kind || defaults.kind;
  const messageName = KINDS[`${apiVersion}/${kind}`];
  if (messageName === undefined) throw unmodelled(`${apiVersion}, Kind=${kind}`);
  const type = root.lookupType(messageName);
  const raw: Buffer = envelope.raw ?? Buffer.alloc(0);
  let decoded: Json;
  try {
    const missing = findUnmodelled(type, protobuf.Reader.create(raw), raw.length);
    if (missing !== undefined) throw unmodelled(missing);
    decoded = type.toObject(type.decode(raw), { longs: Number, bytes: String });
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest(`${what}: ${(err as Error).message}`);
  }
  return { kind, apiVersion, ...objectJson(type, decoded) };
}
