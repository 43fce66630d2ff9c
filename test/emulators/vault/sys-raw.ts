/**
 * Vault's raw sys handlers, served whether sealed or not and never forwarded by a standby
 * (http/handler.go mux): sys/health, sys/seal-status, sys/init, sys/unseal, sys/seal, plus
 * sys/leader and sys/storage/raft/join from sys-raw-cluster.ts (spec §1–4).
 */
import type { Core } from "./core-types.ts";
import { badRequest, emptyError, INVALID_TOKEN, PERMISSION_DENIED, VaultHttpError } from "./errors.ts";
import { emptyReply, jsonReply } from "./envelope.ts";
import { goBool, parseBody, tokenFrom } from "./request-parse.ts";
import { decodeUnsealKey, VAULT_VERSION } from "./seal.ts";
import { rootTokenId } from "./ids.ts";
import { leader, raftJoin } from "./sys-raw-cluster.ts";
import type { Data, RawRequest, Reply } from "./types.ts";

type RawHandler = (core: Core, raw: RawRequest, query: URLSearchParams) => Reply | Promise<Reply>;

function only(raw: RawRequest, ...methods: string[]): void {
  if (!methods.includes(raw.method)) throw emptyError(405);
}

function standbyOk(query: URLSearchParams): boolean {
  const v = query.get("standbyok");
  return v === "" || (v !== null && goBool(v) === true);
}

function health(core: Core, raw: RawRequest, query: URLSearchParams): Reply {
  only(raw, "GET", "HEAD");
  for (const key of ["standbyok", "perfstandbyok"]) {
    const v = query.get(key);
    if (v !== null && v !== "" && goBool(v) === undefined) throw emptyError(400);
  }
  const code = (key: string, dflt: number): number => {
    const v = query.get(key);
    if (v === null) return dflt;
    if (!/^[+-]?\d+$/.test(v)) throw emptyError(400);
    return Number(v);
  };
  const codes = { uninit: code("uninitcode", 501), sealed: code("sealedcode", 503), active: code("activecode", 200) };
  const standbyCode = code("standbycode", 429);
  code("performancestandbycode", 473);
  code("drsecondarycode", 472);
  const s = core.seal;
  const status = !s.initialized
    ? codes.uninit
    : s.sealed
      ? codes.sealed
      : s.standby && !standbyOk(query)
        ? standbyCode
        : codes.active;
  const body: Data = {
    initialized: s.initialized,
    sealed: s.sealed,
    standby: s.sealed || s.standby,
    performance_standby: false,
    replication_performance_mode: "disabled",
    replication_dr_mode: "disabled",
    server_time_utc: Math.floor(core.clock.now() / 1000),
    version: VAULT_VERSION,
    enterprise: false,
    echo_duration_ms: 0,
    clock_skew_ms: 0,
    replication_primary_canary_age_ms: 0,
  };
  if (!s.sealed) Object.assign(body, { cluster_name: s.clusterName, cluster_id: s.clusterId });
  const reply = jsonReply(status, body);
  return raw.method === "HEAD" ? { ...reply, body: "" } : reply;
}

function init(core: Core, raw: RawRequest): Reply {
  if (raw.method === "GET") return jsonReply(200, { initialized: core.seal.initialized });
  only(raw, "PUT", "POST");
  const d = parseBody(raw);
  const int = (k: string): number => {
    const v = d[k];
    if (v === undefined || v === null) return 0;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      const t =
        typeof v === "number" ? "number" : Array.isArray(v) ? "array" : typeof v === "boolean" ? "bool" : typeof v;
      throw badRequest(
        `failed to parse JSON input: json: cannot unmarshal ${t} into Go struct field InitRequest.${k} of type int`,
      );
    }
    return v;
  };
  const shares = int("secret_shares");
  const threshold = int("secret_threshold");
  if (core.seal.initialized) throw badRequest("Vault is already initialized");
  if (int("recovery_shares") !== 0 || int("recovery_threshold") !== 0) {
    throw badRequest("parameters recovery_shares,recovery_threshold not applicable to seal type shamir");
  }
  const pgp = Array.isArray(d.pgp_keys) ? d.pgp_keys.length : undefined;
  const keys = core.seal.init(shares, threshold, pgp);
  const root = rootTokenId();
  core.tokens.createRoot(root);
  core.rootToken = root;
  core.unsealKeys = keys.map((k) => k.toString("hex"));
  return jsonReply(200, {
    keys: core.unsealKeys,
    keys_base64: keys.map((k) => k.toString("base64")),
    root_token: root,
  });
}

