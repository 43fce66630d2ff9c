/**
 * Server-side print columns per resource, as kube-apiserver's TableConvertor builds them from
 * kubernetes/kubernetes pkg/printers/internalversion/printers.go (AddHandlers column definitions;
 * printPod, printNode, printService, printEvent, printDeployment, printReplicaSet, printNamespace,
 * printSecret, printConfigMap). Priority-1 columns are the ones only `-o wide` shows.
 */
import { since } from "./human-duration.ts";
import type { Json, KubeObject } from "./types.ts";

export interface Column {
  name: string;
  type: "string" | "integer";
  priority?: number;
  description: string;
  cell: (o: KubeObject) => string | number;
}

const nameCol: Column = {
  name: "Name",
  type: "string",
  description: "Name must be unique within a namespace.",
  cell: (o) => o.metadata.name ?? "",
};
const ageCol: Column = {
  name: "Age",
  type: "string",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
  cell: (o) => since(o.metadata.creationTimestamp),
};
const orNone = (s: string): string => (s === "" ? "<none>" : s);
const labelsString = (m: Record<string, string> | undefined): string =>
  orNone(
    Object.entries(m ?? {})
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
  );

/** printPod: the aggregate status string, ready count and restarts ("N (Xm ago)" once a container restarted). */
function podSummary(pod: KubeObject): { ready: string; status: string; restarts: string } {
  const containers: Json[] = pod.spec?.containers ?? [];
  const statuses: Json[] = pod.status?.containerStatuses ?? [];
  let reason: string = pod.status?.reason || pod.status?.phase || "";
  let restarts = 0;
  let lastRestart = 0;
  let readyCount = 0;
  let hasRunning = false;
  for (const cs of [...statuses].reverse()) {
    restarts += Number(cs.restartCount ?? 0);
    const finished = Date.parse(cs.lastState?.terminated?.finishedAt ?? "");
    if (!Number.isNaN(finished) && finished > lastRestart) lastRestart = finished;
    const st = cs.state ?? {};
    if (st.waiting?.reason) reason = st.waiting.reason;
    else if (st.terminated?.reason) reason = st.terminated.reason;
    else if (st.terminated)
      reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode ?? 0}`;
    else if (cs.ready === true && st.running !== undefined) {
      hasRunning = true;
      readyCount++;
    }
  }
  if (reason === "Completed" && hasRunning) {
    const ready = (pod.status?.conditions ?? []).some((c: Json) => c.type === "Ready" && c.status === "True");
    reason = ready ? "Running" : "NotReady";
  }
  if (pod.metadata.deletionTimestamp !== undefined)
    reason = pod.status?.reason === "NodeLost" ? "Unknown" : "Terminating";
  const restartText =
    restarts !== 0 && lastRestart > 0
      ? `${restarts} (${since(new Date(lastRestart).toISOString())} ago)`
      : String(restarts);
  return { ready: `${readyCount}/${containers.length}`, status: reason, restarts: restartText };
}

const POD: Column[] = [
  nameCol,
  {
    name: "Ready",
    type: "string",
    description: "The aggregate readiness state of this pod for accepting traffic.",
    cell: (o) => podSummary(o).ready,
  },
  {
    name: "Status",
    type: "string",
    description: "The aggregate status of the containers in this pod.",
    cell: (o) => podSummary(o).status,
  },
  {
    name: "Restarts",
    type: "string",
    description:
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    cell: (o) => podSummary(o).restarts,
  },
  ageCol,
  {
    name: "IP",
    type: "string",
    priority: 1,
    description: "podIP is the IP address allocated to the pod.",
    cell: (o) => orNone(o.status?.podIP ?? ""),
  },
  {
    name: "Node",
    type: "string",
    priority: 1,
    description: "NodeName indicates in which node this pod is scheduled.",
    cell: (o) => orNone(o.spec?.nodeName ?? ""),
  },
];

function nodeStatus(o: KubeObject): string {
  const ready = (o.status?.conditions ?? []).find((c: Json) => c.type === "Ready");
  const parts = [ready === undefined ? "Unknown" : ready.status === "True" ? "Ready" : "NotReady"];
  if (o.spec?.unschedulable === true) parts.push("SchedulingDisabled");
  return parts.join(",");
}

/** findNodeRoles: node-role.kubernetes.io/<role> labels and the legacy kubernetes.io/role label. */
function nodeRoles(o: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/") && k.length > "node-role.kubernetes.io/".length)
      roles.add(k.slice("node-role.kubernetes.io/".length));
    else if (k === "kubernetes.io/role" && v !== "") roles.add(v);
  }
  return orNone([...roles].sort().join(","));
}

const address = (o: KubeObject, type: string): string =>
  orNone((o.status?.addresses ?? []).find((a: Json) => a.type === type)?.address ?? "");

const NODE: Column[] = [
  nameCol,
  { name: "Status", type: "string", description: "The status of the node", cell: nodeStatus },
  { name: "Roles", type: "string", description: "The roles of the node", cell: nodeRoles },
  ageCol,
  {
    name: "Version",
    type: "string",
    description: "Kubelet Version reported by the node.",
    cell: (o) => o.status?.nodeInfo?.kubeletVersion ?? "",
  },
  {
    name: "Internal-IP",
    type: "string",
    priority: 1,
    description: "List of addresses reachable to the node.",
    cell: (o) => address(o, "InternalIP"),
  },
  {
    name: "External-IP",
    type: "string",
    priority: 1,
    description: "List of addresses reachable to the node.",
    cell: (o) => address(o, "ExternalIP"),
  },
  {
    name: "OS-Image",
    type: "string",
    priority: 1,
    description: "OS Image reported by the node.",
    cell: (o) => o.status?.nodeInfo?.osImage || "<unknown>",
  },
  {
    name: "Kernel-Version",
    type: "string",
    priority: 1,
    description: "Kernel Version reported by the node.",
    cell: (o) => o.status?.nodeInfo?.kernelVersion || "<unknown>",
  },
  {
    name: "Container-Runtime",
    type: "string",
    priority: 1,
    description: "ContainerRuntime Version reported by the node.",
    cell: (o) => o.status?.nodeInfo?.containerRuntimeVersion || "<unknown>",
  },
];

/** getServiceExternalIP + makePortString. */
function serviceExternalIP(o: KubeObject): string {
  const spec: Json = o.spec ?? {};
  if (spec.type === "ExternalName") return spec.externalName ?? "<none>";
  const lb: string[] = ((o.status?.loadBalancer?.ingress ?? []) as Json[])
    .map((i) => i.ip || i.hostname)
    .filter(Boolean);
  const ips: string[] = [...(spec.externalIPs ?? []), ...(spec.type === "LoadBalancer" ? lb : [])];
  if (ips.length > 0) return ips.join(",");
  return spec.type === "LoadBalancer" ? "<pending>" : "<none>";
}

const servicePorts = (o: KubeObject): string =>
  orNone(
    ((o.spec?.ports ?? []) as Json[])
      .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? "TCP"}` : `${p.port}/${p.protocol ?? "TCP"}`))
      .join(","),
  );

