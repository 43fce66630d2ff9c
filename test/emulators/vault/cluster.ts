/** Several replicas of one Vault cluster (see README.md: "Replicas and HA"). */
import { memberOf, startVaultEmulator, type VaultEmulator, type VaultEmulatorOptions } from "./emulator.ts";
import { HaCluster } from "./ha.ts";
import { createVaultTlsCa } from "./tls.ts";

export interface VaultClusterOptions extends Omit<
  VaultEmulatorOptions,
  "keysFrom" | "standby" | "port" | "initialized" | "haWith" | "raft"
> {
  /**
   * One HA cluster: shared storage, one active node elected among the unsealed ones, standbys
   * forwarding to it. Default false: independent storages, replica 0 active, standbys only answer
   * sys/health with 429.
   */
  ha?: boolean;
  /** With `ha`: how long an unsealed node stays standby before taking a vacant leadership. Default 0. */
  electionDelayMs?: number;
}

/**
 * `n` replicas of one Vault cluster (same unseal keys, root token and cluster identity), all
 * started sealed (unless `sealed: false`, then unsealed in order, so replica 0 is active).
 */
export async function startVaultCluster(n: number, opts: VaultClusterOptions = {}): Promise<VaultEmulator[]> {
  if (!Number.isInteger(n) || n < 1) throw new Error("startVaultCluster: n must be a positive integer");
  const { ha, electionDelayMs, ...rest } = opts;
  const tls = rest.tls ? { ...rest.tls, ca: rest.tls.ca ?? createVaultTlsCa() } : undefined;
  const first = await startVaultEmulator({ ...rest, tls, sealed: opts.sealed ?? true });
  const replicas = [first];
  try {
    if (ha) new HaCluster(electionDelayMs ?? 0).add(memberOf(first));
    for (let i = 1; i < n; i++) {
      const peer = ha ? { haWith: first } : { keysFrom: first, standby: true };
      const replica = await startVaultEmulator({ ...peer, tls, expirationLagMs: rest.expirationLagMs });
      replicas.push(replica);
      if (!(opts.sealed ?? true)) replica.control.unseal();
    }
  } catch (err) {
    await Promise.all(replicas.map((r) => r.close()));
    throw err;
  }
  return replicas;
}
