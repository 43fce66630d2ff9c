/** The seeded pod churn: opted-in pods created, deleted gracefully, force-deleted, finishing Succeeded/Failed. */
import type { V1Pod } from "@kubernetes/client-node";
import { opted } from "../e2e/harness.ts";
import type { Stack } from "../helpers/stack.ts";
import type { Size } from "./config.ts";
import { Rng } from "./rng.ts";
import { NAMESPACE, POD_PREFIX, secretNameOf } from "./truth.ts";

export interface ChurnCounts {
  created: number;
  deleted: number;
  forceDeleted: number;
  succeeded: number;
  failed: number;
  apiRetries: number;
}

/** An opted-in pod mounting its Secret as the admission webhook adds it (test/e2e/kubelet-propagation.test.ts). */
function mounting(name: string): V1Pod {
  const pod = opted(name) as V1Pod;
  const volume = {
    name: "leasekeeper-secrets",
    secret: { secretName: secretNameOf(name), items: [{ key: "creds.json", path: "creds.json" }] },
  };
  pod.spec = {
    ...pod.spec,
    containers: (pod.spec?.containers ?? []).map((c) => ({
      ...c,
      volumeMounts: [{ name: volume.name, mountPath: "/vault/secrets", readOnly: true }],
    })),
    volumes: [volume],
  };
  return pod;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Workload {
  readonly counts: ChurnCounts = { created: 0, deleted: 0, forceDeleted: 0, succeeded: 0, failed: 0, apiRetries: 0 };
  private next = 0;
  private stopped = false;
  private readonly rng: Rng;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly stack: Stack,
    private readonly size: Size,
    seed: number,
    private readonly tag: string,
  ) {
    this.rng = new Rng((seed ^ 0x5bd1e995) >>> 0);
  }

  /** Like a controller: retries API calls the API server refused for a while (429 / 5xx faults). */
  private async api(what: () => Promise<unknown>): Promise<void> {
    for (let i = 0; i < 60 && !this.stopped; i++) {
      try {
        await what();
        return;
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code === 404 || code === 409) return;
        this.counts.apiRetries++;
        await sleep(500);
      }
    }
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private live(): { name: string; running: boolean }[] {
    return this.stack.kube.control
      .list("pods", NAMESPACE)
      .filter(
        (p) =>
          (p.metadata.name ?? "").startsWith(POD_PREFIX) &&
          p.metadata.deletionTimestamp === undefined &&
          p.status?.phase !== "Succeeded" &&
          p.status?.phase !== "Failed",
      )
      .map((p) => ({ name: p.metadata.name ?? "", running: p.status?.phase === "Running" }));
  }

  create(): void {
    const name = `${POD_PREFIX}${this.tag}-${this.next++}`;
    this.counts.created++;
    this.track(this.api(() => this.stack.core.createNamespacedPod({ namespace: NAMESPACE, body: mounting(name) })));
  }

  /** Starts the initial pods. */
  seed(): void {
    for (let i = 0; i < this.size.minPods; i++) this.create();
  }

  /** One churn action chosen by the seed. */
  step(): void {
    const live = this.live();
    const running = live.filter((p) => p.running);
    const roll = this.rng.next();
    if (live.length < this.size.minPods || (live.length < this.size.maxPods && roll < 0.4)) return this.create();
    const victim = running.length > 0 ? this.rng.pick(running) : undefined;
    if (!victim) return;
    const ns = NAMESPACE;
    if (roll < 0.6) {
      this.counts.deleted++;
      this.track(this.api(() => this.stack.core.deleteNamespacedPod({ namespace: ns, name: victim.name })));
    } else if (roll < 0.75) {
      this.counts.forceDeleted++;
      this.track(
        this.api(() =>
          this.stack.core.deleteNamespacedPod({ namespace: ns, name: victim.name, gracePeriodSeconds: 0 }),
        ),
      );
    } else {
      // The kubelet reports the container finished; the pod object stays a while (like a Job's pod), then goes.
      const phase = roll < 0.9 ? "Succeeded" : "Failed";
      if (phase === "Succeeded") this.counts.succeeded++;
      else this.counts.failed++;
      this.stack.kube.control.setPodPhase(ns, victim.name, phase);
      const later = sleep(this.rng.int(3000, 10_000)).then(() =>
        this.api(() => this.stack.core.deleteNamespacedPod({ namespace: ns, name: victim.name })),
      );
      this.track(later);
    }
  }

  async run(untilMs: number): Promise<void> {
    while (!this.stopped && Date.now() < untilMs) {
      await sleep(this.rng.int(Math.round(this.size.churnEveryMs / 2), Math.round(this.size.churnEveryMs * 1.5)));
      if (Date.now() < untilMs) this.step();
    }
  }

  /** Lets actions in flight (a finished pod's later delete) complete. */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Ctrl-C: gives up retries at once. */
  abort(): void {
    this.stopped = true;
  }
}