const SERVICE: Column[] = [
  nameCol,
  {
    name: "Type",
    type: "string",
    description: "type determines how the Service is exposed.",
    cell: (o) => o.spec?.type ?? "",
  },
  {
    name: "Cluster-IP",
    type: "string",
    description: "clusterIP is the IP address of the service.",
    cell: (o) => orNone(o.spec?.clusterIP ?? ""),
  },
  {
    name: "External-IP",
    type: "string",
    description:
      "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    cell: serviceExternalIP,
  },
  {
    name: "Port(s)",
    type: "string",
    description: "The list of ports that are exposed by this service.",
    cell: servicePorts,
  },
  ageCol,
  {
    name: "Selector",
    type: "string",
    priority: 1,
    description: "Route service traffic to pods with label keys and values matching this selector.",
    cell: (o) => labelsString(o.spec?.selector),
  },
];

/** printEvent: last seen from series, lastTimestamp or eventTime; object as kind/name in lower case. */
function eventLastSeen(o: KubeObject): string {
  if (o.series?.lastObservedTime) return since(o.series.lastObservedTime);
  if (o.lastTimestamp) return since(o.lastTimestamp);
  return since(o.eventTime);
}

const EVENT: Column[] = [
  {
    name: "Last Seen",
    type: "string",
    description: "The time at which the most recent occurrence of this event was recorded.",
    cell: eventLastSeen,
  },
  {
    name: "Type",
    type: "string",
    description: "Type of this event (Normal, Warning), new types could be added in the future",
    cell: (o) => o.type ?? "",
  },
  {
    name: "Reason",
    type: "string",
    description:
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    cell: (o) => o.reason ?? "",
  },
  {
    name: "Object",
    type: "string",
    description: "The object that this event is about.",
    cell: (o) => `${String(o.involvedObject?.kind ?? "").toLowerCase()}/${o.involvedObject?.name ?? ""}`,
  },
  {
    name: "Subobject",
    type: "string",
    priority: 1,
    description: "The field path of the object the event is about.",
    cell: (o) => o.involvedObject?.fieldPath ?? "",
  },
  {
    name: "Source",
    type: "string",
    priority: 1,
    description: "The component reporting this event.",
    cell: (o) => [o.source?.component || o.reportingComponent, o.source?.host].filter(Boolean).join(", "),
  },
  {
    name: "Message",
    type: "string",
    description: "A human-readable description of the status of this operation.",
    cell: (o) => o.message ?? "",
  },
  {
    name: "First Seen",
    type: "string",
    priority: 1,
    description: "The time at which the event was first recorded.",
    cell: (o) => since(o.firstTimestamp ?? o.eventTime),
  },
  {
    name: "Count",
    type: "string",
    priority: 1,
    description: "The number of times this event has occurred.",
    cell: (o) => String(o.series?.count ?? o.count ?? 1),
  },
  { ...nameCol, priority: 1 },
];

