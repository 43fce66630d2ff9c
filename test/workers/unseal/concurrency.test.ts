/**
 * Two unseal jobs for one replica, run by a real BullMQ Worker (concurrency 2) on real Redis,
 * never interleave shares: the second waits for the replica lock, then finds Vault unsealed.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { Queue, QueueEvents, Worker } from "bullmq";
import { startKmsEmulator } from "../../emulators/kms/index.ts";
import { startVaultEmulator } from "../../emulators/vault/index.ts";
import { startRedis } from "../../helpers/redis.ts";
import { createUnsealProcessor } from "../../../workers/unseal/processor.ts";
import { createVaultReplicaClient, type VaultReplicaPort } from "../../../shared/unseal/vault-replica-client.ts";
import type { UnsealJob } from "../../../shared/jobs/job-types.ts";
import { makeFixture, trustAddresses } from "./fixture.ts";

test("concurrent jobs on one replica: shares never in flight from two jobs at once; one unsealed, one already-unsealed", async () => {
  const kms = await startKmsEmulator();
  const redis = await startRedis();
  const vault = await startVaultEmulator();
  const { keyId } = await kms.createKey();
  // Slow, instrumented replica client: counts sys/unseal calls in flight at the same time.
  const real = createVaultReplicaClient({ timeoutMs: 2000 });
  let inFlight = 0;
  let maxInFlight = 0;
  const slow =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 40));
        return await fn(...a);
      } finally {
        inFlight--;
      }
    };
  const replicas: VaultReplicaPort = {
    ...real,
    submitUnsealKey: slow(real.submitUnsealKey),
    resetUnseal: slow(real.resetUnseal),
  };
  const f = makeFixture({ kms, keyId, redisUrl: redis.url, replicas });
  await f.keys.save({ shares: vault.unsealKeys.map((k) => Buffer.from(k, "hex")) }, { overwrite: false });
  vault.control.seal();

  const connection = { url: redis.url, maxRetriesPerRequest: null };
  const prefix = `{t${randomBytes(4).toString("hex")}}`;
  const queue = new Queue("unseal", { connection, prefix });
  const events = new QueueEvents("unseal", { connection, prefix });
  const worker = new Worker("unseal", createUnsealProcessor(f.deps, trustAddresses(vault.url)), {
    connection,
    prefix,
    concurrency: 2,
  });
  try {
    await events.waitUntilReady();
    const data: UnsealJob = { replica: { kind: "address", addr: vault.url }, source: "api", requestedAt: Date.now() };
    // Two producers that do not share job ids (e.g. an old and a new leasekeeper version).
    const [a, b] = await Promise.all([
      queue.add("unseal", data, { jobId: "unseal-a" }),
      queue.add("unseal", data, { jobId: "unseal-b" }),
    ]);
    const results = (await Promise.all([a.waitUntilFinished(events, 15_000), b.waitUntilFinished(events, 15_000)])) as {
      outcome: string;
    }[];
    assert.equal(results.map((r) => r.outcome).sort(), ["already-unsealed", "unsealed"]);
    assert.is(maxInFlight, 1, "two jobs submitted shares to the same replica at the same time");
    assert.is(vault.control.isSealed(), false);
    assert.is(vault.control.requests().filter((r) => r.path === "sys/unseal").length, 3);
  } finally {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await f.close();
    await vault.close();
    await redis.stop();
    await kms.close();
  }
});

test.run();
