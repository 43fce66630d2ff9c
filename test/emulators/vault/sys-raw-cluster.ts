/**
 * Raw handlers about the cluster: sys/leader (http/sys_leader.go → vault/logical_system.go
 * `GetLeaderStatus`) and sys/storage/raft/join (http/sys_raft.go `handleSysRaftJoinPost`).
 */
import type { Core } from "./core-types.ts";
import { VaultHttpError } from "./errors.ts";
import { jsonReply } from "./envelope.ts";
import { optBool, optString } from "./fields.ts";
import { parseBody } from "./request-parse.ts";
import { rfc3339 } from "./durations.ts";
import type { RawRequest, Reply } from "./types.ts";

const ZERO_TIME = "0001-01-01T00:00:00Z";

function only(raw: RawRequest, ...methods: string[]): void {
  if (!methods.includes(raw.method)) throw new VaultHttpError(405, null);
}

export function leader(core: Core, raw: RawRequest): Reply {
  only(raw, "GET");
  const ha = core.ha;
  if (!ha) {
    if (core.seal.sealed) return jsonReply(200, { ha_enabled: false });
    return jsonReply(200, {
      ha_enabled: false,
      is_self: false,
      active_time: ZERO_TIME,
      leader_address: "",
      leader_cluster_address: "",
      performance_standby: false,
      performance_standby_last_remote_wal: 0,
    });
  }
  // vault/ha.go `Leader`: with HA enabled a sealed node fails with ErrSealed (→ 503).
  if (core.seal.sealed) throw new VaultHttpError(503, "Vault is sealed");
  const active = ha.leader();
  const since = ha.activeSince();
  return jsonReply(200, {
    ha_enabled: true,
    is_self: ha.isActive(),
    active_time: since > 0 ? rfc3339(since) : ZERO_TIME,
    leader_address: active?.url ?? "",
    // The emulator has no cluster port: the active node's API address stands in for it.
    leader_cluster_address: active ? active.url.replace(/^http:/, "https:") : "",
    performance_standby: false,
    performance_standby_last_remote_wal: 0,
    raft_committed_index: 0,
    raft_applied_index: 0,
  });
}

/** `{"joined": bool}`; errors are 500 with JoinRaftCluster's text (e.g. "failed to join raft cluster: ..."). */
export async function raftJoin(core: Core, raw: RawRequest): Promise<Reply> {
  only(raw, "PUT", "POST");
  const d = parseBody(raw);
  if (!core.raft) throw new VaultHttpError(500, "raft backend not in use");
  return core.raft.join(optString(d, "leader_api_addr") ?? "", optBool(d, "retry") ?? false);
}
