/**
 * A Raft follower that has not joined its cluster yet (vault/init.go: initialized=false until it
 * holds the leader's challenge; vault/core.go unsealWithRaft: the threshold share answers
 * sealed with progress 0 and the node unseals in the background). leasekeeper must not initialise
 * it (that would start a second cluster), must unseal it with the leader's threshold once it joins,
 * and must never report that as bad keys.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Job } from "bullmq";
import { startKmsEmulator, type KmsEmulator } from "../../emulators/kms/index.ts";
import {
  startVaultActiveService,
  startVaultCluster,
  startVaultEmulator,
  type VaultActiveService,
  type VaultEmulator,
} from "../../emulators/vault/index.ts";
import { startRedis, type RedisServer } from "../../helpers/redis.ts";
import type { UnsealJob, UnsealOutcome } from "../../../shared/jobs/job-types.ts";
import { createUnsealProcessor } from "../../../workers/unseal/processor.ts";
import { makeFixture, trustAddresses, type Fixture } from "./fixture.ts";

let kms: KmsEmulator;
let redis: RedisServer;
let keyId: string;
let leader: VaultEmulator;
let svc: VaultActiveService;
const open: { close(): Promise<void> }[] = [];

test.before(async () => {
  kms = await startKmsEmulator();
  redis = await startRedis();
  keyId = (await kms.createKey({ alias: "alias/raft-test" })).keyId;
  [leader] = (await startVaultCluster(1, { ha: true, sealed: false })) as [VaultEmulator];
  svc = await startVaultActiveService([leader]);
});
test.after(async () => {
  for (const o of open.reverse()) await o.close();
  await svc.close();
  await leader.close();
  await redis.stop();
  await kms.close();
});

const job = (addr: string): Job =>
  ({
    id: "t",
    data: { replica: { kind: "address", addr }, source: "sweep", requestedAt: Date.now() } satisfies UnsealJob,
  }) as unknown as Job;
/** The follower is the second configured replica (the first is the leader): leasekeeper may not start a cluster on it. */
const run = (f: Fixture, follower: VaultEmulator) =>
  createUnsealProcessor(f.deps, trustAddresses(leader.url, follower.url))(job(follower.url)) as Promise<UnsealOutcome>;

async function setup(autoInit: boolean): Promise<{ f: Fixture; follower: VaultEmulator }> {
  const f = makeFixture({
    kms,
    keyId,
    redisUrl: redis.url,
    settings: { autoInit: { enabled: autoInit, shares: 5, threshold: 3, storeRootToken: false } },
  });
  open.push(f);
  await f.keys.save({ shares: leader.unsealKeys.map((k) => Buffer.from(k, "hex")) }, { overwrite: false });
  const follower = await startVaultEmulator({ raft: { unsealDelayMs: 300 } });
  open.push(follower);
  return { f, follower };
}

test("before it joins: not-initialized, never initialised even with auto-init on, no share sent", async () => {
  const { f, follower } = await setup(true);
  const out = await run(f, follower);
  assert.is(out.outcome, "not-initialized");
  assert.match(out.outcome === "not-initialized" ? out.reason : "", /Raft follower/);
  const calls = follower.control
    .requests()
    .filter((r) => r.method !== "GET" && (r.path === "sys/init" || r.path === "sys/unseal"));
  assert.equal(calls, [], "no init, no share");
  assert.is(await f.keys.counts().then((c) => c?.shares), 5, "the stored keys are the leader's, untouched");
});

test("after it joins: unsealed with the leader's threshold, the background finish awaited, not bad-keys", async () => {
  const { f, follower } = await setup(false);
  const joined = await fetch(`${follower.url}/v1/sys/storage/raft/join`, {
    method: "POST",
    body: JSON.stringify({ leader_api_addr: svc.url }),
  });
  assert.is(joined.status, 200, await joined.text());
  const out = await run(f, follower);
  assert.is(out.outcome, "unsealed", JSON.stringify(out));
  if (out.outcome === "unsealed") assert.is(out.sharesSubmitted, 3, "the leader's threshold, no more");
  assert.is(
    ((await fetch(`${follower.url}/v1/sys/seal-status`).then((r) => r.json())) as { sealed: boolean }).sealed,
    false,
  );
  assert.not.ok(
    f.events.some((e) => e.event.reason === "VaultUnsealFailed"),
    "no failure Event",
  );
});

test.run();
