/**
 * `npm run bench:unseal [-- --cycles N] [--json]`: N cycles (default 50) of "a Vault replica
 * restarted sealed → unsealed", driven by the trigger that fires in production: the kubelet's pod
 * update (restartCount + 1, not Ready) seen by leasekeeper's Vault pod watch. leasekeeper runs
 * every role in this process against the Kubernetes, Vault and KMS emulators and a private Redis;
 * the shares are KMS-decrypted on every cycle. Measured: from the pod update to Vault answering
 * unsealed, next to the polling intervals of bank-vaults (5 s) and vault-init (10 s).
 */
import { Writable } from "node:stream";
import { createHash, randomBytes } from "node:crypto";
import { loadConfig, requireUnsealKeys } from "../shared/config/config.ts";
import { createKmsClient } from "../shared/kms/kms-client.ts";
import { createKubeClient } from "../shared/kube/kube-client.ts";
import { createLogger } from "../shared/observability/log.ts";
import { keyStoreFor } from "../shared/unseal/key-store-from-config.ts";
import { runKeysCommand } from "../cli/keys.ts";
import { startRuntime } from "../functions/entry/runtime.ts";
import { kubeConfigFor } from "../test/emulators/kubernetes/testing.ts";
import { startStack } from "../test/helpers/stack.ts";
import { VAULT_POD_NAMESPACE, VaultPodModel } from "../test/helpers/vault-pod.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const cyclesArg = args.indexOf("--cycles");
const N = cyclesArg >= 0 ? Number(args[cyclesArg + 1]) : 50;
if (!Number.isInteger(N) || N < 1) throw new Error("--cycles must be a positive integer");
const ANCHORS = { bankVaultsPollSeconds: 5, vaultInitPollSeconds: 10 };
const say = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};

process.env.AWS_ACCESS_KEY_ID ??= "bench";
process.env.AWS_SECRET_ACCESS_KEY ??= "bench";
const stack = await startStack({ postgres: false });
let runtime: Awaited<ReturnType<typeof startRuntime>> | undefined;
try {
  const pod = new VaultPodModel(stack.kube, stack.vault);
  const config = loadConfig({
    LEASEKEEPER_INDEX_KEY: randomBytes(32).toString("base64"),
    LEASEKEEPER_REDIS_URL: stack.redis.url,
    KUBECONFIG: stack.leasekeeperKubeconfigPath,
    VAULT_ADDR: stack.vault.url,
    VAULT_TOKEN: stack.vault.rootToken,
    LEASEKEEPER_HTTP_PORT: "0",
    LEASEKEEPER_HTTP_HOST: "127.0.0.1",
    LEASEKEEPER_LOG_LEVEL: "warn",
    LEASEKEEPER_API_TOKENS: createHash("sha256").update(randomBytes(24)).digest("hex"),
    LEASEKEEPER_UNSEAL: "true",
    LEASEKEEPER_KMS_KEY_ID: stack.kmsKeyId,
    LEASEKEEPER_KMS_ENDPOINT: stack.kms.url,
    LEASEKEEPER_KMS_REGION: stack.kms.region,
    LEASEKEEPER_UNSEAL_CLUSTER_ID: "bench",
    LEASEKEEPER_VAULT_POD_NAMESPACE: VAULT_POD_NAMESPACE,
    LEASEKEEPER_VAULT_POD_PORT: new URL(stack.vault.url).port,
    LEASEKEEPER_VAULT_POD_SCHEME: "http", // the emulator is plain HTTP; the shipped default is https
    // The safety-net sweep must not be what unseals: every cycle has to come from the pod watch.
    LEASEKEEPER_UNSEAL_SWEEP_SECONDS: "3600",
  });
  const kms = createKmsClient({ keyId: stack.kmsKeyId, endpoint: stack.kms.url, region: stack.kms.region });
  const keys = keyStoreFor(requireUnsealKeys(config), createKubeClient(kubeConfigFor(stack.kube)), kms);
  const code = await runKeysCommand(
    ["import"],
    { stdin: [Buffer.from(stack.vault.unsealKeys.join("\n"))], out: () => undefined, err: say },
    { keys, kmsKeyId: stack.kmsKeyId },
  );
  kms.destroy();
  if (code !== 0) throw new Error("could not import the unseal keys");
  const logs = new Writable({ write: (_c, _e, done) => done() });
  runtime = await startRuntime(config, createLogger("warn", logs));
  // Start-up: the watch's initial list checks the (unsealed) pod; let that job finish.
  await sleep(500);

  const latencies: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    pod.restart();
    while (stack.vault.control.isSealed()) {
      if (performance.now() - t0 > 30_000) throw new Error(`cycle ${i + 1}: still sealed after 30 s`);
      await new Promise((r) => setImmediate(r));
    }
    latencies.push((performance.now() - t0) / 1000);
    pod.syncReadiness();
    // Let the job finish and be removed (its id is per replica) before the next restart.
    await sleep(100);
  }
  const result = {
    cycles: N,
    trigger: "Vault pod update (restartCount+1, not Ready) → pod watch → unseal job",
    restartToUnsealed: {
      p50Seconds: pct(latencies, 50),
      p99Seconds: pct(latencies, 99),
      maxSeconds: Math.max(...latencies),
      minSeconds: Math.min(...latencies),
    },
    anchors: ANCHORS,
    sweepSeconds: 3600,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const s = (v: number) => `${v.toFixed(3)} s`;
    const rows: Array<[string, string]> = [
      [`leasekeeper, restart event → unsealed, p50 (${N} cycles)`, s(result.restartToUnsealed.p50Seconds)],
      [`leasekeeper, restart event → unsealed, p99 (${N} cycles)`, s(result.restartToUnsealed.p99Seconds)],
      ["leasekeeper, max", s(result.restartToUnsealed.maxSeconds)],
      ["bank-vaults: polls every (worst-case detection delay)", `${ANCHORS.bankVaultsPollSeconds.toFixed(3)} s`],
      ["vault-init: polls every (worst-case detection delay)", `${ANCHORS.vaultInitPollSeconds.toFixed(3)} s`],
    ];
    for (const [what, value] of rows) process.stdout.write(`${what.padEnd(58)} ${value}\n`);
  }
} finally {
  await runtime?.stop().catch(() => undefined);
  await stack.close();
}
