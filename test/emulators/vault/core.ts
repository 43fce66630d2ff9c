/** Builds the emulator's state and its mount table, shares storage between HA replicas, runs the expiry sweep. */
import { Clock } from "./clock.ts";
import { SealState } from "./seal.ts";
import { TokenStore } from "./tokens.ts";
import { LeaseManager } from "./leases.ts";
import { PolicyStore } from "./acl.ts";
import { KubernetesState } from "./k8s-state.ts";
import { DatabaseState } from "./db-state.ts";
import { KvStore } from "./kv-store.ts";
import { sysRoutes } from "./sys-routes.ts";
import { tokenRoutes } from "./token-routes.ts";
import { kubernetesMount } from "./auth-kubernetes.ts";
import { databaseRoutes } from "./database.ts";
import { kvRoutes } from "./kv.ts";
import { PkiState } from "./pki-state.ts";
import { pkiRoutes } from "./pki.ts";
import type { Core } from "./core-types.ts";

export const SWEEP_INTERVAL_MS = 100;

export function createCore(): Core {
  const clock = new Clock();
  const leases = new LeaseManager(clock);
  const core: Core = {
    clock,
    seal: new SealState(),
    leases,
    tokens: new TokenStore(clock, (token) => {
      leases.revokeByToken(token.id);
      void leases.sweep();
    }),
    policies: new PolicyStore(),
    kubernetes: new KubernetesState(),
    database: new DatabaseState(),
    kv: new KvStore(),
    pki: new PkiState(),
    mounts: [],
    rootToken: "",
    unsealKeys: [],
    ha: undefined,
    raft: undefined,
  };
  core.mounts.push(
    { path: "sys/", type: "system", routes: sysRoutes(core) },
    { path: "auth/token/", type: "token", routes: tokenRoutes(core) },
    kubernetesMount(core, "kubernetes/", core.kubernetes),
    { path: "database/", type: "database", routes: databaseRoutes(core) },
    { path: "secret/", type: "kv", routes: kvRoutes(core) },
    { path: "pki/", type: "pki", routes: pkiRoutes(core) },
  );
  return core;
}

const sharers = new WeakMap<DatabaseState, number>();

/**
 * Makes `target` use `source`'s storage (one storage backend, as raft gives every node of a cluster):
 * tokens, leases, policies, mounts, secrets, clock and the root token / keys. Seal state stays per node.
 */
export function shareStorage(target: Core, source: Core): void {
  target.clock = source.clock;
  target.tokens = source.tokens;
  target.leases = source.leases;
  target.policies = source.policies;
  target.kubernetes = source.kubernetes;
  target.database = source.database;
  target.kv = source.kv;
  target.pki = source.pki;
  target.mounts = source.mounts;
  target.rootToken = source.rootToken;
  target.unsealKeys = [...source.unsealKeys];
  sharers.set(source.database, (sharers.get(source.database) ?? 1) + 1);
}

/** True when no other node still uses this node's storage (its PostgreSQL pools may close). */
export function releaseStorage(core: Core): boolean {
  const left = (sharers.get(core.database) ?? 1) - 1;
  sharers.set(core.database, left);
  return left <= 0;
}

/**
 * One expiry pass. Skipped while sealed, and on HA standbys: only the active node runs the
 * expiration manager (vault/expiration.go is set up in `postUnseal` of the active node).
 */
export function sweep(core: Core): Promise<void> {
  if (core.seal.sealed) return Promise.resolve();
  if (core.ha && !core.ha.isActive()) return Promise.resolve();
  core.tokens.sweep(core.leases.lagMs);
  return core.leases.sweep();
}

export function startSweeper(core: Core): () => void {
  const timer = setInterval(() => void sweep(core), SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
