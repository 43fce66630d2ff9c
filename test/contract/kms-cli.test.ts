/**
 * Smoke test: the real `aws` CLI against the KMS emulator. Skipped, with a message, when
 * `aws` is not on PATH.
 *
 * CLI v1 vs v2: v1 sends a plain `--plaintext` string as raw bytes, v2 (cli_binary_format
 * base64 by default) expects base64 there — so these tests pass blobs as `fileb://`, which
 * both read as raw bytes. Both print blob outputs (CiphertextBlob, Plaintext) as base64.
 * Service errors exit 255 in v1 and 254 in v2; both print
 * "An error occurred (<__type>) when calling the <Op> operation: <message>" on stderr.
 * v1 retries in "legacy" mode (5 attempts), v2 in "standard" (3).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startKmsEmulator, type KmsEmulator } from "../emulators/kms/index.ts";

const run = promisify(execFile);

async function awsVersion(): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run("aws", ["--version"], { timeout: 20_000 });
    return `${stdout}${stderr}`.trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

const version = await awsVersion();
const cliTest = version === undefined ? test.skip : test;
if (version === undefined) console.log("[kms-cli] SKIPPED: `aws` CLI not found on PATH");
else console.log(`[kms-cli] using ${version}`);

let kms: KmsEmulator;
let dir: string;

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("AWS_")) env[name] = value;
  return {
    ...env,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_PAGER: "",
  };
}

async function aws(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = ["kms", ...args, "--endpoint-url", kms.url, "--region", kms.region, "--output", "json"];
  try {
    const { stdout, stderr } = await run("aws", argv, { env: cliEnv(), timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failure = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failure.code !== "number") throw err;
    return { code: failure.code, stdout: failure.stdout ?? "", stderr: failure.stderr ?? "" };
  }
}

async function awsJson(args: string[]): Promise<Record<string, unknown>> {
  const result = await aws(args);
  if (result.code !== 0) throw new Error(`aws kms ${args[0]} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

async function file(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return `fileb://${path}`;
}

test.before(async () => {
  kms = await startKmsEmulator();
  dir = await mkdtemp(join(tmpdir(), "kms-cli-"));
});

test.after(async () => {
  await kms.close();
  await rm(dir, { recursive: true, force: true });
});

cliTest("aws kms encrypt/decrypt round-trips through an alias with an encryption context", async () => {
  const key = await kms.createKey({ alias: "alias/cli-unseal" });
  const plaintext = Buffer.from("vault unseal share \u00e9\u0000\u00ff", "utf8");
  const encrypted = await awsJson([
    "encrypt",
    "--key-id",
    "alias/cli-unseal",
    "--plaintext",
    await file("plain.bin", plaintext),
    "--encryption-context",
    "cluster=prod,purpose=unseal",
  ]);
  assert.is(encrypted["KeyId"], key.arn);
  const blob = Buffer.from(String(encrypted["CiphertextBlob"]), "base64");
  const decrypted = await awsJson([
    "decrypt",
    "--ciphertext-blob",
    await file("blob.bin", blob),
    "--encryption-context",
    "purpose=unseal,cluster=prod",
  ]);
  assert.equal(Buffer.from(String(decrypted["Plaintext"]), "base64"), plaintext);
  assert.is(decrypted["KeyId"], key.arn);
  const wrong = await aws([
    "decrypt",
    "--ciphertext-blob",
    await file("blob.bin", blob),
    "--encryption-context",
    "cluster=dev",
  ]);
  assert.ok(wrong.code !== 0, "wrong context must fail");
  assert.match(wrong.stderr, /An error occurred \(InvalidCiphertextException\) when calling the Decrypt operation/);
});

cliTest("aws kms list-keys, describe-key by alias ARN and generate-data-key work", async () => {
  const key = await kms.createKey({ alias: "alias/cli-list", description: "from cli test" });
  const listed = await awsJson(["list-keys"]);
  const ids = (listed["Keys"] as Array<{ KeyId: string }>).map((k) => k.KeyId);
  assert.ok(ids.includes(key.keyId));
  const described = await awsJson([
    "describe-key",
    "--key-id",
    `arn:aws:kms:${kms.region}:${kms.accountId}:alias/cli-list`,
  ]);
  const meta = described["KeyMetadata"] as Record<string, unknown>;
  assert.is(meta["Arn"], key.arn);
  assert.is(meta["Description"], "from cli test");
  assert.type(meta["CreationDate"], "number");
  const dataKey = await awsJson(["generate-data-key", "--key-id", key.keyId, "--key-spec", "AES_128"]);
  assert.is(Buffer.from(String(dataKey["Plaintext"]), "base64").length, 16);
});

cliTest("the CLI shows modeled errors: DisabledException, NotFoundException", async () => {
  const key = await kms.createKey();
  await aws(["disable-key", "--key-id", key.keyId]);
  const disabled = await aws(["encrypt", "--key-id", key.keyId, "--plaintext", await file("x.bin", Buffer.from("x"))]);
  assert.ok(disabled.code !== 0);
  assert.match(disabled.stderr, new RegExp(`\\(DisabledException\\).*${key.arn} is disabled\\.`));
  const missing = await aws(["describe-key", "--key-id", "alias/none"]);
  assert.ok(missing.code !== 0);
  assert.match(
    missing.stderr,
    /\(NotFoundException\).*Alias arn:aws:kms:us-east-1:111122223333:alias\/none is not found\./,
  );
});

test.run();
