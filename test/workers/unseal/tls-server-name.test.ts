/**
 * Unseal over https by pod IP: Vault's certificate names its Services (here only
 * vault-internal.vault.svc), not the pod IP, so leasekeeper verifies it against the configured
 * LEASEKEEPER_VAULT_TLS_SERVER_NAME and sends no share to a replica whose certificate does not match.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Job } from "bullmq";
import { startKmsEmulator, type KmsEmulator } from "../../emulators/kms/index.ts";
import { startVaultEmulator, type VaultEmulator } from "../../emulators/vault/index.ts";
import { startRedis, type RedisServer } from "../../helpers/redis.ts";
import type { UnsealJob, UnsealOutcome } from "../../../shared/jobs/job-types.ts";
import { createVaultReplicaClient } from "../../../shared/unseal/vault-replica-client.ts";
import { createUnsealProcessor } from "../../../workers/unseal/processor.ts";
import { makeFixture, trustAddresses } from "./fixture.ts";

let kms: KmsEmulator;
let redis: RedisServer;
let keyId: string;
let v: VaultEmulator;

test.before(async () => {
  kms = await startKmsEmulator();
  redis = await startRedis();
  keyId = (await kms.createKey({ alias: "alias/tls-test" })).keyId;
  v = await startVaultEmulator({ tls: { names: ["vault-internal.vault.svc"] } });
});
test.after(async () => {
  await v.close();
  await redis.stop();
  await kms.close();
});

async function unsealWith(serverName: string | undefined): Promise<UnsealOutcome> {
  const replicas = createVaultReplicaClient({ timeoutMs: 2000, caCert: v.tls?.caPem, serverName });
  const f = makeFixture({ kms, keyId, redisUrl: redis.url, replicas, settings: { retries: 1 } });
  try {
    await f.keys.save({ shares: v.unsealKeys.map((k) => Buffer.from(k, "hex")) }, { overwrite: true });
    v.control.seal();
    const addr = v.url; // https://127.0.0.1:<port>: dialled by IP, as a pod address is
    const job = {
      id: "t",
      data: { replica: { kind: "address", addr }, source: "api", requestedAt: Date.now() } satisfies UnsealJob,
    } as unknown as Job;
    return (await createUnsealProcessor(f.deps, trustAddresses(addr))(job)) as UnsealOutcome;
  } finally {
    await f.close();
  }
}

test("without the server name the IP does not match the certificate: unreachable, no share sent", async () => {
  const before = v.control.requests().filter((r) => r.path === "sys/unseal").length;
  const out = await unsealWith(undefined);
  assert.is(out.outcome, "unreachable");
  assert.is(v.control.requests().filter((r) => r.path === "sys/unseal").length, before);
  assert.ok(v.control.isSealed());
});

test("with LEASEKEEPER_VAULT_TLS_SERVER_NAME the certificate verifies and the replica is unsealed", async () => {
  const out = await unsealWith("vault-internal.vault.svc");
  assert.is(out.outcome, "unsealed", JSON.stringify(out));
  assert.is(v.control.isSealed(), false);
});

test.run();
