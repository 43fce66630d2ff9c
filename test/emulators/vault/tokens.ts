/**
 * Token store: creation (service and batch tokens), lookup, tree revocation, renewal.
 *
 * vault/token_store.go `lookupInternal`: a token past its expiry is not returned by `Lookup`
 * ("assume expmgr is working on revocation") unless the caller asks for tainted entries; the
 * lookup / lookup-accessor handlers do (`handleLookup` calls `lookupInternal(ctx, id, false, true)`),
 * so they still answer 200 until the expiration manager has revoked the token (`sweep`).
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "./clock.ts";
import { badRequest } from "./errors.ts";
import { accessorId, batchTokenId, serviceTokenId } from "./ids.ts";
import { rfc3339, SYSTEM_MAX_TTL, ttlCappedWarning } from "./durations.ts";
import type { TokenEntry, TokenType } from "./types.ts";

export interface NewToken {
  id?: string;
  /** Default "service". */
  type?: TokenType;
  policies: string[];
  displayName: string;
  meta: Record<string, string> | null;
  ttl: number;
  explicitMaxTtl: number;
  maxTtl: number;
  period: number;
  renewable: boolean;
  parent: string | null;
  path: string;
  numUses: number;
  role: string | null;
}

export class TokenStore {
  private readonly byId = new Map<string, TokenEntry>();
  private readonly accessors = new Map<string, string>();

  constructor(
    private readonly clock: Clock,
    private readonly onRevoked: (token: TokenEntry) => void,
  ) {}

  create(spec: NewToken): TokenEntry {
    const now = this.clock.now();
    const batch = spec.type === "batch";
    const entry: TokenEntry = {
      id: spec.id ?? (batch ? batchTokenId() : serviceTokenId()),
      type: batch ? "batch" : "service",
      // vault/token_store.go `create`: batch tokens are encrypted blobs, never stored, no accessor.
      accessor: batch ? "" : accessorId(),
      policies: spec.policies,
      displayName: spec.displayName,
      meta: spec.meta,
      issueTime: now,
      creationTtl: spec.ttl,
      expireAt: spec.ttl > 0 ? now + spec.ttl * 1000 : null,
      explicitMaxTtl: spec.explicitMaxTtl,
      maxTtl: spec.maxTtl,
      period: spec.period,
      renewable: batch ? false : spec.renewable,
      orphan: spec.parent === null,
      parent: spec.parent,
      path: spec.path,
      numUses: spec.numUses,
      lastRenewal: null,
      revokedAt: null,
      entityId: spec.path === "auth/token/root" || spec.path === "auth/token/create" ? "" : randomUUID(),
      role: spec.role,
    };
    if (this.byId.has(entry.id)) throw badRequest("cannot create a token with a duplicate ID");
    this.byId.set(entry.id, entry);
    if (entry.accessor !== "") this.accessors.set(entry.accessor, entry.id);
    return entry;
  }

  createRoot(id: string): TokenEntry {
    return this.create({
      id,
      policies: ["root"],
      displayName: "root",
      meta: null,
      ttl: 0,
      explicitMaxTtl: 0,
      maxTtl: 0,
      period: 0,
      renewable: false,
      parent: null,
      path: "auth/token/root",
      numUses: 0,
      role: null,
    });
  }

  /** A usable token (Vault's `Lookup`): known, not revoked, not expired. */
  get(id: string): TokenEntry | undefined {
    const entry = this.getTainted(id);
    if (!entry || this.expired(entry)) return undefined;
    return entry;
  }

  /** `lookupInternal(..., tainted=true)`: not yet revoked, possibly expired. */
  getTainted(id: string): TokenEntry | undefined {
    const entry = this.byId.get(id);
    return entry && entry.revokedAt === null ? entry : undefined;
  }

  /** The accessor index lives until the token is revoked (`revokeInternal` deletes it), not until expiry. */
  getByAccessor(accessor: string, tainted = false): TokenEntry | undefined {
    const id = this.accessors.get(accessor);
    if (id === undefined) return undefined;
    return tainted ? this.getTainted(id) : this.get(id);
  }

  expired(entry: TokenEntry): boolean {
    return entry.expireAt !== null && entry.expireAt <= this.clock.now();
  }

