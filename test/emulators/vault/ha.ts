/**
 * An HA cluster of emulator replicas sharing one storage (raft): at most one active node, the
 * others standbys that forward requests to it (ha-forward.ts).
 *
 * Leadership follows vault/ha.go: a node competes for the lock only once unsealed (`runStandby`
 * starts in `unsealInternal` when HA is enabled), sealing or `StepDown` gives it up, and a node that
 * stepped down does not re-grab it for `manualStepDownSleepPeriod` (10 s in vault/core.go). Becoming
 * active / standby is what Vault reports to service registration (`NotifyActiveStateChange`), which
 * sets the pod label `vault-active` (serviceregistration/kubernetes/service_registration.go).
 * Not modelled: raft quorum (a lone unsealed node of three still wins), lock contention timing
 * beyond `electionDelayMs`.
 */
import type { ActiveNode, Core, HaView } from "./core-types.ts";

/** One replica as the cluster sees it. */
export interface ClusterMember extends ActiveNode {
  readonly core: Core;
}

const STEP_DOWN_SLEEP_MS = 10_000;
const clusters = new WeakMap<Core, HaCluster>();

/** The HA cluster `member` belongs to; a standalone node becomes the first member of a new one. */
export function ensureCluster(member: ClusterMember): HaCluster {
  let cluster = clusters.get(member.core);
  if (!cluster) {
    cluster = new HaCluster();
    cluster.add(member);
  }
  return cluster;
}

export class HaCluster {
  readonly members: ClusterMember[] = [];
  #leader: ClusterMember | undefined;
  #activeSince = 0;
  #election: NodeJS.Timeout | undefined;
  readonly #unsealedAt = new Map<ClusterMember, number>();
  #vacantSince = Date.now();
  readonly #unsubscribe = new Map<ClusterMember, () => void>();
  readonly #noRegrabUntil = new Map<ClusterMember, number>();
  readonly #listeners = new Set<() => void>();

  /**
   * `electionDelayMs`: how long leadership stays vacant (after the leader left, or after a node
   * unsealed) before an unsealed node takes it — Vault's lock acquisition / raft election time.
   */
  constructor(readonly electionDelayMs = 0) {}

  add(member: ClusterMember): void {
    if (this.members.includes(member)) return;
    this.members.push(member);
    clusters.set(member.core, this);
    member.core.ha = this.#view(member);
    this.#unsubscribe.set(
      member,
      member.core.seal.onChange(() => this.update()),
    );
    this.update();
  }

  remove(member: ClusterMember): void {
    const i = this.members.indexOf(member);
    if (i === -1) return;
    this.members.splice(i, 1);
    this.#unsubscribe.get(member)?.();
    this.#unsubscribe.delete(member);
    clusters.delete(member.core);
    if (this.#leader === member) this.#setLeader(undefined);
    this.update();
  }

  leader(): ClusterMember | undefined {
    return this.#leader;
  }

  /** Called on every leadership change (after the standby flags are updated). */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  stepDown(member: ClusterMember): void {
    if (this.#leader !== member) return;
    this.#noRegrabUntil.set(member, Date.now() + STEP_DOWN_SLEEP_MS);
    this.#setLeader(undefined);
    this.update();
  }

  /** Drops a sealed leader and, when there is none, elects an unsealed member once it may lead. */
  update(): void {
    const now = Date.now();
    for (const m of this.members) {
      if (m.core.seal.sealed) this.#unsealedAt.delete(m);
      else if (!this.#unsealedAt.has(m)) this.#unsealedAt.set(m, now);
    }
    if (this.#leader && this.#leader.core.seal.sealed) this.#setLeader(undefined);
    this.#syncStandbyFlags();
    clearTimeout(this.#election);
    this.#election = undefined;
    if (this.#leader) return;
    const candidates = this.members.filter((m) => !m.core.seal.sealed);
    if (candidates.length === 0) return;
    const readyAt = (m: ClusterMember) =>
      Math.max(
        Math.max(this.#unsealedAt.get(m) ?? now, this.#vacantSince) + this.electionDelayMs,
        this.#noRegrabUntil.get(m) ?? 0,
      );
    const ready = candidates.find((m) => readyAt(m) <= now);
    if (ready) return this.#setLeader(ready);
    this.#election = setTimeout(() => this.update(), Math.min(...candidates.map(readyAt)) - now);
    this.#election.unref();
  }

  #setLeader(member: ClusterMember | undefined): void {
    if (this.#leader === member) return;
    this.#leader = member;
    this.#activeSince = member ? Date.now() : 0;
    if (!member) this.#vacantSince = Date.now();
    this.#syncStandbyFlags();
    for (const fn of [...this.#listeners]) fn();
  }

  #syncStandbyFlags(): void {
    for (const m of this.members) m.core.seal.standby = m !== this.#leader;
  }

  #view(member: ClusterMember): HaView {
    return {
      isActive: () => this.#leader === member,
      leader: () => this.#leader,
      activeSince: () => (this.#leader === member ? this.#activeSince : 0),
      stepDown: () => this.stepDown(member),
    };
  }
}
