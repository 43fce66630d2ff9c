/** The emulator's state, shared by every route module. */
import type { Clock } from "./clock.ts";
import type { SealState } from "./seal.ts";
import type { TokenStore } from "./tokens.ts";
import type { LeaseManager } from "./leases.ts";
import type { PolicyStore } from "./acl.ts";
import type { KubernetesState } from "./k8s-state.ts";
import type { DatabaseState } from "./db-state.ts";
import type { KvStore } from "./kv-store.ts";
import type { PkiState } from "./pki-state.ts";

export interface Core {
  readonly clock: Clock;
  readonly seal: SealState;
  readonly tokens: TokenStore;
  readonly leases: LeaseManager;
  readonly policies: PolicyStore;
  readonly kubernetes: KubernetesState;
  readonly database: DatabaseState;
  readonly kv: KvStore;
  readonly pki: PkiState;
  /** Root token once known (after init); "" before. */
  rootToken: string;
  /** Unseal keys (hex) once known. */
  unsealKeys: string[];
}
