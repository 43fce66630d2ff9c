/**
 * What a fresh kubeadm-style cluster already holds besides namespaces: one Ready node (the one the
 * fake scheduler binds pods to), the `kubernetes` Service in default (kube-apiserver's own endpoint
 * reconciler creates it: kubernetes/kubernetes pkg/controlplane/controller/kubernetesservice) and
 * CoreDNS's `kube-dns` Service in kube-system, which `kubectl cluster-info` lists through its
 * `kubernetes.io/cluster-service=true` label (kubectl pkg/cmd/clusterinfo/clusterinfo.go).
 */
import { randomUUID } from "node:crypto";
import { HOST_IP, NODE_NAME, NODE_UID } from "./fake-kubelet.ts";
import type { EmulatorState } from "./state.ts";
import type { KubeObject } from "./types.ts";
import { nowTime } from "./validation.ts";

const KUBELET_VERSION = "v1.32.0";

function condition(type: string, status: string, reason: string, message: string): KubeObject["status"] {
  const now = nowTime();
  return { type, status, lastHeartbeatTime: now, lastTransitionTime: now, reason, message };
}

export function nodeObject(): KubeObject {
  const resources = { cpu: "2", "ephemeral-storage": "61202244Ki", memory: "16393072Ki", pods: "110" };
  return {
    kind: "Node",
    apiVersion: "v1",
    metadata: {
      name: NODE_NAME,
      uid: NODE_UID,
      creationTimestamp: nowTime(),
      labels: {
        "kubernetes.io/hostname": NODE_NAME,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        "node-role.kubernetes.io/control-plane": "",
      },
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec: { podCIDR: "10.244.0.0/24", podCIDRs: ["10.244.0.0/24"] },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      addresses: [
        { type: "InternalIP", address: HOST_IP },
        { type: "Hostname", address: NODE_NAME },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: "0".repeat(32),
        systemUUID: NODE_UID,
        bootID: NODE_UID,
        kernelVersion: "6.1.0-emulator",
        osImage: "Debian GNU/Linux 12 (bookworm)",
        containerRuntimeVersion: "containerd://1.7.24",
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: "linux",
        architecture: "amd64",
      },
    },
  };
}

function service(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  spec: KubeObject["spec"],
): KubeObject {
  return {
    kind: "Service",
    apiVersion: "v1",
    metadata: { name, namespace, uid: randomUUID(), creationTimestamp: nowTime(), labels },
    spec: {
      ...spec,
      clusterIPs: [spec.clusterIP],
      type: "ClusterIP",
      sessionAffinity: "None",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
      internalTrafficPolicy: "Cluster",
    },
    status: { loadBalancer: {} },
  };
}

export function seedCluster(state: EmulatorState): void {
  state.store.put("nodes", nodeObject());
  state.store.put(
    "services",
    service(
      "default",
      "kubernetes",
      { component: "apiserver", provider: "kubernetes" },
      {
        clusterIP: "10.96.0.1",
        ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }],
      },
    ),
  );
  state.store.put(
    "services",
    service(
      "kube-system",
      "kube-dns",
      { "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS" },
      {
        clusterIP: "10.96.0.10",
        selector: { "k8s-app": "kube-dns" },
        ports: [
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
          { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
          { name: "metrics", port: 9153, protocol: "TCP", targetPort: 9153 },
        ],
      },
    ),
  );
}
