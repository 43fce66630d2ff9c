/**
 * `leasekeeper keys import|verify` with the real KMS client (KMS emulator) and the real
 * Kubernetes client (Kubernetes emulator Secret), in-process and once through the entry point.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startKmsEmulator, type KmsEmulator } from "../emulators/kms/index.ts";
import { startKubernetesEmulator, type KubernetesEmulator } from "../emulators/kubernetes/index.ts";
import { kubeConfigFor } from "../emulators/kubernetes/testing.ts";
import { createKmsClient } from "../../shared/kms/kms-client.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { baseContext } from "../../shared/unseal/encryption-context.ts";
import { createSealedKeyStore } from "../../shared/unseal/sealed-key-store.ts";
import { createSecretBlobStore } from "../../shared/unseal/secret-blob-store.ts";
import { runKeysCommand } from "../../cli/keys.ts";

process.env.AWS_ACCESS_KEY_ID ??= "test";
process.env.AWS_SECRET_ACCESS_KEY ??= "test";

let kmsEmu: KmsEmulator;
let kubeEmu: KubernetesEmulator;
let keyId: string;
let kms: ReturnType<typeof createKmsClient>;

test.before(async () => {
  kmsEmu = await startKmsEmulator();
  kubeEmu = await startKubernetesEmulator();
  kubeEmu.control.put("namespaces", { metadata: { name: "vault" } });
  keyId = (await kmsEmu.createKey({ alias: "alias/cli" })).keyId;
  kms = createKmsClient({ keyId, region: kmsEmu.region, endpoint: kmsEmu.url, maxAttempts: 1 });
});
test.after(async () => {
  kms.destroy();
  await kubeEmu.close();
  await kmsEmu.close();
});

function store(name: string, cluster = "c1") {
  return createSealedKeyStore(
    createSecretBlobStore(createKubeClient(kubeConfigFor(kubeEmu)), "vault", name),
    kms,
    baseContext(cluster),
  );
}
async function cli(args: string[], stdin: string, name: string, cluster = "c1") {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKeysCommand(
    args,
    { stdin: [Buffer.from(stdin)], out: (l) => out.push(l), err: (l) => err.push(l) },
    { keys: store(name, cluster), kmsKeyId: keyId },
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}
const newShares = (n: number) => Array.from({ length: n }, () => randomBytes(33));
function assertNoShare(text: string, shares: Buffer[]) {
  for (const s of shares)
    for (const form of [s.toString("hex"), s.toString("base64")])
      assert.not.ok(text.includes(form), "a share was printed");
}

test("import from lines, verify prints counts only", async () => {
  const shares = newShares(5);
  const imported = await cli(
    ["import"],
    shares.map((s, i) => (i % 2 ? s.toString("hex") : `Unseal Key ${i + 1}: ${s.toString("base64")}`)).join("\n"),
    "k1",
  );
  assert.is(imported.code, 0, imported.err);
  assert.match(imported.out, /stored 5 unseal key share\(s\) in secret vault\/k1/);
  const verified = await cli(["verify"], "", "k1");
  assert.is(verified.code, 0, verified.err);
  assert.match(verified.out, /5 unseal key share\(s\) decrypt/);
  assert.match(verified.out, /root token: not stored/);
  assertNoShare(imported.out + imported.err + verified.out + verified.err, shares);
});

test("import refuses to overwrite without --force; --force replaces", async () => {
  const first = newShares(3);
  assert.is((await cli(["import"], first.map((s) => s.toString("hex")).join("\n"), "k2")).code, 0);
  const second = newShares(4);
  const refused = await cli(["import"], second.map((s) => s.toString("hex")).join("\n"), "k2");
  assert.is(refused.code, 1);
  assert.match(refused.err, /refusing to overwrite.*--force/);
  assert.is((await store("k2").counts())?.shares, 3, "store untouched");
  const forced = await cli(["import", "--force"], second.map((s) => s.toString("hex")).join("\n"), "k2");
  assert.is(forced.code, 0, forced.err);
  const loaded = await store("k2").load();
  assert.equal(
    loaded?.shares.map((s) => s.toString("hex")),
    second.map((s) => s.toString("hex")),
  );
  loaded?.wipe();
});

test("import of `vault operator init -format=json` with --include-root-token; verify under another cluster fails without printing keys", async () => {
  const shares = newShares(5);
  const json = JSON.stringify({
    unseal_keys_b64: shares.map((s) => s.toString("base64")),
    unseal_keys_hex: shares.map((s) => s.toString("hex")),
    root_token: "hvs.TOPSECRETROOT",
  });
  const imported = await cli(["import", "--include-root-token"], json, "k3");
  assert.is(imported.code, 0, imported.err);
  assert.match(imported.out, /and the root token/);
  const verified = await cli(["verify"], "", "k3");
  assert.match(verified.out, /root token: present/);
  const wrong = await cli(["verify"], "", "k3", "another-cluster");
  assert.is(wrong.code, 1);
  assert.match(wrong.err, /InvalidCiphertextException/);
  assertNoShare(imported.out + verified.out + wrong.err, shares);
  assert.not.ok((imported.out + verified.out + wrong.err).includes("TOPSECRETROOT"));
});

test("bad input and usage errors never echo the input", async () => {
  const bad = await cli(["import"], "SECRET-LOOKING-GARBAGE", "k4");
  assert.is(bad.code, 1);
  assert.not.ok(bad.err.includes("SECRET-LOOKING-GARBAGE"));
  assert.is((await cli(["import", "--nope"], "", "k4")).code, 2);
  assert.is((await cli(["verify"], "", "k-missing")).code, 1);
});

test("entry point: npm run keys -- verify reads the environment and prints counts", async () => {
  const shares = newShares(3);
  assert.is((await cli(["import"], shares.map((s) => s.toString("hex")).join("\n"), "k5", "cli-cluster")).code, 0);
  const dir = mkdtempSync(join(tmpdir(), "lk-cli-"));
  await kubeEmu.writeKubeconfig(join(dir, "kubeconfig"));
  const env = {
    ...process.env,
    KUBECONFIG: join(dir, "kubeconfig"),
    LEASEKEEPER_KMS_KEY_ID: keyId,
    LEASEKEEPER_KMS_ENDPOINT: kmsEmu.url,
    LEASEKEEPER_KMS_REGION: kmsEmu.region,
    LEASEKEEPER_UNSEAL_CLUSTER_ID: "cli-cluster",
    LEASEKEEPER_UNSEAL_SECRET_NAME: "k5",
    LEASEKEEPER_UNSEAL_SECRET_NAMESPACE: "vault",
  };
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", "keys", "verify"], {
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("close", (c) => resolve({ code: c, stdout, stderr }));
    },
  );
  assert.is(code, 0, stderr);
  assert.match(stdout, /secret vault\/k5: 3 unseal key share\(s\) decrypt/);
  assertNoShare(stdout + stderr, shares);
});

test.run();
