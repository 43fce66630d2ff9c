import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { kubeStatus } from "../../shared/errors/kube-errors.ts";
import { messageOf } from "../../shared/errors/errors.ts";
import type { Log } from "../../shared/observability/log.ts";
import type { LeaderGate } from "../entry/runnable.ts";

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSeconds: number;
}

/**
 * Active/standby through a coordination.k8s.io Lease, following client-go's algorithm:
 * validity is judged by the local time we last saw the record change, and concurrent
 * candidates race on resourceVersion (409 means someone else won).
 */
export class LeaderElector implements LeaderGate {
  readonly #api: CoordinationV1Api;
  readonly #opts: LeaderElectionOptions;
  readonly #log: Log;
  #leading = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #observed: { key: string; at: number } | undefined;
  #lastRenew = 0;
  #onLead: () => void = () => undefined;
  #onLose: () => void = () => undefined;

  constructor(kc: KubeConfig, opts: LeaderElectionOptions, log: Log) {
    this.#api = kc.makeApiClient(CoordinationV1Api);
    this.#opts = opts;
    this.#log = log;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Competes for the Lease until stopped: onLead when it is won, onLose when it is lost. */
  start(onLead: () => void, onLose: () => void): void {
    this.#onLead = onLead;
    this.#onLose = onLose;
    const retryMs = Math.max(500, (this.#opts.leaseDurationSeconds * 1000) / 5);
    const loop = () => {
      this.#tryAcquireOrRenew()
        .then((ok) => this.#set(ok))
        .catch((err: unknown) => {
          this.#log.warn({ error: messageOf(err) }, "leader election attempt failed");
          // A leader that cannot renew within two thirds of the lease stops acting as leader.
          if (this.#leading && Date.now() - this.#lastRenew > (this.#opts.leaseDurationSeconds * 1000 * 2) / 3)
            this.#set(false);
        })
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, retryMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#set(false);
    try {
      const lease = await this.#api.readNamespacedLease({ name: this.#opts.name, namespace: this.#opts.namespace });
      if (lease.spec?.holderIdentity !== this.#opts.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1 };
      await this.#api.replaceNamespacedLease({ name: this.#opts.name, namespace: this.#opts.namespace, body: lease });
    } catch (err) {
      this.#log.warn({ error: messageOf(err) }, "could not release the leader lease");
    }
  }

  #set(leading: boolean): void {
    // An acquire still in flight when stop() ran must not make a stopped replica lead.
    if (this.#stopped && leading) return;
    if (leading) this.#lastRenew = Date.now();
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#log.info({ identity: this.#opts.identity, leading }, leading ? "became leader" : "lost leadership");
    if (leading) this.#onLead();
    else this.#onLose();
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity, leaseDurationSeconds } = this.#opts;
    const now = new V1MicroTime();
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (kubeStatus(err) !== 404) throw err;
      await this.#api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          },
        },
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const key = `${spec.holderIdentity ?? ""}|${String(spec.renewTime ?? "")}`;
    if (this.#observed?.key !== key) this.#observed = { key, at: Date.now() };
    const holder = spec.holderIdentity;
    const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder && holder !== identity && Date.now() < this.#observed.at + duration) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now,
      acquireTime: holder === identity && spec.acquireTime ? new V1MicroTime(String(spec.acquireTime)) : now,
      leaseTransitions: transitions,
    };
    try {
      await this.#api.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (err) {
      if (kubeStatus(err) === 409) return false;
      throw err;
    }
  }
}
