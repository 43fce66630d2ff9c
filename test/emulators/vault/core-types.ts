/**
 * The emulator's state, shared by every route module. The storage part (everything but `seal`,
 * `ha` and `raft`) is what Vault keeps in its storage backend: replicas of one HA cluster share it
 * (`shareStorage` in core.ts), each keeps its own seal state.
 */
import type { Clock } from "./clock.ts";
import type { SealState } from "./seal.ts";
import type { TokenStore } from "./tokens.ts";
import type { LeaseManager } from "./leases.ts";
import type { PolicyStore } from "./acl.ts";
import type { KubernetesState } from "./k8s-state.ts";
import type { DatabaseState } from "./db-state.ts";
import type { KvStore } from "./kv-store.ts";
import type { PkiState } from "./pki-state.ts";
import type { Mount, RawRequest, Reply } from "./types.ts";

/** The active node as a standby sees it: its API address (307 Location) and its handler (forwarding). */
export interface ActiveNode {
  readonly url: string;
  handle(raw: RawRequest): Promise<Reply>;
}

/** This node's view of its HA cluster (ha.ts). */
export interface HaView {
  isActive(): boolean;
  leader(): ActiveNode | undefined;
  /** When this node became active (ms), 0 if it is not. */
  activeSince(): number;
  /** Gives up leadership (vault/ha.go `StepDown`); another unsealed node takes over. */
  stepDown(): void;
}

/** A raft follower's join (raft-join.ts): `sys/storage/raft/join` and the answer after the unseal threshold. */
export interface RaftView {
  join(leaderAddr: string, retry: boolean): Promise<Reply>;
  /** The threshold was met with the leader's shares: answer the challenge, then unseal in the background. */
  answer(): Promise<void>;
}

export interface Core {
  clock: Clock;
  readonly seal: SealState;
  tokens: TokenStore;
  leases: LeaseManager;
  policies: PolicyStore;
  /** State of the default `auth/kubernetes/` mount (its TokenReview log is shared by every k8s mount). */
  kubernetes: KubernetesState;
  database: DatabaseState;
  kv: KvStore;
  pki: PkiState;
  /** The mount table (sys/, auth/token/, auth/kubernetes/, database/, secret/, pki/, auth mounts enabled later). */
  mounts: Mount[];
  /** Root token once known (after init); "" before. */
  rootToken: string;
  /** Unseal keys (hex) once known. */
  unsealKeys: string[];
  /** This node in its HA cluster, when it is part of one (undefined: HA not enabled). */
  ha: HaView | undefined;
  /** Raft join configured or in progress (undefined: not a raft follower). */
  raft: RaftView | undefined;
}
