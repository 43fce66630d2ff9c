/**
 * Fake scheduler + kubelet: Pending → scheduled → Running, only once every Secret volume exists
 * (spec §7.4). Like a real kubelet it also keeps the files a running pod sees in its Secret
 * volumes: written when the container starts, then refreshed only on the kubelet's sync period
 * plus jitter (real kubelets: --sync-frequency 1 min, plus up to 10 s, plus the Secret cache) —
 * never at the moment the Secret changes. `mountedFiles` is what the pod would read.
 */
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
    if (v.secret !== undefined && v.secret.optional !== true && typeof v.secret.secretName === "string")
      names.push(v.secret.secretName);
    for (const src of v.projected?.sources ?? []) {
      if (src.secret !== undefined && src.secret.optional !== true && typeof src.secret.name === "string")
        names.push(src.secret.name);
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
    conditions: [
      condition("PodReadyToStartContainers", "True"),
      condition("Initialized", "True"),
      condition("Ready", "True"),
      condition("ContainersReady", "True"),
      condition("PodScheduled", "True"),
    ],
    hostIP: HOST_IP,
    hostIPs: [{ ip: HOST_IP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: pod.status?.startTime ?? nowTime(),
    containerStatuses: containers.map((c) => ({
      name: c.name,
      ready: true,
      restartCount: 0,
      started: true,
      image: c.image,
      imageID: `${String(c.image)}@sha256:${"0".repeat(64)}`,
      containerID: `containerd://${"c".repeat(64)}`,
      state: { running: { startedAt: nowTime() } },
      lastState: {},
    })),
  };
}

function waitingStatus(pod: KubeObject): Json {
  const containers: Json[] = pod.spec?.containers ?? [];
  return {
    ...pod.status,
    phase: "Pending",
    conditions: [
      condition("PodReadyToStartContainers", "False"),
      condition("Initialized", "True"),
      condition("Ready", "False"),
      condition("ContainersReady", "False"),
      condition("PodScheduled", "True"),
    ],
    hostIP: HOST_IP,
    hostIPs: [{ ip: HOST_IP }],
    startTime: pod.status?.startTime ?? nowTime(),
    containerStatuses: containers.map((c) => ({
      name: c.name,
      ready: false,
      restartCount: 0,
      started: false,
      image: c.image,
      imageID: "",
      state: { waiting: { reason: "ContainerCreating" } },
      lastState: {},
    })),
  };
}

export interface KubeletOptions {
  /** How often the kubelet re-reads a running pod's Secret volumes (its sync period). */
  readonly syncPeriodMs: number;
  /** Up to this much is added to each period (the kubelet's jitter and its cache's delay). */
  readonly jitterMs: number;
}

/** A real kubelet's defaults: sync every 60 s, plus up to 10 s. */
export const DEFAULT_KUBELET_OPTIONS: KubeletOptions = { syncPeriodMs: 60_000, jitterMs: 10_000 };

export interface FakeKubelet {
  configure(options: Partial<KubeletOptions>): void;
  readonly options: KubeletOptions;
  /**
   * The files a running pod sees in its volume(s) of Secret `secretName` (path → content), as of
   * the kubelet's last sync; undefined when the pod does not run or mounts no such Secret.
   */
  mountedFiles(namespace: string, pod: string, secretName: string): Record<string, string> | undefined;
}

interface Mount {
  readonly uid: string;
  /** secret name → path → content */
  readonly files: Map<string, Record<string, string>>;
}

/** The files a Secret volume shows: every key, or only `items` (key → path), decoded. */
function project(secret: KubeObject | undefined, items: Json[] | undefined): Record<string, string> {
  const data: Record<string, string> = secret?.data ?? {};
  const files: Record<string, string> = {};
  const decode = (v: string) => Buffer.from(v, "base64").toString("utf8");
  if (items === undefined || items.length === 0) {
    for (const [key, value] of Object.entries(data)) files[key] = decode(value);
    return files;
  }
  for (const item of items) {
    const value = data[String(item.key)];
    if (value !== undefined) files[String(item.path ?? item.key)] = decode(value);
  }
  return files;
}

function secretVolumes(pod: KubeObject): Array<{ secretName: string; items: Json[] | undefined }> {
  const out: Array<{ secretName: string; items: Json[] | undefined }> = [];
  for (const v of (pod.spec?.volumes ?? []) as Json[]) {
    if (typeof v.secret?.secretName === "string") out.push({ secretName: v.secret.secretName, items: v.secret.items });
    for (const src of v.projected?.sources ?? []) {
      if (typeof src.secret?.name === "string") out.push({ secretName: src.secret.name, items: src.secret.items });
    }
  }
  return out;
}

export function startFakeKubelet(state: EmulatorState): FakeKubelet {
  let nextIp = 10;
  let options: KubeletOptions = DEFAULT_KUBELET_OPTIONS;
  const waiting = new Set<string>(); // "ns/name" of pods held in ContainerCreating
  const mounts = new Map<string, Mount>(); // "ns/name" of running pods → what they see

  /** Writes every Secret volume of the pod as the Secrets are now (container start, or a sync). */
  const sync = (ns: string, name: string, uid: string): void => {
    const pod = state.store.get("pods", ns, name);
    const key = `${ns}/${name}`;
    if (pod === undefined || pod.metadata.uid !== uid || pod.status?.phase !== "Running") {
      if (mounts.get(key)?.uid === uid) mounts.delete(key);
      return;
    }
    const files = new Map<string, Record<string, string>>();
    for (const volume of secretVolumes(pod)) {
      files.set(volume.secretName, {
        ...files.get(volume.secretName),
        ...project(state.store.get("secrets", ns, volume.secretName), volume.items),
      });
    }
    mounts.set(key, { uid, files });
    state.later(options.syncPeriodMs + Math.floor(Math.random() * (options.jitterMs + 1)), () => sync(ns, name, uid));
  };

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
    sync(ns, name, uid);
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
      mounts.delete(`${m.namespace ?? ""}/${m.name ?? ""}`);
    } else if (ev.resource === "secrets" && ev.type === "ADDED") {
      for (const key of [...waiting]) {
        const [ns = "", name = ""] = key.split("/");
        if (ns !== m.namespace) continue;
        const pod = state.store.get("pods", ns, name);
        if (pod !== undefined)
          state.later(state.options.podStartDelayMs, () => tryStart(ns, name, pod.metadata.uid ?? ""));
      }
    }
  });
  return {
    configure(next) {
      options = { ...options, ...next };
    },
    get options() {
      return options;
    },
    mountedFiles(ns, name, secretName) {
      const files = mounts.get(`${ns}/${name}`)?.files.get(secretName);
      return files === undefined ? undefined : { ...files };
    },
  };
}

/**
 * A container restart as the kubelet reports it (kubelet kuberuntime: the previous run moves to
 * lastState.terminated, restartCount + 1, a new running state). Other containers are unchanged.
 */
export function restartedStatus(pod: KubeObject, container: string | undefined, exitCode: number): Json {
  const now = nowTime();
  const statuses: Json[] = pod.status?.containerStatuses ?? [];
  const target = container ?? statuses[0]?.name;
  if (!statuses.some((c) => c.name === target))
    throw new Error(
      `kubernetes emulator: pod ${pod.metadata.name ?? ""} has no status for container ${String(target)}`,
    );
  return {
    ...pod.status,
    containerStatuses: statuses.map((c) =>
      c.name !== target
        ? c
        : {
            ...c,
            restartCount: Number(c.restartCount ?? 0) + 1,
            lastState: {
              terminated: {
                exitCode,
                reason: exitCode === 0 ? "Completed" : "Error",
                startedAt: c.state?.running?.startedAt ?? now,
                finishedAt: now,
                containerID: c.containerID,
              },
            },
            state: { running: { startedAt: now } },
          },
    ),
  };
}
