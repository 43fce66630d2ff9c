/** Builds the emulator's state and its mount table, and runs the expiry sweep. */
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
import { kubernetesRoutes } from "./auth-kubernetes.ts";
import { databaseRoutes } from "./database.ts";
import { kvRoutes } from "./kv.ts";
import { PkiState } from "./pki-state.ts";
import { pkiRoutes } from "./pki.ts";
import type { Core } from "./core-types.ts";
import type { Mount } from "./types.ts";

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
    rootToken: "",
    unsealKeys: [],
  };
  return core;
}

export function createMounts(core: Core): Mount[] {
  return [
    { path: "sys/", type: "system", routes: sysRoutes(core) },
    { path: "auth/token/", type: "token", routes: tokenRoutes(core) },
    { path: "auth/kubernetes/", type: "kubernetes", routes: kubernetesRoutes(core) },
    { path: "database/", type: "database", routes: databaseRoutes(core) },
    { path: "secret/", type: "kv", routes: kvRoutes(core) },
    { path: "pki/", type: "pki", routes: pkiRoutes(core) },
  ];
}

/** One expiry pass (skipped while sealed, like Vault's expiration manager). */
export function sweep(core: Core): Promise<void> {
  if (core.seal.sealed) return Promise.resolve();
  core.tokens.sweep();
  return core.leases.sweep();
}

export function startSweeper(core: Core): () => void {
  const timer = setInterval(() => void sweep(core), SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
