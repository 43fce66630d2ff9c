/** Fake scheduler + kubelet: Pending → scheduled → Running, only once every Secret volume exists (spec §7.4). */
import type { EmulatorState } from "./state.ts";
import type { Json, KubeObject } from "./types.ts";
import { nowTime } from "./validation.ts";

export const NODE_NAME = "emulator-node";
export const NODE_UID = "6d0f4a1e-2b1c-4c7e-9a43-0e1f5c6b7a01";
export const HOST_IP = "10.0.0.10";

function missingSecrets(state: EmulatorState, pod: KubeObject): string[] {
  const ns = pod.metadata.namespace ?? "";
  const volumes: Json[] = pod.spec?.volumes ?? [];
  const names: string[] = [];
  for (const v of volumes) {
    if (v.secret !== undefined && v.secret.optional !== true && typeof v.secret.secretName === "string") names.push(v.secret.secretName);
    for (const src of v.projected?.sources ?? []) {
      if (src.secret !== undefined && src.secret.optional !== true && typeof src.secret.name === "string") names.push(src.secret.name);
    }
  }
  return names.filter((n) => state.store.get("secrets", ns, n) === undefined);
}

function condition(type: string, status: string): Json {
  return { type, status, lastProbeTime: null, lastTransitionTime: nowTime() };
}

export function runningStatus(pod: KubeObject, podIP: string): Json {
  const containers: Json[] = pod.spec?.containers ?? [];
  return {
    ...pod.status,
    phase: "Running",
    conditions: [condition("PodReadyToStartContainers", "True"), condition("Initialized", "True"), condition("Ready", "True"),
      condition("ContainersReady", "True"), condition("PodScheduled", "True")],
    hostIP: HOST_IP,
    hostIPs: [{ ip: HOST_IP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: pod.status?.startTime ?? nowTime(),
    containerStatuses: containers.map((c) => ({
      name: c.name, ready: true, restartCount: 0, started: true, image: c.image, imageID: `${String(c.image)}@sha256:${"0".repeat(64)}`,
      containerID: `containerd://${"c".repeat(64)}`, state: { running: { startedAt: nowTime() } }, lastState: {},
    })),
  };
}

function waitingStatus(pod: KubeObject): Json {
  const containers: Json[] = pod.spec?.containers ?? [];
  return {
    ...pod.status,
    phase: "Pending",
    conditions: [condition("PodReadyToStartContainers", "False"), condition("Initialized", "True"), condition("Ready", "False"),
      condition("ContainersReady", "False"), condition("PodScheduled", "True")],
    hostIP: HOST_IP,
    hostIPs: [{ ip: HOST_IP }],
    startTime: pod.status?.startTime ?? nowTime(),
    containerStatuses: containers.map((c) => ({
      name: c.name, ready: false, restartCount: 0, started: false, image: c.image, imageID: "",
      state: { waiting: { reason: "ContainerCreating" } }, lastState: {},
    })),
  };
}

export function startFakeKubelet(state: EmulatorState): void {
  let nextIp = 10;
  const waiting = new Set<string>(); // "ns/name" of pods held in ContainerCreating

  const current = (ns: string, name: string, uid: string): KubeObject | undefined => {
    const pod = state.store.get("pods", ns, name);
    if (pod === undefined || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp !== undefined) return undefined;
    return pod.status?.phase === "Pending" ? pod : undefined;
  };

  const tryStart = (ns: string, name: string, uid: string): void => {
    const pod = current(ns, name, uid);
    if (pod === undefined) return;
    if (missingSecrets(state, pod).length > 0) {
      waiting.add(`${ns}/${name}`);
      if (pod.status?.containerStatuses?.[0]?.state?.waiting === undefined) {
        pod.status = waitingStatus(pod);
        state.store.put("pods", pod);
      }
      return;
    }
    waiting.delete(`${ns}/${name}`);
    pod.status = runningStatus(pod, `10.244.${Math.floor(nextIp / 250)}.${(nextIp % 250) + 2}`);
    nextIp++;
    state.store.put("pods", pod);
  };

  const schedule = (ns: string, name: string, uid: string): void => {
    const pod = current(ns, name, uid);
    if (pod === undefined) return;
    if ((pod.spec?.nodeName ?? "") === "") {
      pod.spec.nodeName = NODE_NAME;
      pod.status = { ...pod.status, conditions: [condition("PodScheduled", "True")] };
      state.store.put("pods", pod);
    }
    state.later(state.options.podStartDelayMs, () => tryStart(ns, name, uid));
  };

  state.store.subscribe((ev) => {
    if (!state.options.autoRunPods) return;
    const m = ev.object.metadata;
    if (ev.resource === "pods" && ev.type === "ADDED") {
      state.later(state.options.podStartDelayMs, () => schedule(m.namespace ?? "", m.name ?? "", m.uid ?? ""));
    } else if (ev.resource === "pods" && ev.type === "DELETED") {
      waiting.delete(`${m.namespace ?? ""}/${m.name ?? ""}`);
    } else if (ev.resource === "secrets" && ev.type === "ADDED") {
      for (const key of [...waiting]) {
        const [ns = "", name = ""] = key.split("/");
        if (ns !== m.namespace) continue;
        const pod = state.store.get("pods", ns, name);
        if (pod !== undefined) state.later(state.options.podStartDelayMs, () => tryStart(ns, name, pod.metadata.uid ?? ""));
      }
    }
  });
}

/**
 * A container restart as the kubelet reports it (kubelet kuberuntime: the previous run moves to
 * lastState.terminated, restartCount + 1, a new running state). Other containers are unchanged.
 */
export function restartedStatus(pod: KubeObject, container: string | undefined, exitCode: number): Json {
  const now = nowTime();
  const statuses: Json[] = pod.status?.containerStatuses ?? [];
  const target = container ?? statuses[0]?.name;
  if (!statuses.some((c) => c.name === target)) throw new Error(`kubernetes emulator: pod ${pod.metadata.name ?? ""} has no status for container ${String(target)}`);
  return {
    ...pod.status,
    containerStatuses: statuses.map((c) => c.name !== target ? c : {
      ...c, restartCount: Number(c.restartCount ?? 0) + 1,
      lastState: { terminated: { exitCode, reason: exitCode === 0 ? "Completed" : "Error", startedAt: c.state?.running?.startedAt ?? now, finishedAt: now,
        containerID: c.containerID } },
      state: { running: { startedAt: now } },
    }),
  };
}
