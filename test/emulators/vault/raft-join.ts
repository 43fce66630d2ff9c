/**
 * A raft follower that starts not joined (vault/raft.go `JoinRaftCluster`, `InitiateRetryJoin`;
 * vault/core.go `unsealWithRaft`; http/sys_raft.go `handleSysRaftJoinPost`):
 *
 * - not joined: seal-status `initialized: false`, `t`/`n` 0 (vault/logical_system.go `GetSealStatus`:
 *   no barrier config yet), unseal → 400 `Vault is not initialized`;
 * - `sys/storage/raft/join` (or the `retryJoin` loop, every 2 s like `retry_join`) gets the active
 *   node's challenge: the leader's barrier config is set (`t`/`n` from the leader) and
 *   `initialized` turns true (vault/init.go `Initialized`: `isRaftUnseal()`), still sealed;
 *   `retry=false` answers `{"joined": true}`, `retry=true` answers `{"joined": false}` and keeps trying;
 * - unseal shares count against the leader's threshold; at the threshold the answer goes to the
 *   leader (with retry join: on the loop's next tick, the unseal call waits for it), the reply says
 *   `sealed: true, progress: 0`, and the node unseals `unsealDelayMs` later as a standby.
 * The cluster traffic itself is in-process: `leader_api_addr` is resolved through registry.ts.
 */
import type { RaftView } from "./core-types.ts";
import { shareStorage } from "./core.ts";
import { ensureCluster, type ClusterMember } from "./ha.ts";
import { resolveAddress } from "./registry.ts";
import { jsonReply } from "./envelope.ts";
import { VaultHttpError } from "./errors.ts";
import type { Reply } from "./types.ts";

export interface RaftJoinOptions {
  /** `retry_join { leader_api_addr = ... }` stanzas: join in the background from start-up. */
  retryJoin?: string[];
  /** The retry loop's interval (vault/raft.go sleeps 2 s between attempts). */
  retryIntervalMs?: number;
  /** From the answer to unsealed (vault/core.go polls for the replicated keyring every 1 s). */
  unsealDelayMs?: number;
}

export class RaftJoin implements RaftView {
  #leader: ClusterMember | undefined;
  #joined = false;
  #loop: NodeJS.Timeout | undefined;
  #loopAddrs: string[] = [];
  #answerWaiters: (() => void)[] = [];
  #timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly self: ClusterMember,
    private readonly opts: RaftJoinOptions = {},
  ) {
    self.core.seal.storageType = "raft";
    if (opts.retryJoin && opts.retryJoin.length > 0) this.#startLoop(opts.retryJoin);
  }

  async join(leaderAddr: string, retry: boolean): Promise<Reply> {
    // `JoinRaftCluster`: a node initialised locally (joined before, or sys/init) answers joined at once.
    if (this.#joined || (this.self.core.seal.initialized && this.#leader === undefined))
      return jsonReply(200, { joined: true });
    if (!this.self.core.seal.sealed) throw new VaultHttpError(500, "node must be sealed before joining");
    if (retry) {
      this.#startLoop([leaderAddr]);
      return jsonReply(200, { joined: false });
    }
    if (!this.#challenge([leaderAddr]))
      throw new VaultHttpError(500, "failed to join raft cluster: failed to get raft challenge");
    return jsonReply(200, { joined: true });
  }

  async answer(): Promise<void> {
    if (this.#loop) {
      // `joinInProgress`: the retry loop sends the answer on its next attempt; Unseal waits on raftJoinDoneCh.
      await new Promise<void>((resolve) => this.#answerWaiters.push(resolve));
      return;
    }
    this.#sendAnswer();
  }

  stop(): void {
    clearInterval(this.#loop);
    this.#loop = undefined;
    for (const t of this.#timers) clearTimeout(t);
    for (const resolve of this.#answerWaiters.splice(0)) resolve();
  }

  /** `getRaftChallenge` from the first address whose cluster has an active, unsealed node. */
  #challenge(addrs: string[]): boolean {
    for (const addr of addrs) {
      const node = resolveAddress(addr);
      if (!node || node.core.seal.sealed || !node.core.seal.initialized) continue;
      const active = node.core.ha ? (node.core.ha.leader() as ClusterMember | undefined) : node;
      if (!active || active.core.seal.sealed) continue;
      this.#leader = active;
      this.self.core.seal.beginJoin(active.core.seal);
      return true;
    }
    return false;
  }

  #startLoop(addrs: string[]): void {
    this.#loopAddrs = addrs;
    if (this.#loop) return;
    const tick = () => {
      if (this.#joined) return this.stop();
      if (this.#answerWaiters.length > 0 && this.#leader) {
        clearInterval(this.#loop);
        this.#loop = undefined;
        this.#sendAnswer();
        for (const resolve of this.#answerWaiters.splice(0)) resolve();
        return;
      }
      this.#challenge(this.#loopAddrs);
    };
    this.#loop = setInterval(tick, this.opts.retryIntervalMs ?? 2_000);
    this.#loop.unref();
    tick();
  }

  #sendAnswer(): void {
    const leader = this.#leader;
    if (!leader || leader.core.seal.sealed)
      throw new VaultHttpError(500, "error sending the answer to the raft leader: leader is sealed or gone");
    this.#later(() => this.#complete(), this.opts.unsealDelayMs ?? 1_000);
  }

  /** The keyring has been replicated: the node shares the cluster's storage, unseals, and is a standby. */
  #complete(): void {
    const from = this.#leader;
    if (!from) return;
    const active = (from.core.ha?.leader() as ClusterMember | undefined) ?? (from.core.seal.sealed ? undefined : from);
    if (!active) return this.#later(() => this.#complete(), this.opts.unsealDelayMs ?? 1_000);
    const core = this.self.core;
    shareStorage(core, active.core);
    ensureCluster(active).add(this.self);
    this.#joined = true;
    core.seal.completeJoin(active.core.seal);
  }

  #later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.#timers.add(t);
  }
}
