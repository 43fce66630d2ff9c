import { randomBytes } from "node:crypto";
import type { JobProducer } from "../../shared/jobs/producer.ts";
import { sha256Hex } from "./auth/digest.ts";
import type { Identity } from "./auth/identity.ts";

export interface AdminSessionSettings {
  /** How long a login link works (once), seconds. */
  readonly ticketSeconds: number;
  /** How long a browser session lasts, seconds (the cookie's Max-Age). */
  readonly sessionSeconds: number;
}

export const ADMIN_SESSION_DEFAULTS: AdminSessionSettings = { ticketSeconds: 60, sessionSeconds: 900 };

/** The few Redis commands sessions need (BullMQ's client adapter has exactly these). */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options: { EX: number }): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
}

/**
 * Browser access to the dashboard: a one-time login ticket (minted by an authorized bearer
 * call) becomes a short session. Both live in Redis under their sha256 only (Redis is not
 * trusted with a usable credential) and expire there, so every replica accepts them and a
 * session ends on time even if the browser keeps the cookie. They carry the identity that
 * minted them, whose RBAC is checked again on every request.
 */
export class AdminSessions {
  readonly #redis: () => Promise<KeyValueStore>;
  readonly #prefix: string;
  readonly settings: AdminSessionSettings;

  constructor(
    redis: () => Promise<KeyValueStore>,
    prefix: string,
    settings: AdminSessionSettings = ADMIN_SESSION_DEFAULTS,
  ) {
    this.#redis = redis;
    this.#prefix = `${prefix}:admin`;
    this.settings = settings;
  }

  /** On the queues' own Redis connection (the dashboard shows those queues), under their prefix. */
  static onQueueConnection(producer: JobProducer, settings?: AdminSessionSettings): AdminSessions {
    const queue = producer.queues.revoke;
    return new AdminSessions(() => queue.getBackend().client, queue.opts.prefix ?? "bull", settings);
  }

  async mintTicket(identity: Identity): Promise<{ ticket: string; expiresAt: Date }> {
    const ticket = randomBytes(32).toString("base64url");
    await (
      await this.#redis()
    ).set(this.#key("ticket", ticket), JSON.stringify(identity), { EX: this.settings.ticketSeconds });
    return { ticket, expiresAt: new Date(Date.now() + this.settings.ticketSeconds * 1000) };
  }

  /** The ticket's session id, once: a second use (or an expired ticket) gets undefined. */
  async redeem(ticket: string): Promise<string | undefined> {
    const redis = await this.#redis();
    const key = this.#key("ticket", ticket);
    const identity = await redis.get(key);
    // Of two browsers racing with one link, only the one whose DEL removed it gets a session.
    if (identity === null || (await redis.del(key)) !== 1) return undefined;
    const session = randomBytes(32).toString("base64url");
    await redis.set(this.#key("session", session), identity, { EX: this.settings.sessionSeconds });
    return session;
  }

  async identity(session: string): Promise<Identity | undefined> {
    const raw = await (await this.#redis()).get(this.#key("session", session));
    return raw === null ? undefined : (JSON.parse(raw) as Identity);
  }

  async end(session: string): Promise<void> {
    await (await this.#redis()).del(this.#key("session", session));
  }

  #key(kind: "ticket" | "session", secret: string): string {
    return `${this.#prefix}:${kind}:${sha256Hex(secret)}`;
  }
}
