/**
 * The benchmark's pods: created and deleted through the Kubernetes API as a burst or paced, and
 * what is seen of them: Secret ADDED (issued) and lease revoked in Vault after the pod's DELETED.
 */
import { KubeConfig, Watch } from "@kubernetes/client-node";
import type { Stack } from "../../test/helpers/stack.ts";
import { limit, sleep, waitFor } from "./probes.ts";

const NS = "default";

/** How long a burst of `n` pods may take: 10 minutes, or 0.1 s a pod beyond 6,000. */
const waitLimitMs = (n: number) => Math.max(600_000, n * 100);

/**
 * How often to look: each look walks every pod (and every lease in Vault) in this process, which
 * also runs the emulators, so at 10,000 pods a 50 ms poll would starve them.
 */
const pollMs = (n: number) => Math.min(1000, Math.max(50, n / 20));

export class PodTracker {
  private readonly secretSeen = new Map<string, number>();
  private readonly podDeleted = new Map<string, number>();
  private readonly created = new Map<string, number>();
  private readonly uidOf = new Map<string, string>();
  private readonly leaseOf = new Map<string, string>();
  private readonly aborts: Array<{ abort(): void }> = [];

  constructor(private readonly stack: Stack) {}

  async start(): Promise<void> {
    const kc = new KubeConfig();
    kc.loadFromFile(this.stack.kubeconfigPath);
    const watch = new Watch(kc);
    const done = () => undefined;
    this.aborts.push(
      await watch.watch(
        `/api/v1/namespaces/${NS}/secrets`,
        {},
        (type, obj: { metadata?: { name?: string } }) => {
          const name = obj.metadata?.name ?? "";
          if (type === "ADDED" && !this.secretSeen.has(name)) this.secretSeen.set(name, performance.now());
        },
        done,
      ),
      await watch.watch(
        `/api/v1/namespaces/${NS}/pods`,
        {},
        (type, obj: { metadata?: { uid?: string } }) => {
          if (type === "DELETED") this.podDeleted.set(obj.metadata?.uid ?? "", performance.now());
        },
        done,
      ),
    );
  }

  stop(): void {
    for (const a of this.aborts) a.abort();
  }

  /** Creates every pod at once (100 requests in flight), opted in to database credentials. */
  async create(names: readonly string[]): Promise<void> {
    await limit(names, 100, async (name) => {
      const pod = await this.stack.core.createNamespacedPod({
        namespace: NS,
        body: {
          metadata: {
            name,
            annotations: {
              "leasekeeper.io/role": "postgres",
              "leasekeeper.io/secret-creds.json": "database/creds/postgres-role",
            },
          },
          spec: { serviceAccountName: "postgres-vault", containers: [{ name: "app", image: "busybox" }] },
        },
      });
      this.created.set(name, performance.now());
      this.uidOf.set(name, pod.metadata?.uid ?? "");
    });
  }

  /** Waits for every pod's Secret; returns pod created → Secret ADDED per pod (ms) and the last ADDED. */
  async issued(names: readonly string[]): Promise<{ latencies: number[]; last: number }> {
    const secret = (n: string) => `${n}-leasekeeper`;
    await waitFor(
      `Secrets of ${names.length} pods`,
      async () => names.every((n) => this.secretSeen.has(secret(n))),
      waitLimitMs(names.length),
      pollMs(names.length),
    );
    // Lease ids, while the Secrets exist (the garbage collector removes them with their pod).
    const secrets = await this.stack.core.listNamespacedSecret({
      namespace: NS,
      labelSelector: "leasekeeper.io/managed=true",
    });
    for (const s of secrets.items) {
      const uid = s.metadata?.labels?.["leasekeeper.io/pod-uid"] ?? "";
      const ids = JSON.parse(s.metadata?.annotations?.["leasekeeper.io/lease-ids"] ?? "[]") as Array<{ id: string }>;
      if (ids[0]) this.leaseOf.set(uid, ids[0].id);
    }
    const seen = names.map((n) => this.secretSeen.get(secret(n)) ?? NaN);
    return { latencies: names.map((n, i) => (seen[i] ?? NaN) - (this.created.get(n) ?? NaN)), last: Math.max(...seen) };
  }

  /** Deletes every pod at once (grace 0, 100 requests in flight). */
  async deleteAll(names: readonly string[]): Promise<void> {
    await limit(names, 100, async (name) => {
      await this.stack.core.deleteNamespacedPod({ namespace: NS, name, gracePeriodSeconds: 0 });
    });
  }

  /** Deletes the pods one by one, `perSecond` a second. */
  async deletePaced(names: readonly string[], perSecond: number): Promise<void> {
    for (const name of names) {
      await this.stack.core.deleteNamespacedPod({ namespace: NS, name, gracePeriodSeconds: 0 });
      await sleep(1000 / perSecond);
    }
  }

  /** Waits until every pod's lease is revoked in Vault; returns pod DELETED → lease revoked per pod (ms). */
  async revoked(names: readonly string[]): Promise<number[]> {
    const ids = names.map((n) => this.leaseOf.get(this.uidOf.get(n) ?? "")).filter((id) => id !== undefined);
    let revokedAt = new Map<string, number>();
    await waitFor(
      `revocation of ${ids.length} leases`,
      async () => {
        revokedAt = new Map(
          this.stack.vault.control
            .leases()
            .filter((l) => l.revoked && l.revokedAt)
            .map((l) => [l.id, l.revokedAt?.getTime() ?? 0]),
        );
        return ids.every((id) => revokedAt.has(id));
      },
      waitLimitMs(names.length),
      pollMs(names.length),
    );
    // Vault's revokedAt is wall-clock; the DELETED times are performance.now(): both as epoch ms.
    const epoch = performance.timeOrigin;
    return names
      .map((n) => {
        const uid = this.uidOf.get(n) ?? "";
        return (revokedAt.get(this.leaseOf.get(uid) ?? "") ?? NaN) - (epoch + (this.podDeleted.get(uid) ?? NaN));
      })
      .filter((v) => Number.isFinite(v));
  }
}
