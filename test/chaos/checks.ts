/**
 * The invariants, evaluated against the ground truth (truth.ts): PostgreSQL logins with the
 * credentials each pod sees in its files, Vault's tokens and leases, pg_roles, BullMQ's failed
 * sets, the leasekeeper processes' exits and Redis's size.
 */
import pg from "pg";
import { Redis } from "ioredis";
import type { Stack } from "../helpers/stack.ts";
import type { Size } from "./config.ts";
import { revokeBoundMs } from "./config.ts";
import type { FaultWindow } from "./faults.ts";
import { VAULT_UNAVAILABLE, type FaultKind } from "./schedule.ts";
import { NAMESPACE, type PodTruth, type Truth } from "./truth.ts";

export interface Violation {
  readonly invariant: 1 | 2 | 3 | 4 | 5;
  readonly at: number;
  readonly pod: string;
  readonly what: string;
}

export interface SampleStats {
  samples: number;
  failed: number;
  /** Failed while or just after Vault was unavailable longer than the renew margin: reported apart. */
  excused: number;
  /** The probe itself could not reach PostgreSQL (not an authentication answer): not counted. */
  probeErrors: number;
  /** Skipped: PostgreSQL itself was restarting. */
  skipped: number;
}

/** ms between an outage's end and the first sample round in which every live pod logged in. */
export interface Recovery {
  readonly fault: string;
  readonly ms: number | undefined;
}

const AUTH_FAILURES = new Set(["28P01", "28000"]);

