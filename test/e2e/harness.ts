/** Starts leasekeeper in-process against a stack, with its logs captured for secret scans. */
import { Writable } from "node:stream";
import pg from "pg";
import { Redis } from "ioredis";
import { loadConfig, type Config } from "../../shared/config/config.ts";
import { createLogger } from "../../shared/observability/log.ts";
import { startRuntime, type Runtime } from "../../functions/entry/runtime.ts";
import type { Seeded, Stack } from "../helpers/stack.ts";
import { leasekeeperEnv } from "../helpers/stack.ts";

export interface Harness {
  readonly runtime: Runtime;
  readonly config: Config;
  readonly logs: string[];
  stop(): Promise<void>;
}

export async function startLeasekeeper(
  stack: Stack,
  seeded: Seeded,
  env: Record<string, string> = {},
): Promise<Harness> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      if (process.env.LK_TEST_LOGS) process.stderr.write(chunk);
      done();
    },
  });
  const config = loadConfig(harnessEnv(stack, seeded, env));
  const runtime = await startRuntime(config, createLogger(config.logLevel, sink));
  return { runtime, config, logs, stop: () => runtime.stop() };
}

/**
 * What startLeasekeeper runs with: the shipped settings (leasekeeperEnv), the test-speed changes
 * HARNESS_OVERRIDES explains, then the test's own `env`.
 */
export function harnessEnv(stack: Stack, seeded: Seeded, env: Record<string, string> = {}): Record<string, string> {
  return {
    ...leasekeeperEnv(stack, seeded, 0),
    LEASEKEEPER_ROTATION_GRACE_SECONDS: "2",
    LEASEKEEPER_SEALED_RETRY_MS: "300",
    LEASEKEEPER_LOG_LEVEL: "debug",
    ...env,
  };
}

/**
 * Knative Eventing's sender identity for infra/eventing's ApiServerSource `leasekeeper-pods`: with
 * `authentication-oidc` on, Eventing ≥ 1.14 creates `<source>-oidc-<group>-<kind>` (lowercase) in
 * the source's namespace and sends a TokenRequest JWT of it with the sink's audience.
 */
export const EVENTS_SENDER = {
  namespace: "leasekeeper",
  name: "leasekeeper-pods-oidc-sources.knative.dev-apiserversource",
} as const;

/** A bearer token for POST /v1/events/kubernetes as Knative sends it (the service account is created when missing). */
export function eventsToken(
  stack: Stack,
  sa: { namespace: string; name: string } = EVENTS_SENDER,
  audiences: string[] = ["leasekeeper"],
): string {
  const control = stack.kube.control;
  if (control.get("namespaces", "", sa.namespace) === undefined)
    control.put("namespaces", { metadata: { name: sa.namespace } });
  if (control.get("serviceaccounts", sa.namespace, sa.name) === undefined)
    control.put("serviceaccounts", { metadata: { name: sa.name, namespace: sa.namespace } });
  return control.issueToken({ namespace: sa.namespace, serviceAccount: sa.name, audiences, expirationSeconds: 3600 });
}

/** Polls until `fn` returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Tries to log in to PostgreSQL with the credentials from a creds.json file. */
export async function canLogin(stack: Stack, creds: { username: string; password: string }): Promise<boolean> {
  const pgServer = stack.postgres;
  if (!pgServer) throw new Error("no postgres in this stack");
  const client = new pg.Client({
    host: pgServer.host,
    port: pgServer.port,
    database: pgServer.database,
    user: creds.username,
    password: creds.password,
  });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function roleExists(stack: Stack, username: string): Promise<boolean> {
  const pgServer = stack.postgres;
  if (!pgServer) throw new Error("no postgres in this stack");
  const client = new pg.Client({ connectionString: pgServer.url });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_roles where rolname = $1", [username]);
    return (rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

/** Every string value stored under the stack's Redis (job payloads, results, index), for secret scans. */
export async function redisDump(url: string): Promise<string> {
  const redis = new Redis(url);
  const parts: string[] = [];
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "COUNT", 500);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === "string") parts.push(key, (await redis.get(key)) ?? "");
        else if (type === "hash") parts.push(key, JSON.stringify(await redis.hgetall(key)));
        else if (type === "list") parts.push(key, JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === "set") parts.push(key, JSON.stringify(await redis.smembers(key)));
        else if (type === "zset") parts.push(key, JSON.stringify(await redis.zrange(key, "0", "-1")));
        else if (type === "stream") parts.push(key, JSON.stringify(await redis.xrange(key, "-", "+")));
      }
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return parts.join("\n");
}

export function opted(name: string, extra: Record<string, string> = {}) {
  return {
    metadata: {
      name,
      namespace: "default",
      annotations: {
        "leasekeeper.io/role": "postgres",
        "leasekeeper.io/secret-creds.json": "database/creds/postgres-role",
        ...extra,
      },
    },
    spec: { serviceAccountName: "postgres-vault", containers: [{ name: "app", image: "busybox:1.36" }] },
  };
}
