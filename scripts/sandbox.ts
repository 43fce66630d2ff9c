/**
 * `npm run sandbox`: the emulated cluster, Vault and KMS, a private Redis and PostgreSQL, the
 * tutorial example seeded, and every role of leasekeeper running against them with everything on:
 * the CI hook, an on-call API token, vault.hashicorp.com/* annotations and the admission webhook.
 * Writes .sandbox/endpoints.json and .sandbox/kubeconfig. Ctrl-C (or SIGTERM) stops everything
 * within seconds and removes what the sandbox made; a start first removes what a killed run left.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { runKeysCommand } from "../cli/keys.ts";
import { startRuntime, type Runtime } from "../functions/entry/runtime.ts";
import { sha256Hex } from "../functions/http/auth/digest.ts";
import { loadConfig, requireUnsealKeys } from "../shared/config/config.ts";
import { createKmsClient } from "../shared/kms/kms-client.ts";
import { createKubeClient } from "../shared/kube/kube-client.ts";
import { loadKubeConfig } from "../shared/kube/kube-config.ts";
import { createLogger } from "../shared/observability/log.ts";
import { keyStoreFor } from "../shared/unseal/key-store-from-config.ts";
import { DEFAULT_KUBELET_OPTIONS } from "../test/emulators/kubernetes/index.ts";
import { freePort } from "../test/helpers/ports.ts";
import { leasekeeperEnv, seedExample, startStack, type Stack } from "../test/helpers/stack.ts";
import { VAULT_POD_NAMESPACE, VaultPodModel } from "../test/helpers/vault-pod.ts";
import { banner } from "./sandbox-banner.ts";
import { claimSandbox, cleanUp, describeCleaned, removeIfEmpty, sandboxTag } from "./sandbox-cleanup.ts";
import { startSandboxControl, type SandboxControl } from "./sandbox-control.ts";
import { registerShippedWebhook } from "./sandbox-webhook.ts";

/** A stop must end within this, whatever hangs: then what is left is killed and removed. */
const STOP_BOUND_MS = 2500;

const dir = resolve(".sandbox");
mkdirSync(dir, { recursive: true });
const say = (line: string) => process.stdout.write(`${line}\n`);

/** What is running, for stop(): filled in as start-up gets there. */
const running: { stack?: Stack; runtime?: Runtime; control?: SandboxControl } = {};
let stopping = false;

/** Ctrl-C (SIGINT), SIGTERM: stop in order, remove what the sandbox made. A second signal (or the bound) cuts it short. */
async function stop(signal: string): Promise<void> {
  if (stopping) {
    forceStop(`${signal} again`);
    return;
  }
  stopping = true;
  say(`\nsandbox: ${signal}, stopping …`);
  const started = Date.now();
  setTimeout(() => forceStop(`stopping took longer than ${STOP_BOUND_MS / 1000} s`), STOP_BOUND_MS).unref();
  await running.runtime?.stop().catch((err: unknown) => say(`leasekeeper stop failed: ${String(err)}`));
  await running.control?.close();
  await running.stack?.close();
  cleanUp(dir);
  removeIfEmpty(dir);
  say(
    `sandbox: stopped in ${((Date.now() - started) / 1000).toFixed(1)} s; removed .sandbox and the Redis and PostgreSQL temp dirs`,
  );
  process.exit(0);
}

function forceStop(why: string): void {
  say(`sandbox: ${why}; killing what is left`);
  cleanUp(dir);
  removeIfEmpty(dir);
  process.exit(1);
}

// A closed terminal (SIGHUP, or EPIPE on stdout) stops the sandbox as Ctrl-C does, instead of crashing.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(signal));
process.stdout.on("error", () => void stop("stdout closed"));

const cleaned = describeCleaned(claimSandbox(dir));
if (cleaned) say(cleaned);
// Whatever ends this process from here on (a crash included), Redis, PostgreSQL and the files go with it.
process.on("exit", () => {
  cleanUp(dir);
  removeIfEmpty(dir);
});

say("sandbox: starting the Kubernetes, Vault and KMS emulators, Redis and PostgreSQL …");
const stack = await startStack({
  dir,
  kubeAnonymous: true,
  podGraceSeconds: Number(process.env.SANDBOX_POD_GRACE_SECONDS ?? 2),
  // A real kubelet's Secret refresh (60 s + up to 10 s), which the ConfigMap's 120 s rotation grace outlasts.
  kubelet: DEFAULT_KUBELET_OPTIONS,
  // kubectl create deployment / scale / rollout restart work in the sandbox.
  workloadControllers: true,
  // Found again by a later start if this one is killed; Redis out of reach of the terminal's Ctrl-C, so it stops last.
  tempTag: sandboxTag(dir),
  redisOwnProcessGroup: true,
});
running.stack = stack;
const seeded = await seedExample(stack);

// The three users' credentials: an on-call API token and the CI hook's secret (both in endpoints.json).
const apiToken = randomBytes(24).toString("base64url");
const ciHmacSecret = randomBytes(32).toString("hex");

