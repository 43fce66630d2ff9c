/**
 * Kubernetes API emulator for tests: a plain-HTTP server speaking the slice of the API leasekeeper uses
 * (see /work/shared/specs/kubernetes-api.md). Start it, point a kubeconfig at it, drive it with `control`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { seedCluster } from "./cluster-seed.ts";
import { createControl, type KubernetesControl } from "./controls.ts";
import { startFakeKubelet, type FakeKubelet } from "./fake-kubelet.ts";
import { startGarbageCollector } from "./gc.ts";
import { ensureDefaultServiceAccount, makeNamespace } from "./handlers/namespaces.ts";
import { deleteInternal } from "./hooks.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import { startPodReaper } from "./pod-deletion.ts";
import { startWorkloadControllers } from "./workload-controllers.ts";
import { createRequestListener } from "./server.ts";
import { EmulatorState } from "./state.ts";
import type { KubernetesEmulatorOptions } from "./types.ts";

export type { KubernetesControl, FailNextRule, PodPhase } from "./controls.ts";
export { DEFAULT_KUBELET_OPTIONS, type FakeKubelet, type KubeletOptions } from "./fake-kubelet.ts";
export type { AccessRule } from "./rules-authorizer.ts";
export type { TrafficCounts, TrafficSnapshot } from "./traffic.ts";
export type { IssueTokenInput } from "./handlers/token-request.ts";
export type {
  Authorizer,
  AuthzAttributes,
  AuthzDecision,
  KubeObject,
  KubernetesEmulatorOptions,
  UserInfo,
} from "./types.ts";
export { ApiError } from "./status.ts";

export interface KubernetesEmulator {
  /** e.g. http://127.0.0.1:34567 */
  url: string;
  /** Bearer token with full rights (group system:masters). */
  adminToken: string;
  control: KubernetesControl;
  /** The fake kubelet: its Secret-volume sync period, and the files a running pod sees. */
  kubelet: FakeKubelet;
  /** Writes a kubeconfig for this emulator (default: admin token, namespace "default"). */
  writeKubeconfig(path: string, opts?: { token?: string; namespace?: string }): Promise<void>;
  close(): Promise<void>;
}

const INITIAL_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export async function startKubernetesEmulator(opts: KubernetesEmulatorOptions = {}): Promise<KubernetesEmulator> {
  const state = new EmulatorState(opts);
  state.deleteInternal = (resource, obj) => deleteInternal(state, resource, obj);
  for (const ns of INITIAL_NAMESPACES) {
    state.store.put("namespaces", makeNamespace(ns));
    ensureDefaultServiceAccount(state, ns);
  }
  seedCluster(state);
  startGarbageCollector(state);
  startPodReaper(state);
  const kubelet = startFakeKubelet(state);
  if (state.options.workloadControllers) startWorkloadControllers(state);

  const server = createServer(createRequestListener(state));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;

  return {
    url: state.url,
    adminToken: state.adminToken,
    control: createControl(state),
    kubelet,
    writeKubeconfig: (path, o) =>
      writeKubeconfig(path, state.url, o?.token ?? state.adminToken, o?.namespace ?? "default"),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        state.shutdown();
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