async function unseal(core: Core, raw: RawRequest): Promise<Reply> {
  only(raw, "PUT", "POST");
  const d = parseBody(raw);
  const field = (name: string): unknown => Object.entries(d).find(([k]) => k.toLowerCase() === name)?.[1];
  const key = field("key");
  const reset = field("reset");
  if (key !== undefined && key !== null && typeof key !== "string") {
    throw badRequest(
      `failed to parse JSON input: json: cannot unmarshal ${typeof key === "number" ? "number" : typeof key === "boolean" ? "bool" : Array.isArray(key) ? "array" : "object"} into Go struct field UnsealRequest.Key of type string`,
    );
  }
  if (reset !== undefined && reset !== null && typeof reset !== "boolean") {
    throw badRequest(
      `failed to parse JSON input: json: cannot unmarshal ${typeof reset} into Go struct field UnsealRequest.Reset of type bool`,
    );
  }
  const s = core.seal;
  if (reset === true) {
    if (!s.sealed) throw badRequest("vault is unsealed");
    s.resetProgress();
    return jsonReply(200, s.status());
  }
  if (typeof key !== "string" || key === "") {
    throw badRequest("'key' must be specified in request body as JSON, or 'reset' set to true");
  }
  const decoded = decodeUnsealKey(key);
  if (!decoded) throw badRequest("'key' must be a valid hex or base64 string");
  if (field("migrate") === true)
    throw new VaultHttpError(500, "can't perform a seal migration, no migration seal found");
  if (!s.initialized) throw badRequest("Vault is not initialized");
  if (decoded.length < 16) throw badRequest("invalid key: key is shorter than minimum 16 bytes");
  if (decoded.length > 33) throw badRequest("invalid key: key is longer than maximum 33 bytes");
  s.submit(decoded);
  if (s.joinKeysVerified && core.raft) {
    // vault/core.go `unsealWithRaft`: answer the leader's challenge, unseal in the background;
    // this reply still says sealed, progress 0 (the unlock parts were cleared).
    s.joinKeysVerified = false;
    await core.raft.answer();
  }
  return jsonReply(200, s.status());
}

function seal(core: Core, raw: RawRequest): Reply {
  only(raw, "PUT", "POST");
  if (core.seal.sealed) return emptyReply();
  // vault/core.go `sealInitCommon`: checked before the token.
  if (core.ha && !core.ha.isActive())
    throw new VaultHttpError(500, "vault cannot seal when in standby mode; please restart instead");
  const id = tokenFrom(raw);
  if (!id) throw new VaultHttpError(500, "missing client token");
  const token = core.tokens.get(id);
  if (!token) throw new VaultHttpError(403, INVALID_TOKEN);
  if (!core.policies.allows(token.policies, "sys/seal", "update", true))
    throw new VaultHttpError(403, PERMISSION_DENIED);
  core.seal.seal();
  return emptyReply();
}

export const RAW_SYS: Record<string, RawHandler> = {
  "sys/health": health,
  "sys/seal-status": (core, raw) => (only(raw, "GET"), jsonReply(200, core.seal.status())),
  "sys/init": init,
  "sys/unseal": unseal,
  "sys/seal": seal,
  "sys/leader": leader,
  "sys/storage/raft/join": raftJoin,
};
