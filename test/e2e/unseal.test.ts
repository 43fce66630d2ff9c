/**
 * End to end: leasekeeper (startRuntime, every role, unseal on) against the Kubernetes, Vault
 * and KMS emulators and a private Redis. A Vault pod restarts sealed → the pod watch enqueues →
 * the worker unseals it with KMS-decrypted shares (latency measured and printed); POST
 * /v1/unseal; auto-init of an uninitialised Vault into a file key store; then a scan of logs,
 * job data and results, Kubernetes Events, metrics and Redis for any share, root token or
 * ciphertext.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { QueueEvents } from "bullmq";
import { loadConfig, requireUnsealKeys } from "../../shared/config/config.ts";
import { createLogger } from "../../shared/observability/log.ts";
import { startRuntime, type Runtime } from "../../functions/entry/runtime.ts";
import { runKeysCommand } from "../../cli/keys.ts";
import { createKmsClient } from "../../shared/kms/kms-client.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { keyStoreFor } from "../../shared/unseal/key-store-from-config.ts";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";
import { kubeConfigFor } from "../emulators/kubernetes/testing.ts";
import { startStack, type Stack } from "../helpers/stack.ts";
import { redisDump, waitFor } from "./harness.ts";

process.env.AWS_ACCESS_KEY_ID ??= "test";
process.env.AWS_SECRET_ACCESS_KEY ??= "test";

let stack: Stack;
let vault2: VaultEmulator | undefined;
const runtimes: Runtime[] = [];
const logs: string[] = [];
const results: string[] = [];
let events: QueueEvents | undefined;
let keyFile = "";

function logger() {
  return createLogger(
    "debug",
    new Writable({
      write(chunk: Buffer, _e, done) {
        logs.push(chunk.toString());
        if (process.env.LK_TEST_LOGS) process.stderr.write(chunk);
        done();
      },
    }),
  );
}

const UNSEAL_API_TOKEN = randomBytes(24).toString("base64url");

function baseEnv(): Record<string, string> {
  return {
    LEASEKEEPER_INDEX_KEY: randomBytes(32).toString("base64"),
    LEASEKEEPER_REDIS_URL: stack.redis.url,
    KUBECONFIG: stack.leasekeeperKubeconfigPath,
    VAULT_ADDR: stack.vault.url,
    VAULT_TOKEN: stack.vault.rootToken,
    LEASEKEEPER_HTTP_PORT: "0",
    LEASEKEEPER_HTTP_HOST: "127.0.0.1",
    LEASEKEEPER_LOG_LEVEL: "debug",
    LEASEKEEPER_UNSEAL: "true",
    // POST /v1/unseal is authenticated (docs/http-api.md): a static API token for this test.
    LEASEKEEPER_API_TOKENS: createHash("sha256").update(UNSEAL_API_TOKEN).digest("hex"),
    LEASEKEEPER_KMS_KEY_ID: stack.kmsKeyId,
    LEASEKEEPER_KMS_ENDPOINT: stack.kms.url,
    LEASEKEEPER_KMS_REGION: stack.kms.region,
    LEASEKEEPER_UNSEAL_CLUSTER_ID: "e2e-cluster",
    LEASEKEEPER_VAULT_POD_NAMESPACE: "vault",
    LEASEKEEPER_VAULT_POD_PORT: new URL(stack.vault.url).port,
    // The emulator speaks plain HTTP; the shipped default is https.
    LEASEKEEPER_VAULT_POD_SCHEME: "http",
    // Long sweep: the restart below must be caught by the pod watch, not the safety net.
    LEASEKEEPER_UNSEAL_SWEEP_SECONDS: "120",
  };
}

function vaultPod(restarts: number, ready: boolean) {
  const now = new Date().toISOString();
  return {
    metadata: {
      name: "vault-0",
      namespace: "vault",
      labels: { "app.kubernetes.io/name": "vault", component: "server" },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "StatefulSet", name: "vault", uid: "vault-sts-uid", controller: true },
      ],
    },
    spec: { nodeName: "emulator-node", containers: [{ name: "vault", image: "hashicorp/vault:1.17" }] },
    status: {
      phase: "Running",
      podIP: "127.0.0.1",
      podIPs: [{ ip: "127.0.0.1" }],
      conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: now }],
      containerStatuses: [
        {
          name: "vault",
          image: "hashicorp/vault:1.17",
          imageID: "",
          ready,
          restartCount: restarts,
          started: true,
          state: { running: { startedAt: now } },
        },
      ],
    },
  };
}

const metricsOf = async (r: Runtime) => r.metrics.registry.metrics();

test.before(async () => {
  stack = await startStack({ postgres: false });
  stack.kube.control.put("namespaces", { metadata: { name: "vault" } });
  stack.kube.control.put("pods", vaultPod(0, true));
  // The operator imports the existing shares once (keys import), exactly as in docs/unseal.md.
  const config = loadConfig(baseEnv());
  const kms = createKmsClient({ keyId: stack.kmsKeyId, endpoint: stack.kms.url, region: stack.kms.region });
  const keys = keyStoreFor(requireUnsealKeys(config), createKubeClient(kubeConfigFor(stack.kube)), kms);
  const out: string[] = [];
  const code = await runKeysCommand(
    ["import"],
    { stdin: [Buffer.from(stack.vault.unsealKeys.join("\n"))], out: (l) => out.push(l), err: (l) => out.push(l) },
    { keys, kmsKeyId: stack.kmsKeyId },
  );
  kms.destroy();
  assert.is(code, 0, out.join("\n"));
  events = new QueueEvents("unseal", { connection: { url: stack.redis.url }, prefix: "{leasekeeper}" });
  events.on("completed", ({ returnvalue }) => void results.push(JSON.stringify(returnvalue)));
  await events.waitUntilReady();
  runtimes.push(await startRuntime(config, logger()));
});

test.after(async () => {
  for (const r of runtimes) await r.stop().catch(() => undefined);
  await events?.close();
  await vault2?.close();
  await stack.close();
});

test("startup: the watch's initial list checks the Vault pod (already unsealed)", async () => {
  const r = runtimes[0] as Runtime;
  await waitFor("initial unseal check", async () =>
    /leasekeeper_unseal_attempts_total\{outcome="already-unsealed"\} [1-9]/.test(await metricsOf(r)),
  );
});

test("Vault restarted sealed → pod watch → unsealed by the job; latency printed; Event on the pod", async () => {
  stack.vault.control.restartSealed();
  assert.ok(stack.vault.control.isSealed());
  const t0 = performance.now();
  // What the kubelet reports for a restarted Vault container: restartCount+1, not Ready (sealed).
  stack.kube.control.put("pods", vaultPod(1, false));
  await waitFor("vault unsealed", async () => !stack.vault.control.isSealed(), 10_000, 5);
  const latencyMs = performance.now() - t0;
  console.log(`[unseal e2e] pod-watch trigger → Vault unsealed: ${latencyMs.toFixed(0)} ms`);
  assert.ok(latencyMs < 1000, `took ${latencyMs.toFixed(0)} ms (expected within a second)`);
  const ev = await waitFor("VaultUnsealed event", async () =>
    stack.kube.control
      .list("events", "vault")
      .find((e) => e.reason === "VaultUnsealed" && e.involvedObject?.name === "vault-0"),
  );
  assert.is(ev.type, "Normal");
  const metrics = await metricsOf(runtimes[0] as Runtime);
  assert.match(metrics, /leasekeeper_unseal_attempts_total\{outcome="unsealed"\} 1/);
  assert.match(metrics, /leasekeeper_vault_sealed\{replica="vault\/vault-0"\} 0/);
  assert.match(metrics, /leasekeeper_vault_sealed_seconds\{replica="vault\/vault-0"\} \d/);
});

test("POST /v1/unseal enqueues through the same producer and returns the job id", async () => {
  const r = runtimes[0] as Runtime;
  stack.vault.control.seal();
  const res = await fetch(`${r.httpUrl}/v1/unseal`, {
    method: "POST",
    body: "{}",
    headers: { authorization: `Bearer ${UNSEAL_API_TOKEN}` },
  });
  assert.is(res.status, 202);
  const body = (await res.json()) as { jobs: { replica: string; jobId: string }[] };
  assert.equal(
    body.jobs.map((j) => j.replica),
    ["vault/vault-0"],
  );
  await waitFor("vault unsealed via API", async () => !stack.vault.control.isSealed(), 10_000);
});

test("auto-init: an uninitialised Vault (by address) is initialised, keys stored KMS-encrypted in a file, then unsealed", async () => {
  vault2 = await startVaultEmulator({ initialized: false });
  keyFile = join(mkdtempSync(join(tmpdir(), "lk-e2e-keys-")), "unseal-keys.json");
  const env = {
    ...baseEnv(),
    LEASEKEEPER_ROLES: "workers,watch",
    LEASEKEEPER_QUEUE_PREFIX: "{lk-autoinit}",
    LEASEKEEPER_VAULT_REPLICAS: vault2.url,
    LEASEKEEPER_UNSEAL_KEY_STORE: "file",
    LEASEKEEPER_UNSEAL_KEY_FILE: keyFile,
    LEASEKEEPER_UNSEAL_AUTO_INIT: "true",
    LEASEKEEPER_UNSEAL_INIT_SHARES: "5",
    LEASEKEEPER_UNSEAL_INIT_THRESHOLD: "3",
  };
  const config = loadConfig(env);
  runtimes.push(await startRuntime(config, logger()));
  const v2 = vault2;
  await waitFor("vault2 initialised and unsealed", async () => v2.rootToken !== "" && !v2.control.isSealed(), 15_000);
  const kms = createKmsClient({ keyId: stack.kmsKeyId, endpoint: stack.kms.url, region: stack.kms.region });
  const stored = await keyStoreFor(requireUnsealKeys(config), createKubeClient(kubeConfigFor(stack.kube)), kms).load({
    rootToken: true,
  });
  kms.destroy();
  assert.equal(
    stored?.shares.map((s) => s.toString("hex")),
    v2.unsealKeys,
  );
  assert.is(stored?.rootToken?.toString("utf8"), v2.rootToken);
  stored?.wipe();
  // Restarted sealed, and leasekeeper restarted too (nothing in memory): the stored keys are used.
  v2.control.restartSealed();
  await runtimes[1]?.stop();
  runtimes.pop();
  const again = loadConfig({ ...env, LEASEKEEPER_UNSEAL_SWEEP_SECONDS: "1" });
  runtimes.push(await startRuntime(again, logger()));
  await waitFor("vault2 unsealed again from the file store", async () => !v2.control.isSealed(), 15_000);
});

test("no share, root token or ciphertext in logs, job data/results, Events, metrics or Redis", async () => {
  assert.ok(results.length > 0, "captured job results");
  const secretData = stack.kube.control.get("secrets", "vault", "leasekeeper-unseal-keys")?.data as Record<
    string,
    string
  >;
  const fileEntries = Object.values(
    (JSON.parse(readFileSync(keyFile, "utf8")) as { entries: Record<string, string> }).entries,
  );
  const secrets: string[] = [];
  for (const hex of [...stack.vault.unsealKeys, ...(vault2?.unsealKeys ?? [])]) {
    const b = Buffer.from(hex, "hex");
    secrets.push(hex, b.toString("base64"));
  }
  secrets.push(stack.vault.rootToken, vault2?.rootToken ?? "");
  for (const c of [...Object.values(secretData), ...fileEntries])
    secrets.push(c, Buffer.from(c, "base64").toString("hex"), c.slice(8, 40));
  const haystacks = {
    logs: logs.join(""),
    results: results.join("\n"),
    events: JSON.stringify(stack.kube.control.list("events")),
    metrics: (await Promise.all(runtimes.map(metricsOf))).join("\n"),
    redis: await redisDump(stack.redis.url),
  };
  assert.ok(haystacks.logs.includes("vault replica unsealed"), "logs were captured");
  assert.ok(haystacks.redis.includes("vault-0") || haystacks.results.includes("vault-0"), "job data was captured");
  for (const [where, text] of Object.entries(haystacks)) {
    for (const s of secrets.filter((x) => x.length >= 8))
      assert.not.ok(text.includes(s), `a secret leaked into ${where}`);
  }
});

test.run();
