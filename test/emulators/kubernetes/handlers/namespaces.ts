/** Namespaces: name label, a `default` ServiceAccount per namespace, delete removes the contents. */
import { randomUUID } from "node:crypto";
import type { EmulatorState } from "../state.ts";
import type { ApiRequest, ResourceHooks } from "../request.ts";
import { RESOURCES } from "../resources.ts";
import { successStatus } from "../status.ts";
import type { KubeObject } from "../types.ts";
import { nowTime } from "../validation.ts";

export function ensureDefaultServiceAccount(state: EmulatorState, namespace: string): void {
  if (state.store.get("serviceaccounts", namespace, "default") !== undefined) return;
  state.store.put("serviceaccounts", {
    kind: "ServiceAccount",
    apiVersion: "v1",
    metadata: { name: "default", namespace, uid: randomUUID(), creationTimestamp: nowTime() },
  });
}

export function makeNamespace(name: string): KubeObject {
  return {
    kind: "Namespace",
    apiVersion: "v1",
    metadata: {
      name,
      uid: randomUUID(),
      creationTimestamp: nowTime(),
      labels: { "kubernetes.io/metadata.name": name },
    },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  };
}

export const namespaceHooks: ResourceHooks = {
  beforeCreate(_req, obj) {
    obj.metadata.labels = { ...obj.metadata.labels, "kubernetes.io/metadata.name": obj.metadata.name ?? "" };
    obj.spec = { finalizers: ["kubernetes"] };
    obj.status = { phase: "Active" };
  },
  afterCreate(req: ApiRequest, obj) {
    ensureDefaultServiceAccount(req.state, obj.metadata.name ?? "");
  },
  delete(req, existing) {
    const ns = existing.metadata.name ?? "";
    for (const r of RESOURCES) {
      if (!r.namespaced || r.virtual === true) continue;
      for (const o of req.state.store.list(r.key, ns)) req.state.store.remove(r.key, ns, o.metadata.name ?? "");
    }
    req.state.store.remove("namespaces", "", ns);
    return { code: 200, body: successStatus(ns, "namespaces", "", existing.metadata.uid) };
  },
};
