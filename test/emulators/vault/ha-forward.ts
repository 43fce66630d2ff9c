/**
 * What an HA node does with a logical request (http/handler.go `handleRequestForwarding`,
 * `forwardRequest`, `respondStandby`): the active node serves it; a sealed node answers 503
 * `Vault is sealed` (`core.Leader()` fails with ErrSealed); an unsealed standby forwards the request
 * as received to the active node and relays its answer; with `X-Vault-No-Request-Forwarding` it
 * redirects instead (307 to the active node's API address, or 503 `no active Vault instance found`);
 * with no known active node it answers 500 `local node not active but active cluster node not found`.
 * Raw handlers (sys/health, seal-status, unseal, init, seal, leader, storage/raft/join) never get here.
 */
import type { Core } from "./core-types.ts";
import { VaultHttpError } from "./errors.ts";
import { header } from "./request-parse.ts";
import type { RawRequest, Reply } from "./types.ts";

/** Undefined when this node serves the request itself. */
export async function forwardIfStandby(core: Core, raw: RawRequest, url: URL): Promise<Reply | undefined> {
  const ha = core.ha;
  if (!ha) return undefined;
  if (!core.seal.initialized || core.seal.sealed) throw new VaultHttpError(503, "Vault is sealed");
  if (ha.isActive()) return undefined;
  const leader = ha.leader();
  if (header(raw, "x-vault-no-request-forwarding") !== undefined) {
    if (!leader) throw new VaultHttpError(503, "no active Vault instance found");
    const location = `${leader.url}${url.pathname}${url.search}`;
    return { status: 307, headers: { location, "cache-control": "no-store" }, body: "" };
  }
  if (!leader) throw new VaultHttpError(500, "local node not active but active cluster node not found");
  return leader.handle(raw);
}
