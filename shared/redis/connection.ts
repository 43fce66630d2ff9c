import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";

export interface RedisSettings {
  /** redis:// or rediss:// URL of a single Redis (or of the password and TLS for the others). */
  readonly redisUrl: string;
  /** host:port of Sentinels; with them, the URL's host is ignored and the master is discovered. */
  readonly redisSentinels: readonly string[];
  readonly redisSentinelName: string;
  /** host:port of Redis Cluster seed nodes. */
  readonly redisClusterNodes: readonly string[];
}

export type RedisTopology = "single" | "sentinel" | "cluster";

export function topologyOf(settings: RedisSettings): RedisTopology {
  if (settings.redisClusterNodes.length > 0) return "cluster";
  if (settings.redisSentinels.length > 0) return "sentinel";
  return "single";
}

function hostPort(entry: string): { host: string; port: number } {
  const at = entry.lastIndexOf(":");
  const host = at > 0 ? entry.slice(0, at).replace(/^\[|\]$/g, "") : entry;
  const port = at > 0 ? Number(entry.slice(at + 1)) : 26379;
  return { host, port };
}

/** Password, TLS and database from the URL, shared by every topology. */
function common(url: string): RedisOptions {
  const parsed = new URL(url);
  const options: RedisOptions = {};
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === "rediss:") options.tls = {};
  const db = parsed.pathname.replace(/^\//, "");
  if (db) options.db = Number(db);
  return options;
}

/**
 * ioredis options for the configured topology. BullMQ takes the same options (and makes its own
 * blocking connections from them); queue names carry the `{leasekeeper}` hash tag, so on a
 * Cluster every key of a queue, and of the pod index, lives in one slot.
 */
export function redisOptions(settings: RedisSettings, extra: RedisOptions): RedisOptions {
  const base = { ...common(settings.redisUrl), ...extra };
  if (topologyOf(settings) === "sentinel") {
    return {
      ...base,
      sentinels: settings.redisSentinels.map(hostPort),
      name: settings.redisSentinelName,
      sentinelPassword: base.password,
    };
  }
  const parsed = new URL(settings.redisUrl);
  return { ...base, host: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port || 6379) };
}

/** Where connection errors go: a warning with a context object, as the service log takes it. */
export interface RedisErrorLog {
  warn(context: Record<string, unknown>, message: string): void;
}

/** At most one warning per connection in this window; the rest are counted into the next one. */
export const REDIS_WARN_INTERVAL_MS = 10_000;

/** A connection error as it may be logged: userinfo of any URL in it replaced. */
function safeMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/gi, "$1(hidden)@").slice(0, 300);
}

/**
 * Listens for `error` on a Redis connection (an ioredis client, or a BullMQ Queue/Worker, which
 * re-emit their connections' errors). Without a listener ioredis prints "Unhandled error event"
 * on every failed reconnect while Redis restarts; with it, one rate-limited warning. ioredis
 * keeps reconnecting by itself and commands are retried or fail on their own.
 */
export function warnOnRedisErrors(
  emitter: { on(event: "error", listener: (err: Error) => void): unknown },
  log: RedisErrorLog,
  connection: string,
  now: () => number = Date.now,
): void {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  emitter.on("error", (err: Error) => {
    const at = now();
    if (at - last < REDIS_WARN_INTERVAL_MS) {
      suppressed++;
      return;
    }
    last = at;
    log.warn({ connection, error: safeMessage(err), suppressed }, "redis connection error; reconnecting");
    suppressed = 0;
  });
}

/** A connection for the index, locks and audit (not BullMQ's); its errors are logged, rate-limited. */
export function connectRedis(
  settings: RedisSettings,
  extra: RedisOptions,
  errors: { readonly log: RedisErrorLog; readonly connection: string },
): Redis | Cluster {
  let client: Redis | Cluster;
  if (topologyOf(settings) === "cluster") {
    const options: ClusterOptions = {
      redisOptions: { ...common(settings.redisUrl), ...extra },
      enableAutoPipelining: extra.enableAutoPipelining,
    };
    client = new Cluster(settings.redisClusterNodes.map(hostPort), options);
  } else {
    client = new Redis(redisOptions(settings, extra));
  }
  warnOnRedisErrors(client, errors.log, errors.connection);
  return client;
}

/** What the index, locks, audit and replay guard need: a single Redis or a Cluster client. */
export type RedisClient = Redis | Cluster;
