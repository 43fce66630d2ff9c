/**
 * Ground truth, observed continuously and in-process: the pods and their Secrets in the Kubernetes
 * emulator's store, the files the fake kubelet shows each pod, the Vault emulator's tokens and
 * leases, and PostgreSQL's roles. Nothing here asks leasekeeper.
 */
import pg from "pg";
import type { Stack } from "../helpers/stack.ts";

export const NAMESPACE = "default";
export const POD_PREFIX = "chaos-";
export const secretNameOf = (pod: string) => `${pod}-leasekeeper`;

export interface PodTruth {
  readonly uid: string;
  readonly name: string;
  readonly createdAt: number;
  runningAt?: number;
  /** Graceful deletion started (deletionTimestamp): its containers are being stopped. */
  deletingAt?: number;
  /** Removed from the API, or reached Succeeded / Failed: its credentials must go. */
  goneAt?: number;
  /** goneAt on the Vault emulator's clock. */
  goneVaultMs?: number;
  /** Usernames its Secret held, in order. */
  readonly usernames: string[];
  readonly accessors: Set<string>;
  readonly leaseIds: Set<string>;
  /** Lease ids in the Secret's files at the last look (not retiring). */
  currentLeases: Set<string>;
  currentAccessor?: string;
  /** Username the pod's mounted creds.json holds now. */
  mounted?: { username: string; password: string };
}

export interface UserTruth {
  readonly uid: string;
  readonly username: string;
  secretAt?: number;
  mountedAt?: number;
  presentAt?: number;
  droppedAt?: number;
  /** The Vault lease(s) behind these credentials (the Secret's creds.json lease ids when first seen). */
  leaseIds?: string[];
}

export interface Rotation {
  readonly uid: string;
  readonly pod: string;
  readonly from: string;
  readonly to: string;
  readonly secretAt: number;
}

/** How often the store, Secrets and mounted files are looked at (ms); PostgreSQL roles every other tick. */
export const TICK_MS = 250;

