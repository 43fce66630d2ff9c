/**
 * Expiration manager: leases owned by tokens, renew with max-TTL capping, sync/lazy revoke,
 * prefix revoke, expiry sweep (revocation runs the backend's revoke, e.g. DROP ROLE).
 *
 * vault/expiration.go: `RevokeByToken` only marks the token's leases expired (`lazyRevokeInternal`);
 * the backend revocation runs later from the pending timer's job queue. `lagMs` delays every
 * revocation of an expired (or lazily revoked) lease by that much, to model a busy queue.
 */
import type { Clock } from "./clock.ts";
import { badRequest } from "./errors.ts";
import { base62 } from "./ids.ts";
import { rfc3339, SYSTEM_MAX_TTL, ttlCappedWarning } from "./durations.ts";
import type { TokenEntry } from "./types.ts";

export interface LeaseBackend {
  /** Called with the new expiry after a successful renew (e.g. ALTER ROLE VALID UNTIL). */
  renew?(expireAt: number): Promise<void>;
  revoke(): Promise<void>;
}

export interface LeaseEntry {
  id: string;
  tokenId: string;
  accessor: string;
  issueTime: number;
  expireAt: number;
  defaultTtl: number;
  maxTtl: number;
  renewable: boolean;
  lastRenewal: number | null;
  /** When revocation was queued: the lazy revoke, else the expiry (revokedAt − this = the lag). */
  queuedAt: number | null;
  revokedAt: number | null;
  revokeError: string | null;
  /** Owned by a batch token: the lease never outlives it (renewals are capped silently). */
  capAt: number | null;
  backend: LeaseBackend;
  pending: Promise<void> | null;
}

export interface NewLease {
  path: string;
  tokenId: string;
  accessor: string;
  ttl: number;
  defaultTtl: number;
  maxTtl: number;
  renewable: boolean;
  /** Expiry of the owning batch token, if any. */
  capAt?: number | null;
  backend: LeaseBackend;
}

/**
 * Who owns a new lease (vault/expiration.go `Register`): the token's secondary index, except for
 * batch tokens — indexed under their parent, or not at all for orphans — whose expiry caps the lease.
 */
export function leaseOwner(token: TokenEntry): Pick<NewLease, "tokenId" | "accessor" | "capAt"> {
  if (token.type !== "batch") return { tokenId: token.id, accessor: token.accessor, capAt: null };
  return { tokenId: token.parent ?? "", accessor: "", capAt: token.expireAt };
}

export class LeaseManager {
  private readonly leases = new Map<string, LeaseEntry>();
  /** Extra delay (emulator ms) between a lease's expiry and its revocation by the sweep. */
  lagMs = 0;

  constructor(private readonly clock: Clock) {}

  /** The TTL a new lease gets: capped at the owning batch token's expiry (spec §7.1). */
  cappedTtl(ttl: number, capAt: number | null | undefined): number {
    if (capAt === null || capAt === undefined) return ttl;
    return Math.max(0, Math.min(ttl, Math.floor((capAt - this.clock.now()) / 1000)));
  }

  register(spec: NewLease): LeaseEntry {
    const now = this.clock.now();
    const entry: LeaseEntry = {
      id: `${spec.path}/${base62(24)}`,
      tokenId: spec.tokenId,
      accessor: spec.accessor,
      issueTime: now,
      expireAt: now + this.cappedTtl(spec.ttl, spec.capAt) * 1000,
      defaultTtl: spec.defaultTtl,
      maxTtl: spec.maxTtl > 0 ? spec.maxTtl : SYSTEM_MAX_TTL,
      renewable: spec.renewable,
      lastRenewal: null,
      queuedAt: null,
      revokedAt: null,
      revokeError: null,
      capAt: spec.capAt ?? null,
      backend: spec.backend,
      pending: null,
    };
    this.leases.set(entry.id, entry);
    return entry;
  }

  /** A lease that still exists (not revoked); may be expired-but-not-reaped. */
  get(id: string): LeaseEntry | undefined {
    const entry = this.leases.get(id);
    return entry && entry.revokedAt === null ? entry : undefined;
  }

  all(): LeaseEntry[] {
    return [...this.leases.values()];
  }

