/**
 * End to end, three Vault replicas of one cluster (emulator: same keys and root token, the first
 * active, two standbys), leasekeeper running every role with unseal on and the replicas given by
 * address: all three start sealed → each is unsealed (standbys too) with exactly threshold shares
 * per replica, never interleaved; then KMS goes offline while all three restart sealed → the jobs
 * retry and report kms-unavailable, Vault stays sealed and untouched; KMS back → all unsealed.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { createHash, randomBytes } from "node:crypto";
import { loadConfig, requireUnsealKeys } from "../../shared/config/config.ts";
import { createLogger } from "../../shared/observability/log.ts";
import { startRuntime, type Runtime } from "../../functions/entry/runtime.ts";
import { runKeysCommand } from "../../cli/keys.ts";
import { createKmsClient } from "../../shared/kms/kms-client.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { keyStoreFor } from "../../shared/unseal/key-store-from-config.ts";
import { startVaultCluster, type VaultEmulator } from "../emulators/vault/index.ts";
import { kubeConfigFor } from "../emulators/kubernetes/testing.ts";
import { startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "./harness.ts";

process.env.AWS_ACCESS_KEY_ID ??= "test";
process.env.AWS_SECRET_ACCESS_KEY ??= "test";

let stack: Stack;
let replicas: VaultEmulator[] = [];
let runtime: Runtime | undefined;
const logs: string[] = [];

const unsealPuts = (v: VaultEmulator) =>
  v.control.requests().filter((r) => r.path === "sys/unseal" && r.method !== "GET");
const metrics = async () => (runtime as Runtime).metrics.registry.metrics();
const count = (text: string, outcome: string) =>
  Number(new RegExp(`leasekeeper_unseal_attempts_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);

test.before(async () => {
  stack = await startStack({ postgres: false });
  stack.kube.control.put("namespaces", { metadata: { name: "vault" } });
  replicas = await startVaultCluster(3);
});

test.after(async () => {
  await runtime?.stop().catch(() => undefined);
  await stack.kms.control.goOnline().catch(() => undefined);
  for (const r of replicas) await r.close();
  await stack.close();
});

test("the emulated cluster: one set of keys and root token, all sealed, standbys answer like Vault", async () => {
  const [a, b, c] = replicas as [VaultEmulator, VaultEmulator, VaultEmulator];
  assert.equal(b.unsealKeys, a.unsealKeys);
  assert.equal(c.unsealKeys, a.unsealKeys);
  assert.is(c.rootToken, a.rootToken);
  for (const r of replicas) assert.ok(r.control.isSealed());
  const status = (await (await fetch(`${b.url}/v1/sys/seal-status`)).json()) as {
    initialized: boolean;
    sealed: boolean;
    t: number;
    n: number;
  };
  assert.equal([status.initialized, status.sealed, status.t, status.n], [true, true, 3, 5]);
});

test("three replicas sealed → leasekeeper unseals each (standbys too), threshold shares each, nothing interleaved", async () => {
  const env = {
    LEASEKEEPER_INDEX_KEY: randomBytes(32).toString("base64"),
    LEASEKEEPER_REDIS_URL: stack.redis.url,
    KUBECONFIG: stack.leasekeeperKubeconfigPath,
    VAULT_ADDR: (replicas[0] as VaultEmulator).url,
    VAULT_TOKEN: (replicas[0] as VaultEmulator).rootToken,
    LEASEKEEPER_HTTP_PORT: "0",
    LEASEKEEPER_HTTP_HOST: "127.0.0.1",
    LEASEKEEPER_LOG_LEVEL: "debug",
    LEASEKEEPER_API_TOKENS: createHash("sha256").update(randomBytes(24)).digest("hex"),
    LEASEKEEPER_UNSEAL: "true",
    LEASEKEEPER_KMS_KEY_ID: stack.kmsKeyId,
    LEASEKEEPER_KMS_ENDPOINT: stack.kms.url,
    LEASEKEEPER_KMS_REGION: stack.kms.region,
    LEASEKEEPER_UNSEAL_CLUSTER_ID: "e2e-replicas",
    LEASEKEEPER_VAULT_REPLICAS: replicas.map((r) => r.url).join(","),
    LEASEKEEPER_UNSEAL_SWEEP_SECONDS: "1",
    LEASEKEEPER_UNSEAL_RETRIES: "3",
  };
  const config = loadConfig(env);
  const kms = createKmsClient({ keyId: stack.kmsKeyId, endpoint: stack.kms.url, region: stack.kms.region });
  const keys = keyStoreFor(requireUnsealKeys(config), createKubeClient(kubeConfigFor(stack.kube)), kms);
  const out: string[] = [];
  const code = await runKeysCommand(
    ["import"],
    {
      stdin: [Buffer.from((replicas[0] as VaultEmulator).unsealKeys.join("\n"))],
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    },
    { keys, kmsKeyId: stack.kmsKeyId },
  );
  kms.destroy();
  assert.is(code, 0, out.join("\n"));
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  runtime = await startRuntime(config, createLogger("debug", sink));
  await waitFor("all three replicas unsealed", async () => replicas.every((r) => !r.control.isSealed()), 15_000);
  for (const [i, r] of replicas.entries()) {
    const puts = unsealPuts(r);
    // Exactly threshold shares, all accepted, none a reset: one job's shares, not two interleaved.
    assert.is(puts.length, 3, `replica ${i}: ${puts.length} sys/unseal calls`);
    assert.ok(
      puts.every((p) => p.status === 200),
      `replica ${i}: a share was refused`,
    );
  }
  assert.not.match(logs.join(""), /reset a stale unseal attempt/);
  const health = await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/v1/sys/health`)).status));
  assert.equal(health, [200, 429, 429], "active + two unsealed standbys");
  await waitFor("three unsealed outcomes", async () => count(await metrics(), "unsealed") >= 3);
});

test("KMS down while the replicas restart sealed → retried, kms-unavailable, Vault untouched; KMS back → unsealed", async () => {
  await stack.kms.control.goOffline();
  const before = replicas.map((r) => unsealPuts(r).length);
  for (const r of replicas) r.control.restartSealed();
  await waitFor("a kms-unavailable outcome", async () => count(await metrics(), "kms-unavailable") >= 1, 30_000, 100);
  for (const r of replicas) assert.ok(r.control.isSealed(), "sealed while KMS is down");
  assert.equal(
    replicas.map((r) => unsealPuts(r).length),
    before,
    "no share submitted while KMS is down",
  );
  await stack.kms.control.goOnline();
  await waitFor(
    "all three unsealed once KMS is back",
    async () => replicas.every((r) => !r.control.isSealed()),
    30_000,
    50,
  );
  for (const [i, r] of replicas.entries()) assert.is(unsealPuts(r).length - (before[i] as number), 3, `replica ${i}`);
  assert.match(logs.join(""), /kms-unavailable/);
});

test("no share or root token in the logs", () => {
  const text = logs.join("");
  const first = replicas[0] as VaultEmulator;
  for (const hex of first.unsealKeys) {
    assert.not.ok(text.includes(hex));
    assert.not.ok(text.includes(Buffer.from(hex, "hex").toString("base64")));
  }
  assert.not.ok(text.includes(first.rootToken));
});

test.run();
