/** Token store: creation, lookup (expired/revoked tokens are invalid), tree revocation, renewal. */
import { randomUUID } from "node:crypto";
import type { Clock } from "./clock.ts";
import { badRequest } from "./errors.ts";
import { accessorId, serviceTokenId } from "./ids.ts";
import { rfc3339, SYSTEM_MAX_TTL, ttlCappedWarning } from "./durations.ts";
import type { TokenEntry } from "./types.ts";

export interface NewToken {
  id?: string;
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
    const entry: TokenEntry = {
      id: spec.id ?? serviceTokenId(),
      accessor: accessorId(),
      policies: spec.policies,
      displayName: spec.displayName,
      meta: spec.meta,
      issueTime: now,
      creationTtl: spec.ttl,
      expireAt: spec.ttl > 0 ? now + spec.ttl * 1000 : null,
      explicitMaxTtl: spec.explicitMaxTtl,
      maxTtl: spec.maxTtl,
      period: spec.period,
      renewable: spec.renewable,
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
    this.accessors.set(entry.accessor, entry.id);
    return entry;
  }

  createRoot(id: string): TokenEntry {
    return this.create({
      id, policies: ["root"], displayName: "root", meta: null, ttl: 0, explicitMaxTtl: 0, maxTtl: 0,
      period: 0, renewable: false, parent: null, path: "auth/token/root", numUses: 0, role: null,
    });
  }

  /** A usable token: known, not revoked, not expired. */
  get(id: string): TokenEntry | undefined {
    const entry = this.byId.get(id);
    if (!entry || entry.revokedAt !== null) return undefined;
    if (entry.expireAt !== null && entry.expireAt <= this.clock.now()) return undefined;
    return entry;
  }

  getByAccessor(accessor: string): TokenEntry | undefined {
    const id = this.accessors.get(accessor);
    return id === undefined ? undefined : this.get(id);
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

  /** Expires tokens whose TTL ran out (tree revoke, like the expiration manager). */
  sweep(): void {
    const now = this.clock.now();
    for (const entry of this.byId.values()) {
      if (entry.revokedAt === null && entry.expireAt !== null && entry.expireAt <= now) this.revokeTree(entry.id);
    }
  }

  /** Renewal: increment counted from now, capped at issue time + max TTL with Vault's warning. */
  renew(entry: TokenEntry, increment: number, defaultTtl: number, maxTtl: number): string[] {
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

  ttlOf(entry: TokenEntry): number {
    if (entry.expireAt === null) return 0;
    return Math.max(0, Math.round((entry.expireAt - this.clock.now()) / 1000));
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
      type: "service",
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
