/** Redis connection errors: logged as rate-limited warnings without secrets, never "Unhandled error event". */
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import * as assert from "uvu/assert";
import { test } from "uvu";
import { connectRedis, REDIS_WARN_INTERVAL_MS, warnOnRedisErrors } from "../../shared/redis/connection.ts";
import { freePort } from "../helpers/ports.ts";

function capture() {
  const lines: { context: Record<string, unknown>; message: string }[] = [];
  return {
    lines,
    log: { warn: (context: Record<string, unknown>, message: string) => lines.push({ context, message }) },
  };
}

test("one warning per window per connection, with the count of the ones left out", () => {
  let now = 0;
  const emitter = new EventEmitter();
  const { lines, log } = capture();
  warnOnRedisErrors(emitter, log, "index", () => now);
  for (let i = 0; i < 5; i++) emitter.emit("error", new Error("connect ECONNREFUSED 127.0.0.1:6379"));
  assert.is(lines.length, 1);
  now += REDIS_WARN_INTERVAL_MS;
  emitter.emit("error", new Error("connect ECONNREFUSED 127.0.0.1:6379"));
  assert.is(lines.length, 2);
  assert.equal(lines[1]?.context, { connection: "index", error: "connect ECONNREFUSED 127.0.0.1:6379", suppressed: 4 });
});

test("a URL's password in an error message is not logged", () => {
  const emitter = new EventEmitter();
  const { lines, log } = capture();
  warnOnRedisErrors(emitter, log, "index");
  emitter.emit("error", new Error("failed to reach redis://default:hunter2@redis:6379/0"));
  assert.not.ok(JSON.stringify(lines).includes("hunter2"));
  assert.match(String(lines[0]?.context.error), "redis://(hidden)@redis:6379/0");
});

test("a connection to a Redis that is down logs a warning, and ioredis prints no unhandled error", async () => {
  const port = await freePort();
  const printed: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void printed.push(args.map(String).join(" "));
  const { lines, log } = capture();
  const redis = connectRedis(
    { redisUrl: `redis://127.0.0.1:${port}`, redisSentinels: [], redisSentinelName: "mymaster", redisClusterNodes: [] },
    { maxRetriesPerRequest: 0, retryStrategy: () => 50 },
    { log, connection: "index" },
  );
  try {
    for (let i = 0; i < 50 && lines.length === 0; i++) await sleep(20);
    await sleep(300); // several reconnect attempts fail meanwhile
  } finally {
    redis.disconnect();
    console.error = original;
  }
  assert.is(lines.length, 1, "rate-limited to one warning");
  assert.is(lines[0]?.context.connection, "index");
  assert.equal(
    printed.filter((p) => p.includes("Unhandled error event")),
    [],
  );
});

test.run();
