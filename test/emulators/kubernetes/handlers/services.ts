/**
 * Services: the defaults of kubernetes/kubernetes pkg/apis/core/v1/defaults.go SetDefaults_Service
 * (type ClusterIP, sessionAffinity None, port protocol TCP, targetPort = port, traffic policies
 * Cluster) and the registry's allocation (pkg/registry/core/service/storage/alloc.go): a cluster IP
 * from the service CIDR (10.96.0.0/12 as kubeadm sets it), single-stack IPv4, node ports 30000-32767.
 */
import type { EmulatorState } from "../state.ts";
import type { ResourceHooks } from "../request.ts";
import { invalidValue, required, type FieldError } from "../status.ts";
import type { Json, KubeObject } from "../types.ts";

function used(state: EmulatorState, pick: (s: KubeObject) => (string | number)[]): Set<string | number> {
  return new Set(state.store.list("services").flatMap(pick));
}

function allocateClusterIP(state: EmulatorState): string {
  const taken = used(state, (s) => [s.spec?.clusterIP ?? ""]);
  for (let n = 2; n < 65_000; n++) {
    const ip = `10.96.${Math.floor(n / 256)}.${n % 256}`;
    if (n % 256 !== 0 && n !== 10 && !taken.has(ip)) return ip; // .10 is kube-dns by convention
  }
  throw new Error("kubernetes emulator: service CIDR exhausted");
}

function allocateNodePort(state: EmulatorState, extra: Set<number>): number {
  const taken = used(state, (s) => ((s.spec?.ports ?? []) as Json[]).map((p) => Number(p.nodePort ?? 0)));
  for (let p = 30000; p <= 32767; p++) if (!taken.has(p) && !extra.has(p)) return p;
  throw new Error("kubernetes emulator: node ports exhausted");
}

export function defaultService(state: EmulatorState, svc: KubeObject): void {
  const spec: Json = (svc.spec ??= {});
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  const external = spec.type === "ExternalName";
  if (!external) spec.internalTrafficPolicy ??= "Cluster";
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") spec.externalTrafficPolicy ??= "Cluster";
  if (spec.type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
  const fresh = new Set<number>();
  for (const p of (spec.ports ?? []) as Json[]) {
    p.protocol ??= "TCP";
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
    if ((spec.type === "NodePort" || spec.type === "LoadBalancer") && !p.nodePort) {
      p.nodePort = allocateNodePort(state, fresh);
      fresh.add(p.nodePort);
    }
  }
  if (external) return;
  if ((spec.clusterIP ?? "") === "") spec.clusterIP = allocateClusterIP(state);
  spec.clusterIPs ??= [spec.clusterIP];
  spec.ipFamilies ??= ["IPv4"];
  spec.ipFamilyPolicy ??= "SingleStack";
  svc.status = { loadBalancer: {} };
}

export const serviceHooks: ResourceHooks = {
  beforeCreate(req, svc) {
    defaultService(req.state, svc);
  },
  prepareUpdate(_req, svc, old) {
    svc.status = old.status;
  },
  validate(_req, svc, old): FieldError[] {
    const spec: Json = svc.spec ?? {};
    const errors: FieldError[] = [];
    const ports: Json[] = Array.isArray(spec.ports) ? spec.ports : [];
    if (ports.length === 0 && spec.type !== "ExternalName" && spec.clusterIP !== "None")
      errors.push(required("spec.ports"));
    ports.forEach((p, i) => {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535)
        errors.push(invalidValue(`spec.ports[${i}].port`, p.port ?? 0, "must be between 1 and 65535, inclusive"));
    });
    if (old !== undefined && (old.spec?.clusterIP ?? "") !== "" && spec.clusterIP !== old.spec?.clusterIP) {
      errors.push(invalidValue("spec.clusterIPs[0]", spec.clusterIP ?? "", "may not change once set"));
    }
    return errors;
  },
};
