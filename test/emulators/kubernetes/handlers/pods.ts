/** Pods: create defaults, ServiceAccount admission, webhooks, spec immutability, graceful delete. */
import { admitCreate } from "../admission.ts";
import { generateName } from "../object-meta.ts";
import { deepEqual } from "../patch.ts";
import { deletePod } from "../pod-deletion.ts";
import type { ApiRequest, ResourceHooks } from "../request.ts";
import { forbiddenRequest, forbidden, required, type FieldError } from "../status.ts";
import type { Json, KubeObject } from "../types.ts";

/** SetDefaults_PodSpec / SetDefaults_Container (kubernetes pkg/apis/core/v1/defaults.go), also applied to pod templates. */
export function defaultPodSpec(spec: Json): void {
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.securityContext ??= {};
  for (const c of Array.isArray(spec.containers) ? (spec.containers as Json[]) : []) {
    if (typeof c !== "object" || c === null) continue;
    const image = String(c.image ?? "");
    c.imagePullPolicy ??=
      image.includes("@") || (/:[^/]+$/.test(image) && !image.endsWith(":latest")) ? "IfNotPresent" : "Always";
    c.terminationMessagePath ??= "/dev/termination-log";
    c.terminationMessagePolicy ??= "File";
    c.resources ??= {};
    for (const port of Array.isArray(c.ports) ? (c.ports as Json[]) : []) port.protocol ??= "TCP"; // SetDefaults_ContainerPort
  }
}

function defaultSpec(pod: KubeObject): void {
  const spec: Json = (pod.spec ??= {});
  defaultPodSpec(spec);
  spec.enableServiceLinks ??= true; // set on pods only (the Priority admission plugin and pod defaults)
  spec.preemptionPolicy ??= "PreemptLowerPriority";
  spec.priority ??= 0;
  spec.serviceAccountName ??= spec.serviceAccount ?? "default";
  spec.serviceAccount = spec.serviceAccountName;
}

/** The ServiceAccount admission plugin: SA must exist; adds the kube-api-access projected volume. */
function serviceAccountAdmission(req: ApiRequest, pod: KubeObject): void {
  const ns = pod.metadata.namespace ?? "";
  const saName = String(pod.spec.serviceAccountName);
  const sa = req.state.store.get("serviceaccounts", ns, saName);
  if (sa === undefined) {
    const name = pod.metadata.name ?? "";
    throw forbiddenRequest(
      `pods ${JSON.stringify(name)} is forbidden: error looking up service account ${ns}/${saName}: serviceaccount ${JSON.stringify(saName)} not found`,
      name,
      "pods",
      "",
    );
  }
  const automount = pod.spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
  const volumes: Json[] = pod.spec.volumes ?? [];
  if (automount === false || volumes.some((v) => String(v.name).startsWith("kube-api-access-"))) return;
  const volName = generateName("kube-api-access-");
  volumes.push({
    name: volName,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        {
          downwardAPI: {
            items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
          },
        },
      ],
    },
  });
  pod.spec.volumes = volumes;
  for (const c of (pod.spec.containers ?? []) as Json[]) {
    c.volumeMounts = [
      ...(c.volumeMounts ?? []),
      { name: volName, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" },
    ];
  }
}

function validateSpec(pod: KubeObject): FieldError[] {
  const containers = pod.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) return [required("spec.containers")];
  const errors: FieldError[] = [];
  containers.forEach((c: Json, i: number) => {
    if (typeof c?.name !== "string" || c.name === "") errors.push(required(`spec.containers[${i}].name`));
    if (typeof c?.image !== "string" || c.image === "") errors.push(required(`spec.containers[${i}].image`));
  });
  return errors;
}

/** Only images (and a few scheduling fields) may change on a pod spec. */
function comparableSpec(spec: Json): Json {
  const copy = JSON.parse(JSON.stringify(spec ?? {})) as Json;
  for (const c of (copy.containers ?? []) as Json[]) delete c.image;
  for (const c of (copy.initContainers ?? []) as Json[]) delete c.image;
  delete copy.activeDeadlineSeconds;
  delete copy.tolerations;
  delete copy.terminationGracePeriodSeconds;
  return copy;
}

export const podHooks: ResourceHooks = {
  async beforeCreate(req, pod) {
    delete pod.status;
    defaultSpec(pod);
    serviceAccountAdmission(req, pod);
    pod.status = { phase: "Pending", qosClass: "BestEffort" };
    const t = { group: "", version: "v1", resource: "pods", kind: "Pod", namespace: pod.metadata.namespace ?? "" };
    const admitted = await admitCreate(req.state, t, pod, req.user);
    Object.assign(pod, admitted);
    defaultSpec(pod);
    pod.status = { phase: "Pending", qosClass: "BestEffort" };
  },
  validate(_req, pod, old) {
    const errors = validateSpec(pod);
    if (old !== undefined && !deepEqual(comparableSpec(pod.spec), comparableSpec(old.spec))) {
      errors.push(
        forbidden(
          "spec",
          "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        ),
      );
    }
    return errors;
  },
  delete(req, existing, grace) {
    return { code: 200, body: deletePod(req.state, existing, grace) };
  },
};
