import type { V1Pod } from "@kubernetes/client-node";
import type { PodIndex } from "../index/pod-index.ts";
import type { JobProducer } from "../jobs/producer.ts";
import type { IssueJob } from "../jobs/job-types.ts";
import { wantsCredentials } from "./read-contract.ts";
import { isTerminal, podRef } from "./pod-state.ts";
import { podVersion } from "./pod-version.ts";

export type PodEventType = "ADDED" | "MODIFIED" | "DELETED";

export type RouteResult =
  | { action: "issue"; jobId: string }
  | { action: "revoke"; jobId: string }
  | {
      action: "ignored";
      why:
        | "not-opted-in"
        | "already-issued"
        | "already-queued"
        | "terminating"
        | "not-tracked"
        | "no-identity"
        | "namespace";
    };

/**
 * The one place where a pod event becomes jobs; the watcher and the CloudEvents endpoint
 * both call it, so they cannot drift apart.
 */
export class PodEventRouter {
  /**
   * uid -> when an issue job was last enqueued here, and for which pod version: status updates of a
   * starting pod need no second look, a changed request does.
   */
  readonly #recentIssues = new Map<string, { at: number; version: string }>();
  readonly #recentMs: number;

  constructor(
    private readonly producer: JobProducer,
    private readonly index: PodIndex,
    private readonly namespaces: readonly string[],
    recentMs = 2_000,
    /** Also act on vault.hashicorp.com/* annotations (LEASEKEEPER_VAULT_ANNOTATIONS). */
    private readonly vaultAnnotations = false,
  ) {
    this.#recentMs = recentMs;
  }

  #seenRecently(uid: string, version: string): boolean {
    const seen = this.#recentIssues.get(uid);
    return seen !== undefined && seen.version === version && Date.now() - seen.at < this.#recentMs;
  }

  #remember(uid: string, version: string): void {
    if (this.#recentIssues.size >= 50_000) {
      const cutoff = Date.now() - this.#recentMs;
      for (const [key, seen] of this.#recentIssues) if (seen.at < cutoff) this.#recentIssues.delete(key);
      if (this.#recentIssues.size >= 50_000) this.#recentIssues.clear();
    }
    this.#recentIssues.set(uid, { at: Date.now(), version });
  }

  async route(type: PodEventType, pod: V1Pod, source: IssueJob["source"]): Promise<RouteResult> {
    const ref = podRef(pod);
    if (!ref) return { action: "ignored", why: "no-identity" };
    if (this.namespaces.length > 0 && !this.namespaces.includes(ref.namespace))
      return { action: "ignored", why: "namespace" };
    const optedIn = wantsCredentials(pod, { vaultAnnotations: this.vaultAnnotations });
    if (type === "DELETED" || isTerminal(pod)) {
      this.#recentIssues.delete(ref.uid);
      if (!optedIn && !(await this.index.has(ref.uid))) return { action: "ignored", why: "not-tracked" };
      const reason = type === "DELETED" ? "pod deleted" : `pod ${pod.status?.phase ?? "terminal"}`;
      return { action: "revoke", jobId: (await this.producer.revoke({ ...ref, source, reason })).id };
    }
    if (!optedIn) return { action: "ignored", why: "not-opted-in" };
    if (pod.metadata?.deletionTimestamp) return { action: "ignored", why: "terminating" };
    // Duplicates collapse anyway (deterministic job id); this only saves the round trips.
    const version = podVersion(pod);
    if (this.#seenRecently(ref.uid, version)) return { action: "ignored", why: "already-queued" };
    const record = await this.index.get(ref.uid);
    if (record && record.state !== "issuing") return { action: "ignored", why: "already-issued" };
    // The version lets the producer run a job waiting out a failure backoff at once when the pod changed.
    const { id: jobId } = await this.producer.issue({ ...ref, source, podVersion: version });
    this.#remember(ref.uid, version);
    return { action: "issue", jobId };
  }
}
