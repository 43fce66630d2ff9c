/**
 * Seal state: Shamir-shaped key shares (no real Shamir math: any `t` distinct issued
 * shares unseal), unseal progress with nonce, and the error texts of spec §2–3.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { badRequest, VaultHttpError } from "./errors.ts";
import { randomHex } from "./ids.ts";

export const VAULT_VERSION = "1.17.3";
const BUILD_DATE = "2024-08-06T14:28:45Z";

export class SealState {
  initialized = false;
  sealed = true;
  n = 0;
  t = 0;
  clusterName = `vault-cluster-${randomHex(4)}`;
  clusterId = randomUUID();
  /** An HA standby (sys/health answers 429 once unsealed); seal-status is the same as the active's. */
  standby = false;
  /** `storage_type` in seal-status: "inmem", or "raft" for raft replicas. */
  storageType = "inmem";
  private rootKey: Buffer | null = null;
  private shares: Buffer[] = [];
  private collected: Buffer[] = [];
  private nonce = "";
  /** Raft join in progress: the leader's seal, whose barrier config and shares this node checks against. */
  private joinSource: SealState | null = null;
  /** Set when the threshold was met with the leader's shares during a join (the node stays sealed). */
  joinKeysVerified = false;
  private readonly listeners = new Set<() => void>();

  /** Called after every seal / unseal / init / join change (HA election, the vault-active Service). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    for (const fn of [...this.listeners]) fn();
  }

  /** sys/init: validates like SealConfig.Validate and returns the shares; vault stays sealed. */
  init(shares: number, threshold: number, pgpKeys: number | undefined): Buffer[] {
    if (this.initialized) throw badRequest("Vault is already initialized");
    const bad = (why: string) => badRequest(`invalid seal configuration: ${why}`);
    if (shares < 1) throw bad("shares must be at least one");
    if (threshold < 1) throw bad("threshold must be at least one");
    if (shares > 1 && threshold === 1) throw bad("threshold must be greater than one for multiple shares");
    if (shares > 255) throw bad("shares must be less than 256");
    if (threshold > 255) throw bad("threshold must be less than 256");
    if (threshold > shares) throw bad("threshold cannot be larger than shares");
    if (pgpKeys !== undefined && pgpKeys !== shares) {
      throw bad("count mismatch between number of provided PGP keys and number of shares");
    }
    this.rootKey = randomBytes(32);
    this.n = shares;
    this.t = threshold;
    if (shares === 1) {
      this.shares = [this.rootKey];
    } else {
      const xs = shuffledCoordinates().slice(0, shares);
      this.shares = xs.map((x) => Buffer.concat([randomBytes(32), Buffer.from([x])]));
    }
    this.initialized = true;
    this.sealed = true;
    this.resetProgress();
    this.changed();
    return this.shares.map((s) => Buffer.from(s));
  }

  /** Another replica of the same cluster: same barrier keys, shares and identity; starts sealed. */
  adopt(other: SealState): void {
    if (!other.initialized || !other.rootKey) throw new Error("adopt: the other replica is not initialised");
    this.rootKey = Buffer.from(other.rootKey);
    this.shares = other.shares.map((s) => Buffer.from(s));
    this.n = other.n;
    this.t = other.t;
    this.clusterName = other.clusterName;
    this.clusterId = other.clusterId;
    this.initialized = true;
    this.sealed = true;
    this.joinSource = null;
    this.resetProgress();
    this.changed();
  }

  /**
   * A raft join got the leader's challenge (vault/raft.go `answerChallenge`: `SetBarrierConfig` with
   * the leader's config, `raftInfo` stored). From now seal-status reports the leader's t/n and
   * `initialized: true` (vault/init.go `Initialized`: `isRaftUnseal()`); the node stays sealed.
   */
  beginJoin(leader: SealState): void {
    this.joinSource = leader;
    this.n = leader.n;
    this.t = leader.t;
    this.initialized = true;
    this.changed();
  }

  /** The join finished in the background: the node has the cluster's keys and unseals. */
  completeJoin(leader: SealState): void {
    this.adopt(leader);
    this.sealed = false;
    this.changed();
  }

  resetProgress(): void {
    this.collected = [];
    this.nonce = "";
  }

  seal(): void {
    const was = this.sealed;
    this.sealed = true;
    this.resetProgress();
    if (!was) this.changed();
  }

  /** Records one decoded share (length already checked). Returns true when the vault unsealed. */
  submit(key: Buffer): boolean {
    if (!this.sealed) return true;
    if (this.collected.some((c) => c.equals(key))) return false;
    if (this.collected.length === 0) this.nonce = randomUUID();
    this.collected.push(Buffer.from(key));
    if (this.collected.length < this.t) return false;
    const parts = this.collected;
    this.resetProgress();
    this.combine(parts);
    if (this.joinSource) {
      // vault/core.go `unsealWithRaft`: the answer goes to the leader; unsealing finishes in the background.
      this.joinKeysVerified = true;
      return false;
    }
    this.sealed = false;
    this.changed();
    return true;
  }

  private combine(parts: Buffer[]): void {
    if (this.t > 1) {
      const len = parts[0]?.length ?? 0;
      if (parts.some((p) => p.length !== len)) {
        throw badRequest("invalid key: failed to compute combined key: all parts must be the same length");
      }
      const xs = parts.map((p) => p[p.length - 1]);
      if (new Set(xs).size !== xs.length) {
        throw badRequest("invalid key: failed to compute combined key: duplicate part detected");
      }
    }
    const issued = (this.joinSource ?? this).shares;
    const allIssued = parts.every((p) => issued.some((s) => s.equals(p)));
    if (!allIssued && this.joinSource) {
      // vault/raft.go `joinRaftSendAnswer`: the combined key cannot decrypt the leader's challenge → 500.
      throw new VaultHttpError(500, "error decrypting challenge: cipher: message authentication failed");
    }
    if (!allIssued) {
      throw badRequest(
        "unable to retrieve stored keys: invalid key: failed to decrypt keys from storage: cipher: message authentication failed",
      );
    }
  }

  /** Body of GET sys/seal-status (and of sys/unseal replies). */
  status(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      type: "shamir",
      initialized: this.initialized,
      sealed: this.sealed,
      t: this.t,
      n: this.n,
      progress: this.sealed ? this.collected.length : 0,
      nonce: this.sealed ? this.nonce : "",
      version: VAULT_VERSION,
      build_date: BUILD_DATE,
      migration: false,
      recovery_seal: false,
      storage_type: this.storageType,
    };
    if (!this.sealed) {
      body.cluster_name = this.clusterName;
      body.cluster_id = this.clusterId;
    }
    return body;
  }
}

function shuffledCoordinates(): number[] {
  const xs = Array.from({ length: 255 }, (_, i) => i + 1);
  const rnd = randomBytes(255 * 2);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rnd.readUInt16BE(i * 2) % (i + 1);
    const a = xs[i] as number;
    xs[i] = xs[j] as number;
    xs[j] = a;
  }
  return xs;
}

/** Step 4 of sys/unseal: hex first (16–33 bytes), else standard base64. */
export function decodeUnsealKey(key: string): Buffer | null {
  if (/^[0-9a-fA-F]*$/.test(key) && key.length % 2 === 0) {
    const hex = Buffer.from(key, "hex");
    if (hex.length >= 16 && hex.length <= 33) return hex;
  }
  if (/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(key)) {
    return Buffer.from(key, "base64");
  }
  return null;
}
