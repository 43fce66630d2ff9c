/** Test-only controls of a running emulator (never reachable over HTTP). */
import type { Core } from "./core-types.ts";
import { sweep } from "./core.ts";
import type { Faults, HttpServer, RequestRecord } from "./server.ts";
import type { TokenReviewRecord } from "./k8s-state.ts";

export interface LeaseInfo {
  id: string;
  tokenAccessor: string;
  issueTime: Date;
  expireTime: Date;
  lastRenewal: Date | null;
  renewable: boolean;
  revoked: boolean;
  /** When its revocation was queued (lazy revoke, or expiry): `revokedAt − revokeQueuedAt` is the lag. */
  revokeQueuedAt: Date | null;
  revokedAt: Date | null;
  revokeError: string | null;
}

export interface TokenInfo {
  id: string;
  type: "service" | "batch";
  /** "" for batch tokens. */
  accessor: string;
  policies: string[];
  displayName: string;
  path: string;
  meta: Record<string, string> | null;
  issueTime: Date;
  expireTime: Date | null;
  renewable: boolean;
  orphan: boolean;
  parentAccessor: string | null;
  role: string | null;
  /** Not usable: revoked, or expired (the expiration manager may not have revoked it yet). */
  revoked: boolean;
}

export interface VaultControl {
  /** Seal now (like `vault operator seal`); storage, tokens and leases are kept. */
  seal(): void;
  /** Unseal with the stored keys, without going through HTTP. */
  unseal(): void;
  /** Like a restarted Vault: sealed, unseal progress forgotten, open connections dropped. */
  restartSealed(): void;
  isSealed(): boolean;
  /** Active: the HA leader, or (no HA) an unsealed node that is not a `standby` replica. */
  isActive(): boolean;
  /** Like `vault operator step-down` on this node (HA only): another unsealed node takes over. */
  stepDown(): void;
  /** The expiration manager's lag (see VaultEmulatorOptions.expirationLagMs). */
  setExpirationLag(ms: number): void;
  /** Delay every response by ms (0 clears). */
  addLatency(ms: number): void;
  /** The next `count` requests whose path (after /v1/) matches get `status` (glob `*` or RegExp). */
  failNext(pathPattern: string | RegExp, count: number, status: number, message?: string): void;
  clearFaults(): void;
  /** Destroys every open socket (in-flight requests see a reset). */
  dropConnections(): void;
  /** Accepts and immediately closes the next `count` TCP connections. */
  refuseConnections(count: number): void;
  leases(): LeaseInfo[];
  tokens(): TokenInfo[];
  /** Every TokenReview call the Kubernetes auth method made. */
  tokenReviews(): TokenReviewRecord[];
  /** Every HTTP request answered (method, path after /v1/, status). */
  requests(): RequestRecord[];
  clock: {
    now(): number;
    /** Moves emulator time forward, then runs an expiry pass and waits for its revocations. */
    advance(ms: number): Promise<void>;
  };
  /** Runs an expiry pass now and waits for every revocation in flight. */
  settle(): Promise<void>;
}

export function createControl(core: Core, faults: Faults, http: HttpServer, log: RequestRecord[]): VaultControl {
  const settle = async () => {
    const active = core.ha?.leader() as { core?: Core } | undefined;
    await sweep(active?.core ?? core);
    await core.leases.settle();
  };
  const unseal = () => {
    for (const key of core.unsealKeys.slice(0, core.seal.t)) core.seal.submit(Buffer.from(key, "hex"));
  };
  return {
    seal: () => core.seal.seal(),
    unseal,
    restartSealed: () => {
      core.seal.seal();
      http.dropConnections();
    },
    isSealed: () => core.seal.sealed,
    isActive: () => (core.ha ? core.ha.isActive() : !core.seal.sealed && !core.seal.standby),
    stepDown: () => core.ha?.stepDown(),
    setExpirationLag: (ms) => void (core.leases.lagMs = ms),
    addLatency: (ms) => void (faults.latencyMs = ms),
    failNext: (pattern, count, status, message) =>
      void faults.failures.push({ pattern, remaining: count, status, message }),
    clearFaults: () => {
      faults.failures.length = 0;
      faults.latencyMs = 0;
      faults.refuseNext = 0;
    },
    dropConnections: () => http.dropConnections(),
    refuseConnections: (count) => void (faults.refuseNext = count),
    leases: () =>
      core.leases.all().map((l) => ({
        id: l.id,
        tokenAccessor: l.accessor,
        issueTime: new Date(l.issueTime),
        expireTime: new Date(l.expireAt),
        lastRenewal: l.lastRenewal === null ? null : new Date(l.lastRenewal),
        renewable: l.renewable,
        revoked: l.revokedAt !== null,
        revokeQueuedAt: l.queuedAt === null ? null : new Date(l.queuedAt),
        revokedAt: l.revokedAt === null ? null : new Date(l.revokedAt),
        revokeError: l.revokeError,
      })),
    tokens: () => {
      const all = core.tokens.all();
      return all.map((t) => ({
        id: t.id,
        type: t.type,
        accessor: t.accessor,
        policies: t.policies,
        displayName: t.displayName,
        path: t.path,
        meta: t.meta,
        issueTime: new Date(t.issueTime),
        expireTime: t.expireAt === null ? null : new Date(t.expireAt),
        renewable: t.renewable,
        orphan: t.orphan,
        role: t.role,
        parentAccessor: all.find((p) => p.id === t.parent)?.accessor ?? null,
        revoked: core.tokens.get(t.id) === undefined,
      }));
    },
    tokenReviews: () => [...core.kubernetes.reviews],
    requests: () => [...log],
    clock: {
      now: () => core.clock.now(),
      advance: async (ms) => {
        core.clock.advance(ms);
        await settle();
      },
    },
    settle,
  };
}
