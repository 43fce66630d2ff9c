/** The emulator's in-process state shared by handlers, fake controllers and test controls. */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { Store } from "./store.ts";
import { TokenSigner } from "./tokens.ts";
import { Traffic } from "./traffic.ts";
import type { Authorizer, AuthzAttributes, AuthzDecision, KubeObject, KubernetesEmulatorOptions } from "./types.ts";

export interface FailRule {
  method?: string;
  pathPattern: string | RegExp;
  status: number;
  count: number;
  retryAfterSeconds?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  user?: string;
  /** The Accept header as sent. */
  accept?: string;
}

export type ResolvedOptions = Required<Omit<KubernetesEmulatorOptions, "port" | "adminToken">>;

export class EmulatorState {
  readonly store: Store;
  readonly signer = new TokenSigner(randomBytes(32));
  readonly adminToken: string;
  readonly options: ResolvedOptions;
  authorizer: Authorizer = () => ({ allowed: true });
  readonly failRules: FailRule[] = [];
  readonly requests: RequestRecord[] = [];
  /** Requests and response bytes per user, watches apart (traffic.ts). */
  readonly traffic = new Traffic();
  /** Unexpected (non-API) errors raised while serving; tests can assert this stays empty. */
  readonly internalErrors: unknown[] = [];
  /** Open watch responses; dropWatches() destroys them, close() ends them. */
  readonly watches = new Set<{ res: ServerResponse; end: (abrupt: boolean) => void; bookmark: () => void }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pauseGate: { promise: Promise<void>; release: () => void } | undefined;
  closed = false;
  url = "";
  /** Deletes an object the way the API would with default options (set up by the server; used by the GC). */
  deleteInternal: (resource: string, obj: KubeObject) => void = () => {
    throw new Error("kubernetes emulator: deleteInternal not wired");
  };

  /** system:masters (the admin token) may do anything; everyone else asks the authorizer. */
  authorize(attrs: AuthzAttributes): AuthzDecision {
    if (attrs.user.groups.includes("system:masters")) return { allowed: true, reason: "system:masters" };
    return this.authorizer(attrs);
  }

  constructor(opts: KubernetesEmulatorOptions) {
    this.options = {
      podGraceSeconds: opts.podGraceSeconds ?? 1,
      autoRunPods: opts.autoRunPods ?? true,
      podStartDelayMs: opts.podStartDelayMs ?? 50,
      gcDelayMs: opts.gcDelayMs ?? 100,
      historyLimit: opts.historyLimit ?? 1000,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
      anonymousAuth: opts.anonymousAuth ?? false,
      workloadControllers: opts.workloadControllers ?? false,
    };
    this.adminToken = opts.adminToken ?? `emulator-admin-${randomBytes(16).toString("hex")}`;
    this.store = new Store(this.options.historyLimit);
  }

  /** setTimeout that close() cancels. */
  later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
  }

  pause(): void {
    if (this.pauseGate !== undefined) return;
    let release = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.pauseGate = { promise, release };
  }

  resume(): void {
    const gate = this.pauseGate;
    this.pauseGate = undefined;
    gate?.release();
  }

  async waitIfPaused(): Promise<void> {
    while (this.pauseGate !== undefined) await this.pauseGate.promise;
  }

  /** The first fail rule matching this request, consumed by one. */
  takeFailure(method: string, path: string): FailRule | undefined {
    const rule = this.failRules.find(
      (r) =>
        (r.method === undefined || r.method.toUpperCase() === method) &&
        (typeof r.pathPattern === "string" ? path.includes(r.pathPattern) : r.pathPattern.test(path)),
    );
    if (rule === undefined) return undefined;
    rule.count--;
    if (rule.count <= 0) this.failRules.splice(this.failRules.indexOf(rule), 1);
    return rule;
  }

  shutdown(): void {
    this.closed = true;
    this.resume();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of [...this.watches]) w.end(false);
  }
}
