/**
 * HTTP figures on Node, in-process (app.request, no socket): requests/s and p50/p99 for a signed
 * CI enqueue and for a revoke dry run over 1000 indexed pods. Real Redis; prints figures, --json for JSON.
 *   npm run bench:http [-- --json] [-- --requests 2000]
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { buildAppDeps } from "../functions/entry/app-deps.ts";
import { loadHttpConfig } from "../shared/config/config.ts";
import { createApp } from "../functions/http/app.ts";
import { sha256Hex } from "../functions/http/auth/digest.ts";
import { signCiRequest } from "../functions/http/auth/hmac.ts";
import { PodIndex } from "../shared/index/pod-index.ts";
import { JobProducer } from "../shared/jobs/producer.ts";
import { createLogger } from "../shared/observability/log.ts";
import { createMetrics } from "../shared/observability/metrics.ts";
import type { KubePort } from "../shared/ports/vault-kube.ts";
import { startRedis } from "../test/helpers/redis.ts";
import { record } from "../test/functions/http/api-fixture.ts";

const json = process.argv.includes("--json");
const requests = Number(process.argv[process.argv.indexOf("--requests") + 1]) || 2000;
const concurrency = 16;

async function measure(n: number, one: (i: number) => Promise<void>) {
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await one(i);
        times.push(performance.now() - t);
      }
    }),
  );
  const total = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  const q = (p: number) => Number((times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(2));
  return { requests: n, concurrency, rps: Math.round(n / total), p50Ms: q(0.5), p99Ms: q(0.99) };
}

const redisServer = await startRedis();
const redis = new Redis(redisServer.url);
const prefix = `{bench-${randomUUID().slice(0, 6)}}`;
const log = createLogger("warn", new Writable({ write: (_c, _e, done) => done() }));
const metrics = createMetrics();
const producer = new JobProducer({
  connection: { url: redisServer.url, maxRetriesPerRequest: null },
  prefix,
  attempts: 3,
});
const index = new PodIndex(redis, prefix);
const kube = new Proxy({} as KubePort, {
  get: () => () => Promise.reject(new Error("no kubernetes in this benchmark")),
});
const token = randomBytes(24).toString("base64url");
const secret = randomBytes(32).toString("hex");
const app = createApp(
  buildAppDeps({
    settings: {
      ...loadHttpConfig({ LEASEKEEPER_REDIS_URL: redisServer.url }),
      queuePrefix: prefix,
      apiTokens: [sha256Hex(token)],
      ciHmacSecrets: [`${secret};verbs=rotate;namespaces=ci`],
      httpRateLimit: 10_000_000,
    },
    redis,
    kc: undefined,
    kube,
    producer,
    metrics,
    log,
  }),
);
for (let i = 0; i < 1000; i++) await index.put(record("bench", `pod-${i}`));
await index.put(record("ci", "target"));

const ciBody = JSON.stringify({ action: "rotate", scope: { type: "namespace", namespace: "ci" }, reason: "bench" });
const ci = await measure(requests, async (i) => {
  const res = await app.request("/v1/hooks/ci", {
    method: "POST",
    headers: signCiRequest(secret, ciBody, Math.floor(Date.now() / 1000), `bench-${i}`),
    body: ciBody,
  });
  if (res.status !== 202) throw new Error(`CI enqueue answered ${res.status}`);
});
const dryBody = JSON.stringify({ scope: { type: "namespace", namespace: "bench" }, reason: "bench", dryRun: true });
const dry = await measure(Math.max(100, Math.floor(requests / 10)), async () => {
  const res = await app.request("/v1/revoke", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: dryBody,
  });
  if (res.status !== 200) throw new Error(`dry run answered ${res.status}`);
  await res.arrayBuffer();
});

await producer.close();
redis.disconnect();
await redisServer.stop();
const result = { node: process.version, signedCiEnqueue: ci, revokeDryRun1000Pods: dry };
if (json) console.log(JSON.stringify(result));
else {
  console.log(
    `signed CI enqueue          ${ci.rps} req/s  p50 ${ci.p50Ms} ms  p99 ${ci.p99Ms} ms  (${ci.requests} requests, ${concurrency} concurrent)`,
  );
  console.log(
    `revoke dry run, 1000 pods  ${dry.rps} req/s  p50 ${dry.p50Ms} ms  p99 ${dry.p99Ms} ms  (${dry.requests} requests, ${concurrency} concurrent)`,
  );
}