// The KMS client reads credentials from the usual AWS variables; the emulator accepts any.
process.env.AWS_ACCESS_KEY_ID ??= "sandbox";
process.env.AWS_SECRET_ACCESS_KEY ??= "sandbox";
const httpPort = Number(process.env.LEASEKEEPER_HTTP_PORT ?? (await freePort()));
const config = loadConfig({
  ...process.env,
  ...leasekeeperEnv(stack, seeded, httpPort),
  ...(process.env.LEASEKEEPER_INDEX_KEY ? { LEASEKEEPER_INDEX_KEY: process.env.LEASEKEEPER_INDEX_KEY } : {}),
  LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: process.env.LEASEKEEPER_RECONCILE_INTERVAL_SECONDS ?? "30",
  // Jobs here take milliseconds; a stop must not wait the production bound for one.
  LEASEKEEPER_SHUTDOWN_TIMEOUT_SECONDS: process.env.LEASEKEEPER_SHUTDOWN_TIMEOUT_SECONDS ?? "1",
  LEASEKEEPER_API_TOKENS: [sha256Hex(apiToken), process.env.LEASEKEEPER_API_TOKENS].filter(Boolean).join(","),
  // The sandbox's one CI key may do everything everywhere; a real one names its verbs and namespaces.
  LEASEKEEPER_CI_HMAC_SECRETS: `${ciHmacSecret};verbs=*;namespaces=*;name=sandbox-ci`,
  LEASEKEEPER_VAULT_ANNOTATIONS: "true",
  LEASEKEEPER_UNSEAL: "true",
  LEASEKEEPER_KMS_KEY_ID: stack.kmsKeyId,
  LEASEKEEPER_KMS_REGION: stack.kms.region,
  LEASEKEEPER_KMS_ENDPOINT: stack.kms.url,
  LEASEKEEPER_UNSEAL_CLUSTER_ID: "sandbox",
  LEASEKEEPER_UNSEAL_SECRET_NAMESPACE: "kube-system",
  // Vault is modelled as the Helm chart's pod vault/vault-0 (pod IP 127.0.0.1, the emulator's port):
  // leasekeeper finds it by label selector and its pod watch reacts to restarts.
  LEASEKEEPER_VAULT_POD_NAMESPACE: VAULT_POD_NAMESPACE,
  LEASEKEEPER_VAULT_POD_PORT: new URL(stack.vault.url).port,
  LEASEKEEPER_VAULT_POD_SCHEME: "http", // the emulator is plain HTTP; the shipped default is https
});

// Vault's unseal shares go into the KMS-encrypted key store, as `npm run keys -- import` would.
const kube = createKubeClient(loadKubeConfig(config.kubeconfig));
const kms = createKmsClient({ keyId: stack.kmsKeyId, region: stack.kms.region, endpoint: stack.kms.url });
const keys = keyStoreFor(requireUnsealKeys(config), kube, kms);
const imported = await runKeysCommand(
  ["import"],
  { stdin: [stack.vault.unsealKeys.join("\n")], out: () => undefined, err: say },
  { keys, kmsKeyId: stack.kmsKeyId },
);
kms.destroy();
if (imported !== 0) throw new Error("sandbox: could not import the unseal keys");

// Vault was initialised and configured above; now it restarts sealed (as after a node restart),
// before leasekeeper starts: leasekeeper unseals it with the KMS-encrypted shares.
stack.vault.control.restartSealed();
const vaultPod = new VaultPodModel(stack.kube, stack.vault);
const sandboxControl = await startSandboxControl(vaultPod, say);
running.control = sandboxControl;
say("sandbox: Vault is sealed; leasekeeper will unseal it with the KMS-encrypted key shares");

const runtime = await startRuntime(config, createLogger(config.logLevel));
running.runtime = runtime;
const api = runtime.httpUrl ?? "";
// The admission webhook as infra/base/webhook.yaml ships it, for namespace default.
await registerShippedWebhook(stack, `${api}/v1/admission/pods`, ["default"]);

const endpoints = {
  kubernetes: stack.kube.url,
  kubeconfig: stack.kubeconfigPath,
  vault: stack.vault.url,
  vaultToken: stack.vault.rootToken,
  kms: stack.kms.url,
  kmsKeyId: stack.kmsKeyId,
  redis: stack.redis.url,
  postgres: stack.postgres?.url ?? null,
  api,
  apiToken,
  ciHmacSecret,
  sandboxControl: sandboxControl.url,
};
writeFileSync(resolve(dir, "endpoints.json"), `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });

say(
  banner({
    kubernetes: stack.kube.url,
    vault: stack.vault.url,
    kms: stack.kms.url,
    kmsKeyId: stack.kmsKeyId,
    redis: stack.redis.url,
    postgresPort: stack.postgres?.port,
    api,
    sandboxControl: sandboxControl.url,
  }),
);
