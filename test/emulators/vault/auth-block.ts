/** The `auth` object of login / token-create / renew responses. */
import type { AuthBlock } from "./envelope.ts";
import type { TokenEntry } from "./types.ts";

export function authBlock(entry: TokenEntry, leaseDuration: number): AuthBlock {
  return {
    client_token: entry.id,
    accessor: entry.accessor,
    policies: entry.policies,
    token_policies: entry.policies,
    metadata: entry.meta,
    lease_duration: leaseDuration,
    renewable: entry.renewable,
    entity_id: entry.entityId,
    token_type: entry.type,
    orphan: entry.orphan,
    mfa_requirement: null,
    num_uses: entry.numUses,
  };
}