  async renew(id: string, increment: number): Promise<{ entry: LeaseEntry; warnings: string[] }> {
    const entry = this.get(id);
    if (!entry) throw badRequest("lease not found");
    const now = this.clock.now();
    if (entry.expireAt <= now) {
      if (entry.revokeError !== null) throw badRequest("lease is expired and has failed previous revocation attempts");
      throw badRequest("lease expired");
    }
    if (!entry.renewable) throw badRequest("lease is not renewable");
    const maxExpire = entry.issueTime + entry.maxTtl * 1000;
    if (maxExpire <= now) throw badRequest("past the max TTL, cannot renew");
    const requested = increment > 0 ? increment : entry.defaultTtl;
    let ttl = requested;
    const warnings: string[] = [];
    if (now + ttl * 1000 > maxExpire) {
      ttl = Math.floor((maxExpire - now) / 1000);
      warnings.push(ttlCappedWarning(requested, ttl));
    }
    const expireAt = Math.min(now + ttl * 1000, entry.capAt ?? Infinity);
    await entry.backend.renew?.(expireAt);
    entry.expireAt = expireAt;
    entry.lastRenewal = now;
    return { entry, warnings };
  }

  ttlOf(entry: LeaseEntry): number {
    return Math.max(0, Math.round((entry.expireAt - this.clock.now()) / 1000));
  }

  describe(entry: LeaseEntry): Record<string, unknown> {
    return {
      id: entry.id,
      issue_time: rfc3339(entry.issueTime),
      expire_time: rfc3339(entry.expireAt),
      last_renewal: entry.lastRenewal === null ? null : rfc3339(entry.lastRenewal),
      renewable: entry.renewable && entry.expireAt > this.clock.now() && entry.revokeError === null,
      ttl: this.ttlOf(entry),
    };
  }

  /** Synchronous revoke: unknown ids succeed; a backend failure is a 400 with its text. */
  async revoke(id: string, force = false): Promise<void> {
    const entry = this.get(id);
    if (!entry) return;
    try {
      await this.revokeEntry(entry);
    } catch (err) {
      if (!force) throw badRequest(err instanceof Error ? err.message : String(err));
      entry.revokedAt = this.clock.now();
    }
  }

  /** Marks a lease expired now (`lazyRevokeInternal`); the sweep revokes it a moment later. */
  lazyRevoke(id: string): void {
    const entry = this.get(id);
    if (!entry) return;
    const now = this.clock.now();
    entry.expireAt = Math.min(entry.expireAt, now);
    entry.queuedAt ??= now;
  }

  /** `RevokeByToken`: every lease in the token's secondary index (batch tokens index under their parent). */
  revokeByToken(tokenId: string): void {
    for (const entry of this.leases.values()) {
      if (entry.tokenId !== "" && entry.tokenId === tokenId) this.lazyRevoke(entry.id);
    }
  }

  /** Ids under a prefix: the exact lease if the prefix names one, else everything below prefix/. */
  matchPrefix(prefix: string): LeaseEntry[] {
    if (!prefix.endsWith("/")) {
      const exact = this.get(prefix);
      if (exact) return [exact];
      prefix += "/";
    }
    return this.all().filter((e) => e.revokedAt === null && e.id.startsWith(prefix));
  }

  async revokePrefix(prefix: string, force: boolean): Promise<void> {
    for (const entry of this.matchPrefix(prefix)) await this.revoke(entry.id, force);
  }

  /** Keys one level below prefix (a `/` is appended), or null when there are none. */
  list(prefix: string): string[] | null {
    const base = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    const keys = new Set<string>();
    for (const entry of this.leases.values()) {
      if (entry.revokedAt !== null || !entry.id.startsWith(base)) continue;
      const rest = entry.id.slice(base.length);
      const slash = rest.indexOf("/");
      keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    return keys.size === 0 ? null : [...keys].sort();
  }

  /** Starts revocation of every lease expired `lagMs` ago; failures stay recorded and are retried next sweep. */
  sweep(): Promise<void> {
    const now = this.clock.now();
    const work: Promise<void>[] = [];
    for (const entry of this.leases.values()) {
      if (entry.revokedAt === null && entry.expireAt <= now) entry.queuedAt ??= entry.expireAt;
      if (entry.revokedAt === null && (entry.queuedAt ?? entry.expireAt) + this.lagMs <= now) {
        work.push(this.revokeEntry(entry).catch(() => undefined));
      }
    }
    return Promise.all(work).then(() => undefined);
  }

  /** Waits for every revocation now in flight. */
  async settle(): Promise<void> {
    const pending = this.all()
      .map((e) => e.pending)
      .filter((p): p is Promise<void> => p !== null);
    await Promise.allSettled(pending);
  }

  private revokeEntry(entry: LeaseEntry): Promise<void> {
    if (entry.pending) return entry.pending;
    const run = (async () => {
      try {
        await entry.backend.revoke();
        entry.revokedAt = this.clock.now();
        entry.revokeError = null;
      } catch (err) {
        entry.revokeError = err instanceof Error ? err.message : String(err);
        throw err;
      } finally {
        entry.pending = null;
      }
    })();
    entry.pending = run;
    return run;
  }
}
