/**
 * `leasekeeper unseal` against a running leasekeeper (every role, unseal on, Vault modelled as
 * pod vault/vault-0): the CLI enqueues with POST /v1/unseal and follows each job with
 * GET /v1/jobs/<id> until it prints the replica's outcome. The job must still be readable after
 * it finished (it used to be removed on completion: every run ended in "404 no job unseal-…").
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { runOncallCommand } from "../../cli/oncall.ts";
import { runKeysCommand } from "../../cli/keys.ts";
import { sha256Hex } from "../../functions/http/auth/digest.ts";
import { loadConfig, requireUnsealKeys } from "../../shared/config/config.ts";
import { createKmsClient } from "../../shared/kms/kms-client.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { loadKubeConfig } from "../../shared/kube/kube-config.ts";
import { keyStoreFor } from "../../shared/unseal/key-store-from-config.ts";
import { leasekeeperEnv, seedExample, startStack, type Stack } from "../helpers/stack.ts";
import { VAULT_POD_NAMESPACE, VaultPodModel } from "../helpers/vault-pod.ts";
import { startLeasekeeper, waitFor, type Harness } from "../e2e/harness.ts";

process.env.AWS_ACCESS_KEY_ID ??= "test";
process.env.AWS_SECRET_ACCESS_KEY ??= "test";

const t = suite<{ stack: Stack; lk: Harness; token: string }>("cli unseal");

t.before(async (ctx) => {
  ctx.stack = await startStack({ postgres: false, podGraceSeconds: 0 });
  const seeded = await seedExample(ctx.stack);
  ctx.token = randomBytes(24).toString("base64url");
  new VaultPodModel(ctx.stack.kube, ctx.stack.vault);
  const env = {
    LEASEKEEPER_API_TOKENS: sha256Hex(ctx.token),
    LEASEKEEPER_UNSEAL: "true",
    LEASEKEEPER_KMS_KEY_ID: ctx.stack.kmsKeyId,
    LEASEKEEPER_KMS_REGION: ctx.stack.kms.region,
    LEASEKEEPER_KMS_ENDPOINT: ctx.stack.kms.url,
    LEASEKEEPER_UNSEAL_CLUSTER_ID: "cli-test",
    LEASEKEEPER_UNSEAL_SECRET_NAMESPACE: "kube-system",
    LEASEKEEPER_VAULT_POD_NAMESPACE: VAULT_POD_NAMESPACE,
    LEASEKEEPER_VAULT_POD_PORT: new URL(ctx.stack.vault.url).port,
    LEASEKEEPER_VAULT_POD_SCHEME: "http", // the emulator is plain HTTP; the shipped default is https
    // Only the CLI's request may unseal in this test: no sweep in between.
    LEASEKEEPER_UNSEAL_SWEEP_SECONDS: "600",
  };
  // The shares go into the KMS-encrypted key store first, as `leasekeeper keys import` does.
  const config = loadConfig({ ...leasekeeperEnv(ctx.stack, seeded, 0), ...env });
  const kms = createKmsClient({ keyId: ctx.stack.kmsKeyId, region: ctx.stack.kms.region, endpoint: ctx.stack.kms.url });
  const keys = keyStoreFor(requireUnsealKeys(config), createKubeClient(loadKubeConfig(config.kubeconfig)), kms);
  const said: string[] = [];
  const imported = await runKeysCommand(
    ["import"],
    { stdin: [ctx.stack.vault.unsealKeys.join("\n")], out: (l) => said.push(l), err: (l) => said.push(l) },
    { keys, kmsKeyId: ctx.stack.kmsKeyId },
  );
  kms.destroy();
  assert.is(imported, 0, said.join("\n"));
  ctx.lk = await startLeasekeeper(ctx.stack, seeded, env);
});
t.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

async function unseal(
  lk: Harness,
  token: string,
  args: string[] = [],
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOncallCommand(
    "unseal",
    args,
    { stdin: Readable.from([]), isTTY: false, out: (l) => out.push(l), err: (l) => err.push(l) },
    {
      env: { LEASEKEEPER_URL: lk.runtime.httpUrl, LEASEKEEPER_API_TOKEN: token },
    },
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

t(
  "a sealed Vault: the CLI enqueues, follows the job to its end and prints 'unsealed'",
  async ({ stack, lk, token }) => {
    await waitFor(
      "the start-up pass unsealed nothing (Vault is unsealed)",
      async () => !stack.vault.control.isSealed(),
    );
    // Sealed without a pod event (no watch trigger): only the CLI's request unseals it.
    stack.vault.control.seal();
    const run = await unseal(lk, token, ["--wait", "20"]);
    assert.is(run.code, 0, run.err);
    assert.is(run.err, "");
    assert.match(run.out, /^REPLICA\s+JOB\s+OUTCOME\s+DETAIL\n/);
    assert.match(run.out, /vault\/vault-0\s+unseal-pod-vault_vault-0-[0-9a-f]{8}\s+unsealed/);
    assert.not.ok(stack.vault.control.isSealed());
  },
);

t("run again at once: the finished job does not swallow the new pass; 'already-unsealed'", async ({ lk, token }) => {
  const run = await unseal(lk, token, ["--replica", "vault/vault-0"]);
  assert.is(run.code, 0, run.err);
  assert.match(run.out, /vault\/vault-0\s+unseal-pod-vault_vault-0-[0-9a-f]{8}\s+already-unsealed/);
  const unknown = await unseal(lk, token, ["--replica", "vault/vault-9"]);
  assert.is(unknown.code, 1);
  assert.match(unknown.err, /404 no_replicas/);
});

t.run();
