/**
 * Deployments and ReplicaSets: SetDefaults_Deployment / SetDefaults_ReplicaSet (kubernetes
 * pkg/apis/apps/v1/defaults.go) and the selector checks of pkg/apis/apps/validation/validation.go
 * (ValidateDeploymentSpec / ValidateReplicaSetSpec). Status starts empty; the controllers in
 * workload-controllers.ts fill it.
 */
import type { ResourceHooks } from "../request.ts";
import { invalidValue, required, type FieldError } from "../status.ts";
import type { Json, KubeObject } from "../types.ts";
import { defaultPodSpec } from "./pods.ts";

function defaultTemplate(obj: KubeObject): void {
  const spec: Json = (obj.spec ??= {});
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  if (spec.template?.spec !== undefined) defaultPodSpec(spec.template.spec);
  if (spec.template?.metadata !== undefined) spec.template.metadata.creationTimestamp ??= null;
}

export function defaultDeployment(obj: KubeObject): void {
  defaultTemplate(obj);
  const spec: Json = obj.spec;
  spec.progressDeadlineSeconds ??= 600;
  spec.strategy ??= {};
  spec.strategy.type ??= "RollingUpdate";
  if (spec.strategy.type === "RollingUpdate") {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= "25%";
    spec.strategy.rollingUpdate.maxSurge ??= "25%";
  }
}

function validateSelector(obj: KubeObject): FieldError[] {
  const spec: Json = obj.spec ?? {};
  const errors: FieldError[] = [];
  const matchLabels: Record<string, string> = spec.selector?.matchLabels ?? {};
  if (
    spec.selector === undefined ||
    (Object.keys(matchLabels).length === 0 && (spec.selector.matchExpressions ?? []).length === 0)
  ) {
    errors.push(required("spec.selector"));
  }
  const labels: Record<string, string> = spec.template?.metadata?.labels ?? {};
  if (Object.entries(matchLabels).some(([k, v]) => labels[k] !== v)) {
    errors.push(invalidValue("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"));
  }
  if (!Array.isArray(spec.template?.spec?.containers) || spec.template.spec.containers.length === 0) {
    errors.push(required("spec.template.spec.containers"));
  }
  if (typeof spec.replicas !== "number" || spec.replicas < 0)
    errors.push(invalidValue("spec.replicas", spec.replicas, "must be greater than or equal to 0"));
  return errors;
}

export const deploymentHooks: ResourceHooks = {
  beforeCreate(_req, obj) {
    defaultDeployment(obj);
    obj.status = {};
  },
  prepareUpdate(_req, obj) {
    defaultDeployment(obj);
  },
  validate(_req, obj) {
    return validateSelector(obj);
  },
};

export const replicaSetHooks: ResourceHooks = {
  beforeCreate(_req, obj) {
    defaultTemplate(obj);
    obj.status = { replicas: 0 };
  },
  prepareUpdate(_req, obj) {
    defaultTemplate(obj);
  },
  validate(_req, obj) {
    return validateSelector(obj);
  },
};
