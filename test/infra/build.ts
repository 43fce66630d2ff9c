/** Builds infra/ kustomizations with `kubectl kustomize` (offline) and validates objects with kubernetes-models. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { KubeObject } from "../emulators/kubernetes/index.ts";
import { INFRA_DIR, parseYaml } from "../helpers/rbac.ts";

export const KUBECTL = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].find((p) => existsSync(p));

export function kustomize(dir: string): KubeObject[] {
  if (KUBECTL === undefined) throw new Error("kubectl is not installed");
  const text = execFileSync(KUBECTL, ["kustomize", join(INFRA_DIR, dir)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parseYaml(text) as KubeObject[];
}

/** Where kubernetes-models keeps the model of each API group (custom resources in their own packages). */
function modulePath(apiVersion: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const crds: Record<string, string> = {
    "keda.sh": "@kubernetes-models/keda",
    "cert-manager.io": "@kubernetes-models/cert-manager",
    "sources.knative.dev": "@kubernetes-models/knative",
    "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  };
  if (group === "") return `kubernetes-models/${version}`;
  return `${crds[group as string] ?? "kubernetes-models"}/${group}/${version}`;
}

/** Validates one object against its API schema; returns the problem, or undefined when valid. */
export async function schemaProblem(obj: KubeObject): Promise<string | undefined> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modulePath(obj.apiVersion ?? ""))) as Record<string, unknown>;
  } catch {
    return `no schema for ${obj.apiVersion}`;
  }
  const Model = mod[obj.kind ?? ""] as (new (o: unknown) => { validate(): void }) | undefined;
  if (Model === undefined) return `no schema for ${obj.apiVersion} ${obj.kind}`;
  try {
    new Model(obj).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- plain JSON from YAML, checked field by field by the tests
type PodSpecJson = Record<string, any>;

/** Pod templates of workload objects, with the object they belong to. */
export function podTemplates(
  objects: readonly KubeObject[],
): Array<{ owner: string; spec: PodSpecJson; labels: Record<string, string> }> {
  return objects
    .filter((o) => ["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(o.kind ?? ""))
    .map((o) => ({
      owner: `${o.kind}/${o.metadata.name}`,
      spec: o.spec.template.spec,
      labels: o.spec.template.metadata?.labels ?? {},
    }));
}
