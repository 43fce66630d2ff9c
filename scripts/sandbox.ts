/**
 * `npm run sandbox`: the emulated cluster, Vault and KMS, a private Redis and PostgreSQL, the
 * tutorial example seeded, and every role of leasekeeper running against them. Writes
 * .sandbox/endpoints.json and .sandbox/kubeconfig; Ctrl-C (or SIGTERM) stops everything.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadConfig, requireUnsealKeys } from "../shared/config/config.ts";
import { createKubeClient } from "../shared/kube/kube-client.ts";
import { loadKubeConfig } from "../shared/kube/kube-config.ts";
import { createKmsClient } from "../shared/kms/kms-client.ts";
import { createLogger } from "../shared/observability/log.ts";
import { keyStoreFor } from "../shared/unseal/key-store-from-config.ts";
import { runKeysCommand } from "../cli/keys.ts";
import { startRuntime } from "../functions/entry/runtime.ts";
import { leasekeeperEnv, seedExample, startStack } from "../test/helpers/stack.ts";
import { DEFAULT_KUBELET_OPTIONS } from "../test/emulators/kubernetes/index.ts";
import { freePort } from "../test/helpers/ports.ts";
import { VAULT_POD_NAMESPACE, VaultPodModel } from "../test/helpers/vault-pod.ts";
import { startSandboxControl } from "./sandbox-control.ts";

const dir = resolve(".sandbox");
mkdirSync(dir, { recursive: true });
const say = (line: string) => process.stdout.write(`${line}\n`);

say("sandbox: starting the Kubernetes, Vault and KMS emulators, Redis and PostgreSQL …");
// A real kubelet's Secret refresh (60 s + up to 10 s), which the ConfigMap's 120 s rotation grace outlasts.
const stack = await startStack({ dir, kubeAnonymous: true, podGraceSeconds: Number(process.env.SANDBOX_POD_GRACE_SECONDS ?? 2), kubelet: DEFAULT_KUBELET_OPTIONS });
const seeded = await seedExample(stack);

// The KMS client reads credentials from the usual AWS variables; the emulator accepts any.
process.env.AWS_ACCESS_KEY_ID ??= "sandbox";
process.env.AWS_SECRET_ACCESS_KEY ??= "sandbox";
const httpPort = Number(process.env.LEASEKEEPER_HTTP_PORT ?? (await freePort()));
const config = loadConfig({
  ...process.env,
  ...leasekeeperEnv(stack, seeded, httpPort),
  ...(process.env.LEASEKEEPER_INDEX_KEY ? { LEASEKEEPER_INDEX_KEY: process.env.LEASEKEEPER_INDEX_KEY } : {}),
  LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: process.env.LEASEKEEPER_RECONCILE_INTERVAL_SECONDS ?? "30",
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
const keys = keyStoreFor(requireUnsealKeys(config), kube, createKmsClient({ keyId: stack.kmsKeyId, region: stack.kms.region, endpoint: stack.kms.url }));
const imported = await runKeysCommand(["import"], { stdin: [stack.vault.unsealKeys.join("\n")], out: () => undefined, err: say }, { keys, kmsKeyId: stack.kmsKeyId });
if (imported !== 0) throw new Error("sandbox: could not import the unseal keys");

// Vault was initialised and configured above; now it restarts sealed (as after a node restart),
// before leasekeeper starts: leasekeeper unseals it with the KMS-encrypted shares.
stack.vault.control.restartSealed();
const vaultPod = new VaultPodModel(stack.kube, stack.vault);
const sandboxControl = await startSandboxControl(vaultPod, say);
say("sandbox: Vault is sealed; leasekeeper will unseal it with the KMS-encrypted key shares");

const runtime = await startRuntime(config, createLogger(config.logLevel));
const endpoints = {
  kubernetes: stack.kube.url,
  kubeconfig: stack.kubeconfigPath,
  vault: stack.vault.url,
  vaultToken: stack.vault.rootToken,
  kms: stack.kms.url,
  kmsKeyId: stack.kmsKeyId,
  redis: stack.redis.url,
  postgres: stack.postgres?.url ?? null,
  api: runtime.httpUrl ?? null,
  sandboxControl: sandboxControl.url,
};
writeFileSync(resolve(dir, "endpoints.json"), `${JSON.stringify(endpoints, null, 2)}\n`);

say(`
sandbox ready (every role of leasekeeper is running; logs follow as JSON)
  Kubernetes  ${stack.kube.url}     kubeconfig: .sandbox/kubeconfig
  Vault       ${stack.vault.url}     root token in .sandbox/endpoints.json
  KMS         ${stack.kms.url}     key ${stack.kmsKeyId}
  Redis       ${stack.redis.url}
  PostgreSQL  ${stack.postgres ? `127.0.0.1:${stack.postgres.port}` : "not available"}
  leasekeeper ${runtime.httpUrl}  (/healthz /readyz /metrics /v1/events/kubernetes /v1/unseal)
  sandbox     ${sandboxControl.url}  (test infrastructure only: POST /vault/restart restarts Vault sealed)

try next (README "Try it"):
  export KUBECONFIG=.sandbox/kubeconfig
  kubectl apply -f examples/postgres-pod.yaml
  kubectl get secret app-leasekeeper -o jsonpath='{.data.creds\\.json}' | base64 -d
  kubectl delete pod app
Ctrl-C stops everything.
`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`\nsandbox: ${signal}, stopping …`);
  const hard = setTimeout(() => process.exit(1), 20_000);
  hard.unref();
  await runtime.stop().catch((err: unknown) => say(`leasekeeper stop failed: ${String(err)}`));
  await sandboxControl.close();
  await stack.close();
  say("sandbox: stopped");
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
