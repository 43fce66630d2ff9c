import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { AuditLog, type AuditRecord } from "../../shared/audit/audit-log.ts";
import { createLogger } from "../../shared/observability/log.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";

const t = suite<{ server: RedisServer; redis: Redis }>("audit log: retention and per-actor limit");
t.before(async (ctx) => {
  ctx.server = await startRedis();
  ctx.redis = new Redis(ctx.server.url);
});
t.after(async (ctx) => {
  ctx.redis?.disconnect();
  await ctx.server?.stop();
});

const log = createLogger("silent", new Writable({ write: (_c, _e, done) => done() }));
const prefix = () => `{t-${randomUUID().slice(0, 6)}}`;
const rec = (name: string, result: string, status = 403): AuditRecord => ({
  at: new Date().toISOString(),
  actor: { kind: "kubernetes", name },
  action: "revoke",
  dryRun: false,
  result,
  status,
});

t("records younger than the retention are never trimmed, however many there are", async ({ redis }) => {
  const p = prefix();
  const key = `${p}:audit`;
  // 101,000 young records (a flood, or a busy day): more than the old MAXLEN ~100,000 cap.
  for (let i = 0; i < 101; i++) {
    const batch = redis.pipeline();
    for (let j = 0; j < 1000; j++) batch.xadd(key, "*", "record", "{}");
    await batch.exec();
  }
  const audit = new AuditLog(redis, p, log, { retentionSeconds: 3600 });
  const first = (await redis.xrange(key, "-", "+", "COUNT", 1))[0]?.[0];
  await audit.record(rec("oncall", "accepted", 202));
  assert.is(await redis.xlen(key), 101_001);
  assert.is((await redis.xrange(key, "-", "+", "COUNT", 1))[0]?.[0], first, "the oldest young record is still there");
});

t("records older than the retention are trimmed", async ({ redis }) => {
  const p = prefix();
  const key = `${p}:audit`;
  const old = Date.now() - 40 * 24 * 3600 * 1000;
  const batch = redis.pipeline();
  for (let i = 0; i < 1000; i++) batch.xadd(key, `${old}-${i}`, "record", "{}");
  await batch.exec();
  await new AuditLog(redis, p, log, { retentionSeconds: 30 * 24 * 3600 }).record(rec("oncall", "accepted", 202));
  const left = await redis.xlen(key);
  assert.ok(left < 200, `old records trimmed (whole stream nodes; ${left} left)`);
  assert.is((await redis.xrevrange(key, "+", "-", "COUNT", 1))[0]?.[1][0], "record");
});

t(
  "per actor: calls that changed nothing are recorded up to the limit, then one marker, then dropped; accepted changes always",
  async ({ redis }) => {
    const p = prefix();
    const audit = new AuditLog(redis, p, log, { perActorPerMinute: 5 });
    for (let i = 0; i < 20; i++) await audit.record(rec("prober", "refused"));
    for (let i = 0; i < 8; i++) await audit.record(rec("oncall", "accepted", 202));
    await audit.record(rec("oncall", "dry-run", 200));
    const records = await audit.read({ limit: 100 });
    const prober = records.filter((r) => r.actor.name === "prober");
    assert.is(prober.length, 6, "5 plus the marker");
    assert.is(prober.filter((r) => r.suppressedUntil !== undefined).length, 1);
    assert.ok(Date.parse(prober[0]?.suppressedUntil ?? "") > Date.now());
    assert.is(records.filter((r) => r.actor.name === "oncall" && r.result === "accepted").length, 8);
    assert.is(
      records.filter((r) => r.actor.name === "oncall" && r.result === "dry-run").length,
      1,
      "each actor has its own budget",
    );
  },
);

t.run();
