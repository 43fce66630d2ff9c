/**
 * API addresses of running emulators (and of Services in front of them) → the node answering there.
 * Raft joins resolve `leader_api_addr` here: the emulator's cluster traffic (challenge / answer) is
 * in-process, only the address is the client's.
 */
import type { ClusterMember } from "./ha.ts";

const addresses = new Map<string, () => ClusterMember | undefined>();

function key(url: string): string {
  return url.trim().replace(/\/+$/, "").toLowerCase();
}

export function registerAddress(url: string, resolve: () => ClusterMember | undefined): () => void {
  const k = key(url);
  addresses.set(k, resolve);
  return () => {
    if (addresses.get(k) === resolve) addresses.delete(k);
  };
}

export function resolveAddress(url: string): ClusterMember | undefined {
  return addresses.get(key(url))?.();
}
