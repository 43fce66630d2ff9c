import type { V1Pod } from "@kubernetes/client-node";
import type { PodIndex } from "../index/pod-index.ts";
import type { JobProducer } from "../jobs/producer.ts";
import type { IssueJob } from "../jobs/job-types.ts";
import { isOptedIn } from "./pod-contract.ts";
import { isTerminal, podRef } from "./pod-state.ts";

export type PodEventType = "ADDED" | "MODIFIED" | "DELETED";

export type RouteResult =
  | { action: "issue"; jobId: string }
  | { action: "revoke"; jobId: string }
  | { action: "ignored"; why: "not-opted-in" | "already-issued" | "terminating" | "not-tracked" | "no-identity" | "namespace" };

/**
 * The one place where a pod event becomes jobs; the watcher and the CloudEvents endpoint
 * both call it, so they cannot drift apart.
 */
export class PodEventRouter {
  constructor(
    private readonly producer: JobProducer,
    private readonly index: PodIndex,
    private readonly namespaces: readonly string[],
  ) {}

  async route(type: PodEventType, pod: V1Pod, source: IssueJob["source"]): Promise<RouteResult> {
    const ref = podRef(pod);
    if (!ref) return { action: "ignored", why: "no-identity" };
    if (this.namespaces.length > 0 && !this.namespaces.includes(ref.namespace)) return { action: "ignored", why: "namespace" };
    const optedIn = isOptedIn(pod);
    if (type === "DELETED" || isTerminal(pod)) {
      if (!optedIn && !(await this.index.has(ref.uid))) return { action: "ignored", why: "not-tracked" };
      const reason = type === "DELETED" ? "pod deleted" : `pod ${pod.status?.phase ?? "terminal"}`;
      return { action: "revoke", jobId: await this.producer.revoke({ ...ref, source, reason }) };
    }
    if (!optedIn) return { action: "ignored", why: "not-opted-in" };
    if (pod.metadata?.deletionTimestamp) return { action: "ignored", why: "terminating" };
    const record = await this.index.get(ref.uid);
    if (record && record.state !== "issuing") return { action: "ignored", why: "already-issued" };
    return { action: "issue", jobId: await this.producer.issue({ ...ref, source }) };
  }
}