export class Truth {
  readonly pods = new Map<string, PodTruth>();
  readonly users = new Map<string, UserTruth>();
  readonly rotations: Rotation[] = [];
  readonly leaseOwner = new Map<string, string>();
  /** Last time (wall clock) each lease id was seen among its pod's current (not retiring) leases. */
  readonly leaseCurrentAt = new Map<string, number>();
  readonly accessorOwner = new Map<string, string>();
  /** Usernames present in pg_roles at the last successful look (undefined before the first). */
  roles: Set<string> | undefined;
  private pgClient: pg.Client | undefined;
  private ticks = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly stack: Stack) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.tick()
        .catch(() => undefined)
        .finally(() => (this.busy = false));
    }, TICK_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    await this.pgClient?.end().catch(() => undefined);
    this.pgClient = undefined;
  }

  /** One look now (also used for the final check after the quiet period). */
  async tick(): Promise<void> {
    const now = Date.now();
    this.observeKube(now);
    if (this.ticks++ % 2 === 0) await this.observeRoles(Date.now());
  }

  private observeKube(now: number): void {
    const control = this.stack.kube.control;
    const seen = new Set<string>();
    for (const pod of control.list("pods", NAMESPACE)) {
      const name = pod.metadata.name ?? "";
      const uid = pod.metadata.uid ?? "";
      if (!name.startsWith(POD_PREFIX)) continue;
      seen.add(uid);
      let t = this.pods.get(uid);
      if (!t) {
        t = {
          uid,
          name,
          createdAt: Date.parse(pod.metadata.creationTimestamp ?? "") || now,
          usernames: [],
          accessors: new Set(),
          leaseIds: new Set(),
          currentLeases: new Set(),
        };
        this.pods.set(uid, t);
      }
      const phase = pod.status?.phase;
      if (phase === "Running" && t.runningAt === undefined) t.runningAt = now;
      if (pod.metadata.deletionTimestamp !== undefined && t.deletingAt === undefined) t.deletingAt = now;
      if ((phase === "Succeeded" || phase === "Failed") && t.goneAt === undefined) this.markGone(t, now);
    }
    for (const t of this.pods.values()) if (t.goneAt === undefined && !seen.has(t.uid)) this.markGone(t, now);
    for (const t of this.pods.values()) {
      if (t.goneAt !== undefined && now - t.goneAt > 5000) continue;
      this.observeSecret(t, now);
      const file = this.stack.kube.kubelet.mountedFiles(NAMESPACE, t.name, secretNameOf(t.name))?.["creds.json"];
      t.mounted = parseCreds(file);
      if (t.mounted) {
        const u = this.user(t.uid, t.mounted.username);
        u.mountedAt ??= now;
      }
    }
  }

  private markGone(t: PodTruth, now: number): void {
    t.goneAt = now;
    t.goneVaultMs = this.stack.vault.control.clock.now();
  }

  private observeSecret(t: PodTruth, now: number): void {
    const secret = this.stack.kube.control.get("secrets", NAMESPACE, secretNameOf(t.name));
    if (!secret || secret.metadata.labels?.["leasekeeper.io/pod-uid"] !== t.uid) return;
    const annotations: Record<string, string> = secret.metadata.annotations ?? {};
    const accessor = annotations["leasekeeper.io/token-accessor"];
    if (accessor) {
      t.accessors.add(accessor);
      t.currentAccessor = accessor;
      this.accessorOwner.set(accessor, t.uid);
    }
    const current = new Set<string>();
    const credsLeases: string[] = [];
    for (const l of parseList(annotations["leasekeeper.io/lease-ids"])) {
      if (typeof l.id !== "string") continue;
      current.add(l.id);
      this.leaseCurrentAt.set(l.id, now);
      if (l.file === "creds.json") credsLeases.push(l.id);
      t.leaseIds.add(l.id);
      this.leaseOwner.set(l.id, t.uid);
    }
    for (const r of parseList(annotations["leasekeeper.io/retiring"])) {
      if (typeof r.id !== "string") continue;
      if (r.kind === "lease") {
        t.leaseIds.add(r.id);
        this.leaseOwner.set(r.id, t.uid);
      }
      if (r.kind === "accessor") {
        t.accessors.add(r.id);
        this.accessorOwner.set(r.id, t.uid);
      }
    }
    t.currentLeases = current;
    const data = secret.data?.["creds.json"];
    const creds = parseCreds(data === undefined ? undefined : Buffer.from(String(data), "base64").toString("utf8"));
    if (!creds) return;
    const last = t.usernames[t.usernames.length - 1];
    if (last !== creds.username) {
      t.usernames.push(creds.username);
      const u = this.user(t.uid, creds.username);
      u.secretAt ??= now;
      u.leaseIds ??= credsLeases;
      if (last !== undefined)
        this.rotations.push({ uid: t.uid, pod: t.name, from: last, to: creds.username, secretAt: now });
    }
  }

  user(uid: string, username: string): UserTruth {
    let u = this.users.get(username);
    if (!u) {
      u = { uid, username };
      this.users.set(username, u);
    }
    return u;
  }

  private async observeRoles(now: number): Promise<void> {
    const server = this.stack.postgres;
    if (!server) return;
    try {
      if (!this.pgClient) {
        const client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2000 });
        client.on("error", () => undefined);
        await client.connect();
        this.pgClient = client;
      }
      const { rows } = await this.pgClient.query<{ rolname: string }>(
        "select rolname from pg_roles where rolname like 'v-%'",
      );
      const roles = new Set(rows.map((r) => r.rolname));
      this.roles = roles;
      for (const u of this.users.values()) {
        if (roles.has(u.username)) u.presentAt ??= now;
        else if ((u.presentAt ?? u.secretAt) !== undefined && u.droppedAt === undefined) u.droppedAt = now;
      }
    } catch {
      // PostgreSQL restarting: reconnect on the next look.
      await this.pgClient?.end().catch(() => undefined);
      this.pgClient = undefined;
    }
  }
}

function parseCreds(text: string | undefined): { username: string; password: string } | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as { username?: unknown; password?: unknown };
    return typeof v.username === "string" && typeof v.password === "string"
      ? { username: v.username, password: v.password }
      : undefined;
  } catch {
    return undefined;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- annotation JSON read field by field
function parseList(text: string | undefined): any[] {
  try {
    const v: unknown = JSON.parse(text ?? "[]");
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}
