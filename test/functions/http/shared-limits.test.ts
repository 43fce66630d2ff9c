/**
 * The per-identity rate limit counts in Redis, so it holds across replicas (and Worker isolates,
 * see test/functions/entry/cloudflare-workerd.test.ts); /readyz answers within its bound even
 * when a dependency hangs.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { buildAppDeps, type HttpSettings } from "../../../functions/entry/app-deps.ts";
import { createApp } from "../../../functions/http/app.ts";
import { sha256Hex } from "../../../functions/http/auth/digest.ts";
import { loadHttpConfig } from "../../../shared/config/config.ts";
import { JobProducer } from "../../../shared/jobs/producer.ts";
import { createLogger } from "../../../shared/observability/log.ts";
import { createMetrics } from "../../../shared/observability/metrics.ts";
import type { KubePort } from "../../../shared/ports/vault-kube.ts";
import { startRedis, type RedisServer } from "../../helpers/redis.ts";

let server: RedisServer | undefined;
const closers: Array<() => Promise<unknown>> = [];
const quiet = createLogger("silent", new Writable({ write: (_c, _e, done) => done() }));
const noKube = new Proxy({} as KubePort, { get: () => () => Promise.reject(new Error("no kubernetes here")) });

/** The one schema's defaults, as a Worker with only a Redis URL would run. */
const defaults = () => loadHttpConfig({ LEASEKEEPER_REDIS_URL: (server as RedisServer).url });

function replica(url: string, settings: HttpSettings, readiness: Parameters<typeof buildAppDeps>[0]["readiness"] = []) {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const producer = new JobProducer({
    connection: { url, maxRetriesPerRequest: null },
    prefix: settings.queuePrefix,
    attempts: 1,
  });
  closers.push(
    () => producer.close(),
    async () => redis.disconnect(),
  );
  return createApp(
    buildAppDeps({
      settings,
      redis,
      kc: undefined,
      kube: noKube,
      producer,
      metrics: createMetrics(),
      log: quiet,
      readiness,
    }),
  );
}

test.before(async () => {
  server = await startRedis();
});
test.after(async () => {
  for (const close of closers) await close();
  await server?.stop();
});

test("two replicas share one per-identity limit: the fourth request of three allowed gets 429", async () => {
  const token = randomBytes(24).toString("base64url");
  const settings: HttpSettings = {
    ...defaults(),
    queuePrefix: `{t-${randomUUID().slice(0, 8)}}`,
    apiTokens: [sha256Hex(token)],
    httpRateLimit: 3,
  };
  const url = (server as RedisServer).url;
  const [a, b] = [replica(url, settings), replica(url, settings)];
  const get = (app: ReturnType<typeof createApp>) =>
    app.request("/v1/leases", { headers: { authorization: `Bearer ${token}` } });
  const statuses = [(await get(a)).status, (await get(b)).status, (await get(a)).status];
  assert.equal(statuses, [200, 200, 200]);
  const fourth = await get(b);
  assert.is(fourth.status, 429, "the limit holds across replicas");
  assert.ok(Number(fourth.headers.get("retry-after")) >= 1);
  const other = randomBytes(24).toString("base64url");
  const c = replica(url, { ...settings, apiTokens: [sha256Hex(token), sha256Hex(other)] });
  assert.is(
    (await c.request("/v1/leases", { headers: { authorization: `Bearer ${other}` } })).status,
    200,
    "another identity has its own budget",
  );
});

test("/readyz answers not-ready within its bound when a dependency hangs", async () => {
  const settings: HttpSettings = { ...defaults(), queuePrefix: `{t-${randomUUID().slice(0, 8)}}`, eventsAuth: "none" };
  const app = replica((server as RedisServer).url, settings, [
    { name: "stuck", check: () => new Promise<boolean>(() => undefined) },
  ]);
  const started = Date.now();
  const res = await app.request("/readyz");
  const elapsed = Date.now() - started;
  assert.is(res.status, 503);
  assert.equal(((await res.json()) as { checks: Record<string, boolean> }).checks, { redis: true, stuck: false });
  assert.ok(elapsed < 5000, `answered in ${elapsed} ms`);
});

test.run();