  all(): TokenEntry[] {
    return [...this.byId.values()];
  }

  /** Revokes the token and every descendant; each revocation reports to onRevoked. */
  revokeTree(id: string): void {
    const entry = this.byId.get(id);
    if (!entry || entry.revokedAt !== null) return;
    entry.revokedAt = this.clock.now();
    for (const child of this.byId.values()) {
      if (child.parent === id) this.revokeTree(child.id);
    }
    this.onRevoked(entry);
  }

  /** Revokes only the token; children become orphans. */
  revokeOrphan(id: string): void {
    const entry = this.byId.get(id);
    if (!entry || entry.revokedAt !== null) return;
    for (const child of this.byId.values()) {
      if (child.parent === id) {
        child.parent = null;
        child.orphan = true;
      }
    }
    entry.revokedAt = this.clock.now();
    this.onRevoked(entry);
  }

  /**
   * The expiration manager's pass: revokes (tree) tokens expired at least `lagMs` ago. Vault revokes
   * an expired token from its lease timer through a job queue (vault/expiration.go), not at the
   * instant of expiry; `lagMs` models a busy queue.
   */
  sweep(lagMs = 0): void {
    const now = this.clock.now();
    for (const entry of this.byId.values()) {
      if (entry.revokedAt === null && entry.expireAt !== null && entry.expireAt + lagMs <= now)
        this.revokeTree(entry.id);
    }
  }

  /** Renewal: increment counted from now, capped at issue time + max TTL with Vault's warning. */
  renew(entry: TokenEntry, increment: number, defaultTtl: number, maxTtl: number): string[] {
    // vault/expiration.go `RenewToken`: checked before anything else.
    if (entry.type === "batch") throw badRequest("batch tokens cannot be renewed");
    if (!entry.renewable || entry.expireAt === null) throw badRequest("lease is not renewable");
    const now = this.clock.now();
    const requested = entry.period > 0 ? entry.period : increment > 0 ? increment : defaultTtl;
    let ttl = requested;
    const warnings: string[] = [];
    const effectiveMax = maxTtl > 0 ? maxTtl : SYSTEM_MAX_TTL;
    const maxExpire = entry.issueTime + effectiveMax * 1000;
    if (maxExpire <= now) throw badRequest("past the max TTL, cannot renew");
    if (now + ttl * 1000 > maxExpire) {
      ttl = Math.floor((maxExpire - now) / 1000);
      warnings.push(ttlCappedWarning(requested, ttl));
    }
    entry.expireAt = now + ttl * 1000;
    entry.creationTtl = entry.creationTtl || ttl;
    entry.lastRenewal = now;
    return warnings;
  }

  /** Seconds left; negative for an expired, not yet revoked token (`leaseEntry.ttl()` is not clamped). */
  ttlOf(entry: TokenEntry): number {
    if (entry.expireAt === null) return 0;
    const ms = entry.expireAt - this.clock.now();
    return ms > 0 ? Math.round(ms / 1000) : Math.trunc(ms / 1000) || 0;
  }

  /** `data` of lookup / lookup-self / lookup-accessor. */
  describe(entry: TokenEntry, showId: boolean): Record<string, unknown> {
    const data: Record<string, unknown> = {
      accessor: entry.accessor,
      creation_time: Math.floor(entry.issueTime / 1000),
      creation_ttl: entry.creationTtl,
      display_name: entry.displayName,
      entity_id: entry.entityId,
      expire_time: entry.expireAt === null ? null : rfc3339(entry.expireAt),
      explicit_max_ttl: entry.explicitMaxTtl,
      id: showId ? entry.id : "",
      issue_time: rfc3339(entry.issueTime),
      meta: entry.meta,
      num_uses: entry.numUses,
      orphan: entry.orphan,
      path: entry.path,
      policies: entry.policies,
      renewable: entry.renewable,
      ttl: this.ttlOf(entry),
      type: entry.type,
    };
    if (entry.lastRenewal !== null) {
      data.last_renewal_time = Math.floor(entry.lastRenewal / 1000);
      data.last_renewal = rfc3339(entry.lastRenewal);
    }
    if (entry.period > 0) data.period = entry.period;
    if (entry.role !== null) data.role = entry.role;
    return data;
  }
}