const containerNames = (o: KubeObject): string =>
  ((o.spec?.template?.spec?.containers ?? []) as Json[]).map((c) => c.name).join(",");
const containerImages = (o: KubeObject): string =>
  ((o.spec?.template?.spec?.containers ?? []) as Json[]).map((c) => c.image).join(",");
const selectorString = (o: KubeObject): string => labelsString(o.spec?.selector?.matchLabels);
const templateCols: Column[] = [
  {
    name: "Containers",
    type: "string",
    priority: 1,
    description: "Names of each container in the template.",
    cell: containerNames,
  },
  {
    name: "Images",
    type: "string",
    priority: 1,
    description: "Images referenced by each container in the template.",
    cell: containerImages,
  },
  { name: "Selector", type: "string", priority: 1, description: "Label selector for pods.", cell: selectorString },
];
const desired = (o: KubeObject): number => Number(o.spec?.replicas ?? 1);

const DEPLOYMENT: Column[] = [
  nameCol,
  {
    name: "Ready",
    type: "string",
    description: "Number of the pod with ready state",
    cell: (o) => `${o.status?.readyReplicas ?? 0}/${desired(o)}`,
  },
  {
    name: "Up-to-date",
    type: "integer",
    description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    cell: (o) => o.status?.updatedReplicas ?? 0,
  },
  {
    name: "Available",
    type: "integer",
    description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    cell: (o) => o.status?.availableReplicas ?? 0,
  },
  ageCol,
  ...templateCols,
];

const REPLICASET: Column[] = [
  nameCol,
  { name: "Desired", type: "integer", description: "Replicas is the number of desired pods.", cell: desired },
  {
    name: "Current",
    type: "integer",
    description: "Replicas is the most recently observed number of replicas.",
    cell: (o) => o.status?.replicas ?? 0,
  },
  {
    name: "Ready",
    type: "integer",
    description: "The number of ready replicas for this replica set.",
    cell: (o) => o.status?.readyReplicas ?? 0,
  },
  ageCol,
  ...templateCols,
];

const dataCount = (o: KubeObject): number => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length;

const COLUMNS: Record<string, Column[]> = {
  pods: POD,
  nodes: NODE,
  services: SERVICE,
  events: EVENT,
  "apps/deployments": DEPLOYMENT,
  "apps/replicasets": REPLICASET,
  namespaces: [
    nameCol,
    { name: "Status", type: "string", description: "The status of the namespace", cell: (o) => o.status?.phase ?? "" },
    ageCol,
  ],
  secrets: [
    nameCol,
    {
      name: "Type",
      type: "string",
      description: "Used to facilitate programmatic handling of secret data.",
      cell: (o) => o.type ?? "",
    },
    { name: "Data", type: "integer", description: "Data contains the secret data.", cell: dataCount },
    ageCol,
  ],
  configmaps: [
    nameCol,
    { name: "Data", type: "integer", description: "Data contains the configuration data.", cell: dataCount },
    ageCol,
  ],
};

export function columnsFor(resourceKey: string): Column[] {
  return COLUMNS[resourceKey] ?? [nameCol, ageCol];
}
