/** In-process HashiCorp Vault emulator for tests. See README.md in this folder. */
import { createControl, type VaultControl } from "./control.ts";
import { createCore, createMounts, startSweeper } from "./core.ts";
import type { Core } from "./core-types.ts";
import { handleRequest } from "./router.ts";
import { rootTokenId } from "./ids.ts";
import { startHttpServer, type Faults, type RequestRecord } from "./server.ts";

export type { VaultControl, LeaseInfo, TokenInfo } from "./control.ts";
export type { RequestRecord } from "./server.ts";
export type { TokenReviewRecord } from "./k8s-state.ts";

export interface VaultEmulatorOptions {
  port?: number;
  /** Default true: initialised with `shares`/`threshold`, unsealed, root token known. */
  initialized?: boolean;
  shares?: number;
  threshold?: number;
  rootToken?: string;
  /** Initialised but started sealed (like a restarted Vault); keys and root token known. */
  sealed?: boolean;
  /**
   * Another replica of `keysFrom`'s cluster: same unseal keys, root token and cluster identity,
   * started sealed (HA storage is not shared: tokens, leases and secrets are per instance).
   */
  keysFrom?: VaultEmulator;
  /** Answer sys/health as an HA standby (429 once unsealed); seal-status is as on the active node. */
  standby?: boolean;
}

export interface VaultEmulator {
  url: string;
  /** Root token ("" until sys/init when started uninitialised). */
  readonly rootToken: string;
  /** Unseal keys, hex (empty until initialised). */
  readonly unsealKeys: string[];
  control: VaultControl;
  close(): Promise<void>;
}

export async function startVaultEmulator(opts: VaultEmulatorOptions = {}): Promise<VaultEmulator> {
  const core = createCore();
  core.seal.standby = opts.standby ?? false;
  const from = opts.keysFrom ? cores.get(opts.keysFrom) : undefined;
  if (opts.keysFrom && !from) throw new Error("keysFrom: not a running Vault emulator");
  if (from) {
    core.seal.adopt(from.seal);
    core.unsealKeys = [...from.unsealKeys];
    core.rootToken = from.rootToken;
    core.tokens.createRoot(core.rootToken);
  } else if (opts.initialized ?? true) {
    const keys = core.seal.init(opts.shares ?? 5, opts.threshold ?? 3, undefined);
    core.unsealKeys = keys.map((k) => k.toString("hex"));
    core.rootToken = opts.rootToken ?? rootTokenId();
    core.tokens.createRoot(core.rootToken);
    if (!opts.sealed) for (const key of keys.slice(0, core.seal.t)) core.seal.submit(key);
  }
  const mounts = createMounts(core);
  const faults: Faults = { latencyMs: 0, failures: [], refuseNext: 0 };
  const log: RequestRecord[] = [];
  const http = await startHttpServer((raw) => handleRequest(core, mounts, raw), faults, log, opts.port ?? 0);
  const stopSweeper = startSweeper(core);
  const control = createControl(core, faults, http, log);
  let closed = false;
  const emulator: VaultEmulator = {
    url: http.url,
    get rootToken() {
      return core.rootToken;
    },
    get unsealKeys() {
      return [...core.unsealKeys];
    },
    control,
    async close() {
      if (closed) return;
      closed = true;
      stopSweeper();
      await http.close();
      await core.leases.settle();
      await core.database.closeAll();
    },
  };
  cores.set(emulator, core);
  return emulator;
}

const cores = new WeakMap<VaultEmulator, Core>();

/**
 * `n` replicas of one Vault cluster (same unseal keys, root token and cluster identity), all
 * started sealed (unless `sealed: false`); the first is the active node, the others standbys.
 */
export async function startVaultCluster(n: number, opts: Omit<VaultEmulatorOptions, "keysFrom" | "standby" | "port" | "initialized"> = {}): Promise<VaultEmulator[]> {
  if (!Number.isInteger(n) || n < 1) throw new Error("startVaultCluster: n must be a positive integer");
  const first = await startVaultEmulator({ ...opts, sealed: opts.sealed ?? true });
  const replicas = [first];
  try {
    for (let i = 1; i < n; i++) {
      const replica = await startVaultEmulator({ keysFrom: first, standby: true });
      replicas.push(replica);
      if (!(opts.sealed ?? true)) replica.control.unseal();
    }
  } catch (err) {
    await Promise.all(replicas.map((r) => r.close()));
    throw err;
  }
  return replicas;
}
