/** Starts one emulated Vault node (see README.md). HA clusters: cluster.ts; the vault-active Service: active-service.ts. */
import { createControl, type VaultControl } from "./control.ts";
import { createCore, releaseStorage, shareStorage, startSweeper } from "./core.ts";
import type { Core } from "./core-types.ts";
import { ensureCluster, type ClusterMember } from "./ha.ts";
import { handleRequest } from "./router.ts";
import { rootTokenId } from "./ids.ts";
import { RaftJoin, type RaftJoinOptions } from "./raft-join.ts";
import { registerAddress } from "./registry.ts";
import { startHttpServer, type Faults, type RequestRecord } from "./server.ts";
import { createVaultTlsCa, serverTls, type VaultTlsCa } from "./tls.ts";

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
   * started sealed (storage is not shared: tokens, leases and secrets are per instance).
   */
  keysFrom?: VaultEmulator;
  /** Answer sys/health as an HA standby (429 once unsealed); seal-status is as on the active node. */
  standby?: boolean;
  /**
   * A member of `haWith`'s HA cluster (raft): same keys, one shared storage, started sealed; once
   * unsealed it is active only if no other node is, otherwise a standby forwarding to the active one.
   */
  haWith?: VaultEmulator;
  /** A raft follower that starts not joined (implies uninitialised until it joins); see raft-join.ts. */
  raft?: RaftJoinOptions;
  /** Serve HTTPS with a certificate for exactly these DNS names (no IP SAN), signed by `ca` (default: a new CA). */
  tls?: { names: string[]; ca?: VaultTlsCa };
  /** Delay (emulator ms) between an expiry / lazy revoke and the expiration manager's revocation. Default 0. */
  expirationLagMs?: number;
}

export interface VaultEmulator {
  url: string;
  /** Root token ("" until sys/init when started uninitialised). */
  readonly rootToken: string;
  /** Unseal keys, hex (empty until initialised). */
  readonly unsealKeys: string[];
  /** With `tls`: the CA PEM a client must trust and the names the certificate is valid for. */
  readonly tls: { caPem: string; names: readonly string[] } | undefined;
  control: VaultControl;
  close(): Promise<void>;
}

const members = new WeakMap<VaultEmulator, ClusterMember>();

/** The node behind a running emulator (HA clusters, the active Service). */
export function memberOf(emulator: VaultEmulator): ClusterMember {
  const m = members.get(emulator);
  if (!m) throw new Error("not a running Vault emulator");
  return m;
}

function seedState(core: Core, opts: VaultEmulatorOptions): void {
  const peer = opts.haWith ?? opts.keysFrom;
  if (peer) {
    const from = memberOf(peer).core;
    core.seal.adopt(from.seal);
    if (opts.haWith) return shareStorage(core, from);
    core.unsealKeys = [...from.unsealKeys];
    core.rootToken = from.rootToken;
    core.tokens.createRoot(core.rootToken);
  } else if (!opts.raft && (opts.initialized ?? true)) {
    const keys = core.seal.init(opts.shares ?? 5, opts.threshold ?? 3, undefined);
    core.unsealKeys = keys.map((k) => k.toString("hex"));
    core.rootToken = opts.rootToken ?? rootTokenId();
    core.tokens.createRoot(core.rootToken);
    if (!opts.sealed) for (const key of keys.slice(0, core.seal.t)) core.seal.submit(key);
  }
}

export async function startVaultEmulator(opts: VaultEmulatorOptions = {}): Promise<VaultEmulator> {
  const core = createCore();
  core.leases.lagMs = opts.expirationLagMs ?? 0;
  core.seal.standby = opts.standby ?? false;
  seedState(core, opts);
  const faults: Faults = { latencyMs: 0, failures: [], refuseNext: 0 };
  const log: RequestRecord[] = [];
  const tls = opts.tls ? serverTls(opts.tls.names, opts.tls.ca ?? createVaultTlsCa()) : undefined;
  const http = await startHttpServer((raw) => handleRequest(core, raw), faults, log, { port: opts.port ?? 0, tls });
  let closed = false;
  const member: ClusterMember = {
    core,
    url: http.url,
    handle: async (raw) => {
      const reply = await handleRequest(core, raw);
      log.push({
        method: raw.method,
        path: new URL(raw.url, "http://x").pathname.replace(/^\/v1\//, ""),
        status: reply.status,
        at: Date.now(),
        forwarded: true,
      });
      return reply;
    },
  };
  const unregister = registerAddress(http.url, () => (closed ? undefined : member));
  if (opts.haWith) ensureCluster(memberOf(opts.haWith)).add(member);
  const raft = opts.raft ? new RaftJoin(member, opts.raft) : undefined;
  core.raft = raft;
  const stopSweeper = startSweeper(core);
  const control = createControl(core, faults, http, log);
  const emulator: VaultEmulator = {
    url: http.url,
    get rootToken() {
      return core.rootToken;
    },
    get unsealKeys() {
      return [...core.unsealKeys];
    },
    tls: tls ? { caPem: tls.caPem, names: tls.names } : undefined,
    control,
    async close() {
      if (closed) return;
      closed = true;
      unregister();
      raft?.stop();
      if (core.ha) ensureCluster(member).remove(member);
      stopSweeper();
      await http.close();
      if (!releaseStorage(core)) return;
      await core.leases.settle();
      await core.database.closeAll();
    },
  };
  members.set(emulator, member);
  return emulator;
}
