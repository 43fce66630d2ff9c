/** The resources the emulator serves: names, scope, selectable fields. */
import type { KubeObject } from "./types.ts";

export type FieldGetter = (obj: KubeObject) => string | undefined;

export interface ResourceDef {
  /** Registry key: plural for the core group, `<group>/<plural>` otherwise. */
  key: string;
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Discovery categories; "all" makes `kubectl get all` include the resource. */
  categories?: string[];
  verbs: string[];
  subresources: string[];
  /** Field selector labels beyond metadata.name / metadata.namespace. */
  fields: Record<string, FieldGetter>;
  /** True for create-only "virtual" resources (reviews) that are never stored. */
  virtual?: boolean;
}

const CRUD = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

function def(d: Omit<ResourceDef, "key" | "verbs" | "subresources" | "fields"> & Partial<ResourceDef>): ResourceDef {
  return {
    verbs: CRUD,
    subresources: [],
    fields: {},
    ...d,
    key: d.group === "" ? d.plural : `${d.group}/${d.plural}`,
  };
}

export const RESOURCES: ResourceDef[] = [
  def({
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    subresources: ["status"],
    fields: { "status.phase": (o) => str(o.status?.phase) },
  }),
  def({
    group: "",
    version: "v1",
    plural: "nodes",
    singular: "node",
    kind: "Node",
    namespaced: false,
    shortNames: ["no"],
    subresources: ["status"],
    fields: { "spec.unschedulable": (o) => String(o.spec?.unschedulable === true) },
  }),
  def({
    group: "",
    version: "v1",
    plural: "services",
    singular: "service",
    kind: "Service",
    namespaced: true,
    shortNames: ["svc"],
    categories: ["all"],
    verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    subresources: ["status"],
  }),
  def({
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    shortNames: ["po"],
    categories: ["all"],
    subresources: ["status", "log", "exec"],
    fields: {
      "spec.nodeName": (o) => str(o.spec?.nodeName ?? ""),
      "spec.host": (o) => str(o.spec?.nodeName ?? ""),
      "spec.restartPolicy": (o) => str(o.spec?.restartPolicy),
      "spec.schedulerName": (o) => str(o.spec?.schedulerName),
      "spec.serviceAccountName": (o) => str(o.spec?.serviceAccountName),
      "spec.hostNetwork": (o) => String(o.spec?.hostNetwork === true),
      "status.phase": (o) => str(o.status?.phase),
      "status.podIP": (o) => str(o.status?.podIP ?? ""),
      "status.podIPs": (o) => str(o.status?.podIPs?.[0]?.ip ?? ""),
      "status.nominatedNodeName": (o) => str(o.status?.nominatedNodeName ?? ""),
    },
  }),
  def({
    group: "",
    version: "v1",
    plural: "secrets",
    singular: "secret",
    kind: "Secret",
    namespaced: true,
    fields: { type: (o) => str(o.type) },
  }),
  def({
    group: "",
    version: "v1",
    plural: "configmaps",
    singular: "configmap",
    kind: "ConfigMap",
    namespaced: true,
    shortNames: ["cm"],
  }),
  def({
    group: "",
    version: "v1",
    plural: "serviceaccounts",
    singular: "serviceaccount",
    kind: "ServiceAccount",
    namespaced: true,
    shortNames: ["sa"],
    subresources: ["token"],
  }),
  def({
    group: "",
    version: "v1",
    plural: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    shortNames: ["ev"],
    fields: {
      "involvedObject.kind": (o) => str(o.involvedObject?.kind ?? ""),
      "involvedObject.namespace": (o) => str(o.involvedObject?.namespace ?? ""),
      "involvedObject.name": (o) => str(o.involvedObject?.name ?? ""),
      "involvedObject.uid": (o) => str(o.involvedObject?.uid ?? ""),
      "involvedObject.apiVersion": (o) => str(o.involvedObject?.apiVersion ?? ""),
      "involvedObject.resourceVersion": (o) => str(o.involvedObject?.resourceVersion ?? ""),
      "involvedObject.fieldPath": (o) => str(o.involvedObject?.fieldPath ?? ""),
      reason: (o) => str(o.reason ?? ""),
      reportingComponent: (o) => str(o.reportingComponent ?? ""),
      source: (o) => str(o.source?.component ?? ""),
      type: (o) => str(o.type ?? ""),
    },
  }),
  def({
    group: "events.k8s.io",
    version: "v1",
    plural: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    shortNames: ["ev"],
  }),
  def({
    group: "coordination.k8s.io",
    version: "v1",
    plural: "leases",
    singular: "lease",
    kind: "Lease",
    namespaced: true,
  }),
  def({
    group: "apps",
    version: "v1",
    plural: "replicasets",
    singular: "replicaset",
    kind: "ReplicaSet",
    namespaced: true,
    shortNames: ["rs"],
    categories: ["all"],
    subresources: ["status", "scale"],
  }),
  def({
    group: "apps",
    version: "v1",
    plural: "deployments",
    singular: "deployment",
    kind: "Deployment",
    namespaced: true,
    shortNames: ["deploy"],
    categories: ["all"],
    subresources: ["status", "scale"],
  }),
  def({
    group: "admissionregistration.k8s.io",
    version: "v1",
    plural: "mutatingwebhookconfigurations",
    singular: "mutatingwebhookconfiguration",
    kind: "MutatingWebhookConfiguration",
    namespaced: false,
  }),
  def({
    group: "authentication.k8s.io",
    version: "v1",
    plural: "tokenreviews",
    singular: "tokenreview",
    kind: "TokenReview",
    namespaced: false,
    verbs: ["create"],
    virtual: true,
  }),
  def({
    group: "authorization.k8s.io",
    version: "v1",
    plural: "subjectaccessreviews",
    singular: "subjectaccessreview",
    kind: "SubjectAccessReview",
    namespaced: false,
    verbs: ["create"],
    virtual: true,
  }),
  def({
    group: "authorization.k8s.io",
    version: "v1",
    plural: "selfsubjectaccessreviews",
    singular: "selfsubjectaccessreview",
    kind: "SelfSubjectAccessReview",
    namespaced: false,
    verbs: ["create"],
    virtual: true,
  }),
];

export function apiVersionOf(r: ResourceDef): string {
  return r.group === "" ? r.version : `${r.group}/${r.version}`;
}

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceByKey(key: string): ResourceDef {
  const r = RESOURCES.find((x) => x.key === key);
  if (r === undefined) throw new Error(`kubernetes emulator: unknown resource key ${key}`);
  return r;
}

/** Resolves `v1`/`Pod` or `coordination.k8s.io/v1`/`Lease` to a resource (for ownerReferences). */
export function resourceForKind(apiVersion: string, kind: string): ResourceDef | undefined {
  const slash = apiVersion.lastIndexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return RESOURCES.find((r) => r.group === group && r.version === version && r.kind === kind && r.virtual !== true);
}

export function groups(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of RESOURCES) {
    if (r.group === "") continue;
    const versions = out.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    out.set(r.group, versions);
  }
  return out;
}

export function fieldValue(r: ResourceDef, obj: KubeObject, label: string): string | undefined {
  if (label === "metadata.name") return obj.metadata.name ?? "";
  if (label === "metadata.namespace") return obj.metadata.namespace ?? "";
  const getter = r.fields[label];
  return getter === undefined ? undefined : (getter(obj) ?? "");
}