/** A real login with the pod's mounted credentials: true / false (refused) / undefined (could not ask). */
export async function tryLogin(
  stack: Stack,
  creds: { username: string; password: string },
): Promise<boolean | undefined> {
  const server = stack.postgres;
  if (!server) throw new Error("no postgres in this stack");
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    database: server.database,
    user: creds.username,
    password: creds.password,
    connectionTimeoutMillis: 5000,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch (err) {
    return AUTH_FAILURES.has((err as { code?: string }).code ?? "") ? false : undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export class Checker {
  readonly violations: Violation[] = [];
  readonly stats: SampleStats = { samples: 0, failed: 0, excused: 0, probeErrors: 0, skipped: 0 };
  readonly recoveries: Recovery[] = [];
  /** Pod gone → its (last) database role dropped, ms. */
  readonly revokeDelays: number[] = [];
  private readonly checkedGone = new Set<string>();
  private readonly expiredSeen = new Set<string>();
  private readonly pendingFlagged = new Set<string>();
  private readonly waitingRecovery: FaultWindow[] = [];
  private readonly failures: { uid: string; pod: string; at: number; what: string; pending: boolean }[] = [];
  /** Per pod: its lease ran out inside a Vault outage at `from`; refusals until `until` are the outage's. */
  private readonly expiredInOutage = new Map<string, { from: number; until: number }[]>();
  /** Rotations forced by the old lease expiring in Vault (during an outage): not judged by invariant 5. */
  expiredRotations = 0;

  constructor(
    private readonly stack: Stack,
    private readonly truth: Truth,
    private readonly size: Size,
    readonly windows: FaultWindow[],
  ) {}

  /** Pods already reported under invariant 2: the final orphan check does not count them again. */
  private readonly flaggedGone = new Set<string>();

  private add(v: Omit<Violation, "at">): void {
    this.violations.push({ ...v, at: Date.now() });
  }

  private outages(kinds: (k: string) => boolean): FaultWindow[] {
    return this.windows.filter((w) => kinds(w.kind));
  }

  private vaultOutages(): { start: number; end: number }[] {
    return this.outages((k) => VAULT_UNAVAILABLE.has(k as FaultKind)).map((w) => ({
      start: w.start,
      end: w.end === w.start ? Date.now() : w.end,
    }));
  }

  /**
   * The Vault outage a lease expiring at `expireAt` (wall clock) could not survive, if any: it ran
   * out inside the outage (or within 2 s of its end, a renewal in flight), and its renewal was not
   * due before the outage began — renewal runs at 67–77 % of the TTL, so it was due at the latest
   * 23 % of the TTL before expiry. A lease whose renewal was due while Vault still answered is no
   * outage's doing.
   */
  private outageExpiring(expireAt: number): { start: number; end: number } | undefined {
    const ttl = this.size.dbTtlS * 1000;
    return this.vaultOutages().find(
      (w) => expireAt >= w.start && expireAt <= w.end + 2000 && expireAt - 0.23 * ttl >= w.start - 1000,
    );
  }

  private postgresDown(t: number): boolean {
    return this.outages((k) => k === "postgres-restart").some(
      (w) => t >= w.start - 500 && (w.end === w.start || t <= w.end + 3000),
    );
  }

  /** Outage time (Vault, Redis, PostgreSQL) inside [from, to]: the revoke bound is extended by it. */
  private outageWithin(from: number, to: number): number {
    let total = 0;
    for (const w of this.outages(
      (k) => VAULT_UNAVAILABLE.has(k as never) || k === "redis-restart" || k === "postgres-restart",
    )) {
      const end = w.end === w.start ? Date.now() : w.end;
      total += Math.max(0, Math.min(end, to) - Math.max(w.start, from));
    }
    return total;
  }

  /** Invariant 1: one sample round over every live pod. */
  async sample(): Promise<void> {
    const now = Date.now();
    if (this.postgresDown(now)) {
      this.stats.skipped++;
      return;
    }
    const live = [...this.truth.pods.values()].filter((p) => p.goneAt === undefined && p.deletingAt === undefined);
    let failedRound = 0;
    await Promise.all(
      live.map(async (p) => {
        if (p.runningAt === undefined) {
          if (now - p.createdAt > this.size.startAllowanceMs && this.stillLive(p)) {
            this.stats.samples++;
            failedRound++;
            this.countFailure(p, now, "still pending without credentials");
          }
          return;
        }
        this.stats.samples++;
        const creds = p.mounted;
        const ok = creds ? await tryLogin(this.stack, creds) : false;
        if (ok === undefined) {
          this.stats.probeErrors++;
          return;
        }
        if (ok) return;
        // Gone, finished or terminating meanwhile (the store is asked now, not the last look): not live any more.
        if (!this.stillLive(p)) return;
        failedRound++;
        this.countFailure(
          p,
          now,
          creds ? `mounted credentials ${creds.username} refused by PostgreSQL` : "no credentials mounted",
        );
      }),
    );
    this.noteRecovery(now, failedRound === 0 && live.length > 0);
  }

  private stillLive(p: PodTruth): boolean {
    const pod = this.stack.kube.control.get("pods", NAMESPACE, p.name);
    const phase = pod?.status?.phase;
    return (
      pod !== undefined &&
      pod.metadata.uid === p.uid &&
      pod.metadata.deletionTimestamp === undefined &&
      phase !== "Succeeded" &&
      phase !== "Failed"
    );
  }

  private countFailure(p: PodTruth, now: number, what: string): void {
    this.failures.push({ uid: p.uid, pod: p.name, at: now, what, pending: p.runningAt === undefined });
  }

  /**
   * Judges the failed samples with the whole run known: a refusal while the pod's lease had run out
   * inside a Vault outage (and up to one TTL after the outage, for the re-issue and the kubelet's
   * refresh), or a pod kept pending by a Vault outage, is reported apart; any other is a violation.
   */
  judgeSamples(): void {
    const ttl = this.size.dbTtlS * 1000;
    for (const f of this.failures) {
      const excused = f.pending
        ? this.vaultOutages().some(
            (w) => w.start <= f.at && w.end + ttl >= (this.truth.pods.get(f.uid)?.createdAt ?? f.at),
          )
        : (this.expiredInOutage.get(f.uid) ?? []).some((x) => f.at >= x.from - 2000 && f.at <= x.until);
      if (excused) this.stats.excused++;
      else {
        this.stats.failed++;
        this.violations.push({ invariant: 1, at: f.at, pod: f.pod, what: f.what });
      }
    }
    this.failures.length = 0;
  }

  private noteRecovery(now: number, allGood: boolean): void {
    for (const w of this.windows) {
      if (!VAULT_UNAVAILABLE.has(w.kind) || w.end === w.start || this.waitingRecovery.includes(w)) continue;
      if (!this.recoveries.some((r) => r.fault === `${w.kind}@${w.start}`)) this.waitingRecovery.push(w);
    }
    for (const w of [...this.waitingRecovery]) {
      if (now < w.end || !allGood) continue;
      this.recoveries.push({ fault: `${w.kind}@${w.start}`, ms: now - w.end });
      this.waitingRecovery.splice(this.waitingRecovery.indexOf(w), 1);
    }
  }

  /** Invariants 2 and 3, against Vault's and PostgreSQL's state now. */
  checkVault(): void {
    const now = Date.now();
    const control = this.stack.vault.control;
    const liveTokens = new Set(
      control
        .tokens()
        .filter((t) => !t.revoked)
        .map((t) => t.accessor),
    );
    const leases = control.leases();
    const liveLeases = new Set(leases.filter((l) => !l.revoked).map((l) => l.id));
    const bound = revokeBoundMs(this.size);
    for (const p of this.truth.pods.values()) {
      if (p.goneAt === undefined || this.checkedGone.has(p.uid)) continue;
      const last = p.usernames[p.usernames.length - 1];
      const dropped = last === undefined ? undefined : this.truth.users.get(last)?.droppedAt;
      const deadline = p.goneAt + bound + this.outageWithin(p.goneAt, now);
      const allGone =
        [...p.accessors].every((a) => !liveTokens.has(a)) &&
        [...p.leaseIds].every((l) => !liveLeases.has(l)) &&
        p.usernames.every((u) => this.truth.roles !== undefined && !this.truth.roles.has(u));
      if (allGone) {
        this.checkedGone.add(p.uid);
        if (dropped !== undefined) this.revokeDelays.push(Math.max(0, dropped - p.goneAt));
        continue;
      }
      if (now < deadline) continue;
      this.checkedGone.add(p.uid);
      this.flaggedGone.add(p.uid);
      const left = [
        ...[...p.accessors].filter((a) => liveTokens.has(a)).map(() => "token"),
        ...[...p.leaseIds].filter((l) => liveLeases.has(l)).map(() => "lease"),
        ...p.usernames.filter((u) => this.truth.roles?.has(u)).map((u) => `role ${u}`),
      ];
      this.add({
        invariant: 2,
        pod: p.name,
        what: `${left.join(", ")} still live ${Math.round((now - p.goneAt) / 1000)} s after the pod was gone (bound ${Math.round((deadline - p.goneAt) / 1000)} s)`,
      });
    }
    const ttl = this.size.dbTtlS * 1000;
    for (const l of leases) {
      if (!l.revoked || l.revokedAt === null || this.expiredSeen.has(l.id)) continue;
      if (l.revokedAt.getTime() < l.expireTime.getTime()) continue;
      this.expiredSeen.add(l.id);
      const uid = this.truth.leaseOwner.get(l.id);
      const p = uid === undefined ? undefined : this.truth.pods.get(uid);
      if (!p) continue;
      const expire = l.expireTime.getTime();
      if (p.goneVaultMs !== undefined && p.goneVaultMs <= expire) continue;
      const wallExpire = expire - (control.clock.now() - Date.now());
      // Still in the pod's files when it ran out (seen current within the last second before expiry, or after).
      if ((this.truth.leaseCurrentAt.get(l.id) ?? 0) < wallExpire - 1000) continue;
      const outage = this.outageExpiring(wallExpire);
      if (outage) {
        const list = this.expiredInOutage.get(p.uid) ?? [];
        list.push({ from: wallExpire, until: outage.end + ttl });
        this.expiredInOutage.set(p.uid, list);
        continue;
      }
      this.add({ invariant: 3, pod: p.name, what: `lease ${l.id.split("/").pop() ?? ""} expired while its pod lived` });
    }
  }

  /** Invariant 5: each rotation's old role went after the grace, and never before the pod's files showed the new one. */
  checkRotations(final: boolean): void {
    const grace = this.size.rotationGraceS * 1000;
    const bound = revokeBoundMs(this.size);
    const leases = new Map(this.stack.vault.control.leases().map((l) => [l.id, l]));
    for (const r of this.truth.rotations) {
      if ((r as { checked?: boolean }).checked) continue;
      const old = this.truth.users.get(r.from);
      const next = this.truth.users.get(r.to);
      const p = this.truth.pods.get(r.uid);
      if (!old || !next || !p) continue;
      const dropped = old.droppedAt;
      const podAliveAtDrop =
        dropped !== undefined && (p.goneAt === undefined || dropped < p.goneAt) && p.deletingAt === undefined;
      // The old lease ran out in Vault (its role dropped by expiry, not by leasekeeper): invariant 3's business.
      const expired = (old.leaseIds ?? []).some((id) => {
        const l = leases.get(id);
        return l?.revokedAt != null && l.revokedAt.getTime() >= l.expireTime.getTime();
      });
      if (dropped !== undefined && expired) {
        (r as { checked?: boolean }).checked = true;
        this.expiredRotations++;
        continue;
      }
      if (dropped !== undefined && podAliveAtDrop) {
        (r as { checked?: boolean }).checked = true;
        const files = next.mountedAt !== undefined && next.mountedAt <= dropped ? "after" : "before";
        // Observation slack: Secrets and files are looked at every 250 ms, roles every 500 ms.
        if (dropped < r.secretAt + grace - 250)
          this.add({
            invariant: 5,
            pod: p.name,
            what: `old role ${r.from} dropped ${dropped - r.secretAt} ms after the Secret changed (grace ${grace} ms), ${files} the pod's files showed the new one`,
          });
        else if (next.mountedAt === undefined || dropped < next.mountedAt - 250)
          this.add({
            invariant: 5,
            pod: p.name,
            what: `old role ${r.from} dropped before the pod's files showed ${r.to}`,
          });
        continue;
      }
      if (dropped !== undefined || p.goneAt !== undefined) {
        (r as { checked?: boolean }).checked = true;
        continue;
      }
      const deadline = r.secretAt + grace + bound + this.outageWithin(r.secretAt, Date.now());
      if (Date.now() > deadline || final) {
        if (!final && Date.now() <= deadline) continue;
        (r as { checked?: boolean }).checked = true;
        if (Date.now() > deadline)
          this.add({
            invariant: 5,
            pod: p.name,
            what: `old role ${r.from} still live ${Math.round((Date.now() - r.secretAt) / 1000)} s after rotation`,
          });
      }
    }
  }

  /**
   * After the quiet period: nothing in Vault or PostgreSQL that no live pod holds now. A leftover
   * of a gone (or never seen) pod counts under invariant 2, one of a live pod's earlier credentials
   * under invariant 5; pods already reported under invariant 2 are not counted again.
   */
  finalOrphans(): void {
    const live = [...this.truth.pods.values()].filter((p) => p.goneAt === undefined);
    const accessors = new Set(live.map((p) => p.currentAccessor).filter((a): a is string => a !== undefined));
    const leaseIds = new Set(live.flatMap((p) => [...p.currentLeases]));
    const users = new Set(
      live.map((p) => p.usernames[p.usernames.length - 1]).filter((u): u is string => u !== undefined),
    );
    const control = this.stack.vault.control;
    const leftovers = new Map<string, string[]>();
    // A live pod's credentials replaced less than the grace (plus time to run the retirement) ago are still retiring.
    const retiringUntil = (uid: string) => {
      const p = this.truth.pods.get(uid);
      const last = p?.usernames[p.usernames.length - 1];
      const changed = last === undefined ? undefined : this.truth.users.get(last)?.secretAt;
      return p?.goneAt === undefined && changed !== undefined ? changed + this.size.rotationGraceS * 1000 + 10_000 : 0;
    };
    const note = (uid: string | undefined, what: string) => {
      const key = uid ?? `unknown:${what}`;
      if (uid !== undefined && (this.flaggedGone.has(uid) || Date.now() < retiringUntil(uid))) return;
      leftovers.set(key, [...(leftovers.get(key) ?? []), what]);
    };
    for (const t of control.tokens())
      if (!t.revoked && t.role === "postgres" && !accessors.has(t.accessor))
        note(this.truth.accessorOwner.get(t.accessor), "pod token");
    for (const l of control.leases())
      if (!l.revoked && l.id.startsWith("database/") && !leaseIds.has(l.id))
        note(this.truth.leaseOwner.get(l.id), "database lease");
    for (const u of this.truth.roles ?? []) if (!users.has(u)) note(this.truth.users.get(u)?.uid, `role ${u}`);
    for (const [key, items] of leftovers) {
      const pod = key.startsWith("unknown:") ? undefined : this.truth.pods.get(key);
      this.add({
        invariant: pod !== undefined && pod.goneAt === undefined ? 5 : 2,
        pod: pod?.name ?? "(no pod seen holding it)",
        what: `${items.join(", ")} still live after the quiet period, held by no live pod's Secret`,
      });
    }
  }
}

export interface RedisSize {
  readonly keys: number;
  readonly completedJobs: number;
  readonly usedMemory: number;
}

export async function redisSize(url: string, prefix: string): Promise<RedisSize | undefined> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    // Completed jobs are kept by design (removeOnComplete: an hour, up to a count): their hashes and logs are not live state.
    const completed = new Set<string>();
    for (const key of keys.filter((k) => k.startsWith(`${prefix}:`) && k.endsWith(":completed"))) {
      const queue = key.slice(0, -":completed".length);
      for (const id of await redis.zrange(key, "0", "-1")) {
        completed.add(`${queue}:${id}`);
        completed.add(`${queue}:${id}:logs`);
      }
    }
    const completedJobs = keys.filter((k) => completed.has(k)).length;
    const info = await redis.info("memory");
    const usedMemory = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
    return { keys: keys.length, completedJobs, usedMemory };
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

export interface FailedJob {
  readonly queue: string;
  readonly id: string;
  readonly reason: string;
}

export async function failedJobs(url: string, prefix: string): Promise<FailedJob[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true });
  redis.on("error", () => undefined);
  const out: FailedJob[] = [];
  try {
    await redis.connect();
    for (const key of await redis.keys(`${prefix}:*:failed`)) {
      const queue = key.slice(prefix.length + 1, -":failed".length);
      for (const id of await redis.zrange(key, "0", "-1")) {
        const reason = (await redis.hget(`${prefix}:${queue}:${id}`, "failedReason")) ?? "";
        out.push({ queue, id, reason });
      }
    }
  } catch {
    // Redis down at this moment: the next look counts.
  } finally {
    redis.disconnect();
  }
  return out;
}

/** A reason an operator can act on: says what failed, not a bare error class or BullMQ's stall bookkeeping. */
export function actionable(reason: string): boolean {
  const r = reason.trim();
  if (r === "" || /^(error|undefined|null|\[object object\])$/i.test(r)) return false;
  if (/stalled more than allowable limit/i.test(r)) return false;
  return true;
}
