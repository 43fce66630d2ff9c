/** In-process test controls (never reachable over HTTP). */
import { randomUUID } from "node:crypto";
import { issueToken, type IssueTokenInput } from "./handlers/token-request.ts";
import { restartedStatus, runningStatus } from "./fake-kubelet.ts";
import { forceRemovePod } from "./pod-deletion.ts";
import { RESOURCES } from "./resources.ts";
import { rulesAuthorizer, type AccessRule } from "./rules-authorizer.ts";
import type { EmulatorState, FailRule, RequestRecord } from "./state.ts";
import type { TrafficSnapshot } from "./traffic.ts";
import type { Authorizer, KubeObject } from "./types.ts";
import { nowTime } from "./validation.ts";

export interface FailNextRule {
  method?: string;
  /** Substring of (or RegExp tested against) the request path + query. */
  pathPattern: string | RegExp;
  status: number;
  /** How many matching requests fail; default 1. */
  count?: number;
  retryAfterSeconds?: number;
}

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";

export interface KubernetesControl {
  /** Ends every open watch stream: abruptly (socket destroyed) by default, or cleanly like a server timeout. */
  dropWatches(opts?: { clean?: boolean }): number;
  /** Forgets the change history: watching from any older resourceVersion now yields ERROR 410 Expired. */
  compact(): void;
  failNext(rule: FailNextRule): void;
  clearFailures(): void;
  /** Holds incoming HTTP requests until resume(). Controls keep working. */
  pause(): void;
  resume(): void;
  setPodPhase(namespace: string, name: string, phase: PodPhase): KubeObject;
  /** A container restart as the kubelet reports it: restartCount + 1, lastState.terminated (default: first container, exit 1). */
  restartContainer(namespace: string, name: string, opts?: { container?: string; exitCode?: number }): KubeObject;
  /** Removes a pod at once: no deletion mark, just DELETED. */
  forceDeletePod(namespace: string, name: string): boolean;
  /** Store access; `resource` is a plural ("pods") or "group/plural" ("coordination.k8s.io/leases"). */
  get(resource: string, namespace: string, name: string): KubeObject | undefined;
  list(resource: string, namespace?: string): KubeObject[];
  /** Creates or replaces an object directly (fills uid/creationTimestamp when new); emits watch events. */
  put(resource: string, object: KubeObject): KubeObject;
  remove(resource: string, namespace: string, name: string): KubeObject | undefined;
  /** Replaces the authorizer for non-admin users (undefined → allow everything, the default). */
  setAuthorizer(fn: Authorizer | undefined): void;
  /** Installs a rules table: non-admin requests are allowed only when a rule matches. */
  setRules(rules: AccessRule[]): void;
  /** Sends a BOOKMARK now on every watch that allowed bookmarks. */
  sendBookmarks(): void;
  /** Issues a service-account token as TokenRequest would (throws ApiError on the same conditions). */
  issueToken(input: IssueTokenInput): string;
  currentResourceVersion(): string;
  openWatches(): number;
  /** Requests and response-body bytes so far, per user, watch streams apart. */
  traffic(): TrafficSnapshot;
  readonly requests: RequestRecord[];
  readonly internalErrors: unknown[];
}

function resolveKey(resource: string): string {
  const exact = RESOURCES.find((r) => r.key === resource);
  const byPlural = RESOURCES.find((r) => r.plural === resource);
  const found = exact ?? byPlural;
  if (found === undefined || found.virtual === true)
    throw new Error(`kubernetes emulator: unknown resource ${resource}`);
  return found.key;
}

export function createControl(state: EmulatorState): KubernetesControl {
  return {
    dropWatches(opts) {
      const open = [...state.watches];
      for (const w of open) w.end(opts?.clean !== true);
      return open.length;
    },
    compact: () => state.store.compact(),
    failNext(rule) {
      const r: FailRule = { pathPattern: rule.pathPattern, status: rule.status, count: rule.count ?? 1 };
      if (rule.method !== undefined) r.method = rule.method;
      if (rule.retryAfterSeconds !== undefined) r.retryAfterSeconds = rule.retryAfterSeconds;
      state.failRules.push(r);
    },
    clearFailures: () => void state.failRules.splice(0),
    pause: () => state.pause(),
    resume: () => state.resume(),
    setPodPhase(namespace, name, phase) {
      const pod = state.store.get("pods", namespace, name);
      if (pod === undefined) throw new Error(`kubernetes emulator: pod ${namespace}/${name} not found`);
      if (phase === "Running") pod.status = runningStatus(pod, pod.status?.podIP ?? "10.244.9.9");
      else if (phase === "Succeeded" || phase === "Failed") {
        const code = phase === "Succeeded" ? 0 : 1;
        pod.status = {
          ...pod.status,
          phase,
          conditions: (pod.status?.conditions ?? []).map((c: { type: string }) =>
            c.type === "Ready" || c.type === "ContainersReady" ? { ...c, status: "False" } : c,
          ),
          containerStatuses: ((pod.spec?.containers ?? []) as { name: string; image: string }[]).map((c) => ({
            name: c.name,
            image: c.image,
            ready: false,
            restartCount: 0,
            started: false,
            state: {
              terminated: {
                exitCode: code,
                reason: phase === "Succeeded" ? "Completed" : "Error",
                startedAt: nowTime(),
                finishedAt: nowTime(),
              },
            },
          })),
        };
      } else pod.status = { ...pod.status, phase };
      return state.store.put("pods", pod);
    },
    restartContainer(namespace, name, opts) {
      const pod = state.store.get("pods", namespace, name);
      if (pod === undefined) throw new Error(`kubernetes emulator: pod ${namespace}/${name} not found`);
      pod.status = restartedStatus(pod, opts?.container, opts?.exitCode ?? 1);
      return state.store.put("pods", pod);
    },
    forceDeletePod: (namespace, name) => forceRemovePod(state, namespace, name) !== undefined,
    get: (resource, namespace, name) => state.store.get(resolveKey(resource), namespace, name),
    list: (resource, namespace) => state.store.list(resolveKey(resource), namespace),
    put(resource, object) {
      const key = resolveKey(resource);
      const def = RESOURCES.find((r) => r.key === key);
      const copy: KubeObject = JSON.parse(JSON.stringify(object)) as KubeObject;
      copy.metadata ??= {};
      if (def !== undefined) {
        copy.kind ??= def.kind;
        copy.apiVersion ??= def.group === "" ? def.version : `${def.group}/${def.version}`;
      }
      const existing = state.store.get(key, copy.metadata.namespace ?? "", copy.metadata.name ?? "");
      copy.metadata.uid ??= existing?.metadata.uid ?? randomUUID();
      copy.metadata.creationTimestamp ??= existing?.metadata.creationTimestamp ?? nowTime();
      return state.store.put(key, copy);
    },
    remove: (resource, namespace, name) => state.store.remove(resolveKey(resource), namespace, name),
    setAuthorizer(fn) {
      state.authorizer = fn ?? (() => ({ allowed: true }));
    },
    setRules(rules) {
      state.authorizer = rulesAuthorizer(rules);
    },
    sendBookmarks() {
      for (const w of state.watches) w.bookmark();
    },
    issueToken: (input) => issueToken({ state }, input).token,
    currentResourceVersion: () => String(state.store.currentRv()),
    openWatches: () => state.watches.size,
    traffic: () => state.traffic.snapshot(),
    requests: state.requests,
    internalErrors: state.internalErrors,
  };
}
