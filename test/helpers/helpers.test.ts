import { test } from "uvu";
import * as assert from "uvu/assert";
import pg from "pg";
import { Redis } from "ioredis";
import { startPostgres } from "./postgres.ts";
import { startRedis } from "./redis.ts";

test("private PostgreSQL accepts its password and refuses a wrong one", async () => {
  const server = await startPostgres();
  try {
    const good = new pg.Client({ connectionString: server.url });
    await good.connect();
    const { rows } = await good.query<{ one: number }>("select 1 as one");
    assert.is(rows[0]?.one, 1);
    await good.end();
    const bad = new pg.Client({ connectionString: server.url.replace(server.password, "wrong") });
    let message = "";
    await bad.connect().catch((err: Error) => (message = err.message));
    assert.match(message, /password authentication failed/);
  } finally {
    await server.stop();
  }
});

test("private Redis answers and is gone after stop", async () => {
  const server = await startRedis();
  const client = new Redis(server.url, { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
  await client.connect();
  assert.is(await client.ping(), "PONG");
  client.disconnect();
  await server.stop();
  const after = new Redis(server.url, { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
  let refused = false;
  await after.connect().catch(() => (refused = true));
  after.disconnect();
  assert.ok(refused);
});

test.run();
