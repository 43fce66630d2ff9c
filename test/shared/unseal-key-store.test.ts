/**
 * Key store round trips with the real @aws-sdk/client-kms against the KMS emulator, in a
 * Kubernetes Secret (Kubernetes emulator, real client-node) and in a file.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startKmsEmulator, type KmsEmulator } from "../emulators/kms/index.ts";
import { startKubernetesEmulator, type KubernetesEmulator } from "../emulators/kubernetes/index.ts";
import { kubeConfigFor } from "../emulators/kubernetes/testing.ts";
import { createKmsClient } from "../../shared/kms/kms-client.ts";
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { baseContext, parseContextPairs } from "../../shared/unseal/encryption-context.ts";
import { createFileBlobStore } from "../../shared/unseal/file-blob-store.ts";
import { createSealedKeyStore } from "../../shared/unseal/sealed-key-store.ts";
import { createSecretBlobStore } from "../../shared/unseal/secret-blob-store.ts";
import { decodeShare } from "../../shared/unseal/key-material.ts";
import { isPermanent } from "../../shared/errors/errors.ts";

process.env.AWS_ACCESS_KEY_ID ??= "test";
process.env.AWS_SECRET_ACCESS_KEY ??= "test";

let kmsEmu: KmsEmulator;
let kubeEmu: KubernetesEmulator;
let keyId: string;
let kms: ReturnType<typeof createKmsClient>;

const shares = () => Array.from({ length: 5 }, () => randomBytes(33));

test.before(async () => {
  kmsEmu = await startKmsEmulator();
  kubeEmu = await startKubernetesEmulator();
  await kubeEmu.control.put("namespaces", { metadata: { name: "vault" } });
  keyId = (await kmsEmu.createKey({ alias: "alias/ks" })).keyId;
  kms = createKmsClient({ keyId, region: kmsEmu.region, endpoint: kmsEmu.url, maxAttempts: 1 });
});
test.after(async () => {
  kms.destroy();
  await kubeEmu.close();
  await kmsEmu.close();
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

test("Secret store: round trip; Secret holds ciphertexts only; wrong cluster context is refused by KMS", async () => {
  const kube = createKubeClient(kubeConfigFor(kubeEmu));
  const blobs = createSecretBlobStore(kube, "vault", "unseal-keys-a");
  const store = createSealedKeyStore(blobs, kms, baseContext("prod-eu1"));
  const plain = shares();
  const root = Buffer.from("hvs.rootTokenValue123", "utf8");
  assert.equal(await store.save({ shares: plain, rootToken: root }, { overwrite: false }), {
    shares: 5,
    rootToken: true,
  });

  const secret = kubeEmu.control.get("secrets", "vault", "unseal-keys-a");
  assert.ok(secret);
  assert.equal(Object.keys(secret.data as object).sort(), [
    "root-token",
    "unseal-0",
    "unseal-1",
    "unseal-2",
    "unseal-3",
    "unseal-4",
  ]);
  assert.is(
    secret.metadata.labels?.["leasekeeper.io/managed"],
    undefined,
    "must not look like a per-pod credential Secret",
  );
  const raw = JSON.stringify(secret);
  for (const p of [...plain, root]) {
    assert.not.ok(raw.includes(p.toString("base64")), "plaintext in the Secret");
    assert.not.ok(raw.includes(p.toString("hex")), "plaintext in the Secret");
  }

  const loaded = await store.load({ rootToken: true });
  assert.ok(loaded);
  assert.equal(
    loaded.shares.map((s) => s.toString("hex")),
    plain.map((s) => s.toString("hex")),
  );
  assert.is(loaded.rootToken?.toString("utf8"), root.toString("utf8"));
  loaded.wipe();
  assert.ok(
    loaded.shares.every((s) => s.every((b) => b === 0)),
    "wipe zeroes the buffers",
  );
  assert.ok(loaded.rootToken?.every((b) => b === 0));
  const withoutRoot = await store.load();
  assert.is(withoutRoot?.rootToken, undefined, "root token decrypted only when asked");
  withoutRoot?.wipe();

  const otherCluster = createSealedKeyStore(blobs, kms, baseContext("prod-us1"));
  const err = await rejection(otherCluster.load());
  assert.ok(isPermanent(err));
  assert.is((err as { reason?: string }).reason, "InvalidCiphertextException");

  const extraContext = createSealedKeyStore(blobs, kms, baseContext("prod-eu1", { team: "platform" }));
  assert.is(((await rejection(extraContext.load())) as { reason?: string }).reason, "InvalidCiphertextException");
});

test("Secret store: entries cannot be swapped (per-entry context)", async () => {
  const kube = createKubeClient(kubeConfigFor(kubeEmu));
  const store = createSealedKeyStore(createSecretBlobStore(kube, "vault", "unseal-keys-swap"), kms, baseContext("c1"));
  await store.save({ shares: shares() }, { overwrite: false });
  const secret = kubeEmu.control.get("secrets", "vault", "unseal-keys-swap");
  assert.ok(secret);
  const data = secret.data as Record<string, string>;
  [data["unseal-0"], data["unseal-1"]] = [data["unseal-1"] as string, data["unseal-0"] as string];
  kubeEmu.control.put("secrets", secret);
  assert.is(((await rejection(store.load())) as { reason?: string }).reason, "InvalidCiphertextException");
});

test("Secret store: create-only refuses an existing store; overwrite replaces it; probe leaves nothing behind", async () => {
  const kube = createKubeClient(kubeConfigFor(kubeEmu));
  const store = createSealedKeyStore(createSecretBlobStore(kube, "vault", "unseal-keys-b"), kms, baseContext("c1"));
  await store.save({ shares: shares() }, { overwrite: false });
  const err = await rejection(store.save({ shares: shares().slice(0, 3) }, { overwrite: false }));
  assert.is((err as { reason?: string }).reason, "KeyStoreExists");
  assert.is((await store.counts())?.shares, 5);
  await store.save({ shares: shares().slice(0, 3) }, { overwrite: true });
  assert.is((await store.counts())?.shares, 3);
  await store.probe();
  assert.is(kubeEmu.control.get("secrets", "vault", "unseal-keys-b-probe"), undefined);
});

test("file store: round trip, mode 0600, create-only, no plaintext on disk", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "lk-ks-")), "keys.json");
  const store = createSealedKeyStore(createFileBlobStore(path), kms, baseContext("c1"));
  assert.is(await store.counts(), undefined);
  const plain = shares();
  await store.save({ shares: plain }, { overwrite: false });
  assert.is(statSync(path).mode & 0o777, 0o600);
  const text = readFileSync(path, "utf8");
  for (const p of plain) assert.not.ok(text.includes(p.toString("base64")) || text.includes(p.toString("hex")));
  assert.is(
    ((await rejection(store.save({ shares: plain }, { overwrite: false }))) as { reason?: string }).reason,
    "KeyStoreExists",
  );
  const loaded = await store.load();
  assert.equal(
    loaded?.shares.map((s) => s.toString("hex")),
    plain.map((s) => s.toString("hex")),
  );
  loaded?.wipe();
  await store.probe();
});

test("share decoding follows Vault (hex 16–33 bytes, else base64) and never echoes input", () => {
  const share = randomBytes(33);
  assert.equal(decodeShare(share.toString("hex"), 0), share);
  assert.equal(decodeShare(share.toString("base64"), 0), share);
  try {
    decodeShare("not-a-share-SECRETISH", 2);
    assert.unreachable();
  } catch (err) {
    assert.not.match((err as Error).message, /SECRETISH/);
    assert.match((err as Error).message, /share #3/);
  }
  assert.equal(parseContextPairs("team=platform, env=prod"), { team: "platform", env: "prod" });
  assert.throws(() => parseContextPairs("oops"));
});

test.run();
