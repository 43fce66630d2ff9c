/**
 * Contract tests: the real @aws-sdk/client-kms against the KMS emulator — every
 * operation and the error cases a product client will meet.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  DisabledException,
  KMSClient,
  KMSInvalidStateException,
  ListAliasesCommand,
  ListKeysCommand,
  NotFoundException,
  AlreadyExistsException,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { startKmsEmulator, type KmsEmulator } from "../emulators/kms/index.ts";

type SdkError = Error & {
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number; requestId?: string };
};

let kms: KmsEmulator;
let client: KMSClient;

async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  let outcome: unknown;
  try {
    await promise;
  } catch (err) {
    outcome = err;
  }
  if (!(outcome instanceof Error)) throw new Error("expected the call to be rejected, but it succeeded");
  return outcome as SdkError;
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString("utf8");

async function encrypt(keyId: string, plaintext: string, context?: Record<string, string>) {
  const out = await client.send(
    new EncryptCommand({ KeyId: keyId, Plaintext: utf8(plaintext), EncryptionContext: context }),
  );
  if (out.CiphertextBlob === undefined) throw new Error("Encrypt returned no CiphertextBlob");
  return { blob: out.CiphertextBlob, keyId: out.KeyId };
}

test.before(async () => {
  kms = await startKmsEmulator();
  client = new KMSClient({
    endpoint: kms.url,
    region: kms.region,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
});

test.after(async () => {
  client.destroy();
  await kms.close();
});

test("CreateKey and DescribeKey return symmetric key metadata with ARNs in the configured account", async () => {
  const created = await client.send(
    new CreateKeyCommand({ Description: "unseal", Tags: [{ TagKey: "a", TagValue: "b" }] }),
  );
  const id = created.KeyMetadata?.KeyId ?? "";
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const { KeyMetadata: meta } = await client.send(new DescribeKeyCommand({ KeyId: id }));
  assert.is(meta?.Arn, `arn:aws:kms:us-east-1:111122223333:key/${id}`);
  assert.is(meta?.AWSAccountId, "111122223333");
  assert.is(meta?.KeyState, "Enabled");
  assert.is(meta?.Enabled, true);
  assert.is(meta?.Description, "unseal");
  assert.is(meta?.KeySpec, "SYMMETRIC_DEFAULT");
  assert.is(meta?.KeyUsage, "ENCRYPT_DECRYPT");
  assert.ok(meta?.CreationDate instanceof Date);
  assert.ok(Math.abs((meta?.CreationDate?.getTime() ?? 0) - Date.now()) < 60_000, "CreationDate is epoch seconds, now");
});

test("Encrypt/Decrypt round-trips without context; Decrypt needs no KeyId and reports the key ARN", async () => {
  const key = await kms.createKey();
  const { blob, keyId } = await encrypt(key.keyId, "unseal-share-1");
  assert.is(keyId, key.arn);
  assert.not.ok(text(blob).includes("unseal-share-1"), "ciphertext must not contain the plaintext");
  const out = await client.send(new DecryptCommand({ CiphertextBlob: blob }));
  assert.is(text(out.Plaintext), "unseal-share-1");
  assert.is(out.KeyId, key.arn);
  assert.is(out.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
  const again = await encrypt(key.keyId, "unseal-share-1");
  assert.not.equal(Buffer.from(again.blob), Buffer.from(blob), "random nonce: two encryptions differ");
});

test("EncryptionContext must match exactly; wrong, missing, or ambiguous context is InvalidCiphertextException", async () => {
  const key = await kms.createKey();
  const { blob } = await encrypt(key.keyId, "secret", { cluster: "prod", purpose: "unseal" });
  const ok = await client.send(
    new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { purpose: "unseal", cluster: "prod" } }),
  );
  assert.is(text(ok.Plaintext), "secret", "key order does not matter");
  const wrongContexts: Array<Record<string, string> | undefined> = [
    { cluster: "dev", purpose: "unseal" },
    { cluster: "prod" },
    undefined,
    { Cluster: "prod", purpose: "unseal" },
  ];
  for (const context of wrongContexts) {
    const err = await rejection(client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context })));
    assert.instance(err, InvalidCiphertextException, JSON.stringify(context));
    assert.is(err.$metadata?.httpStatusCode, 400);
  }
  const ambiguous = await encrypt(key.keyId, "x", { ab: "c" });
  const err = await rejection(
    client.send(new DecryptCommand({ CiphertextBlob: ambiguous.blob, EncryptionContext: { a: "bc" } })),
  );
  assert.instance(err, InvalidCiphertextException, "concatenation-ambiguous contexts must not match");
  const empty = await encrypt(key.keyId, "x", {});
  assert.is(
    text((await client.send(new DecryptCommand({ CiphertextBlob: empty.blob }))).Plaintext),
    "x",
    "{} equals absent",
  );
});

test("a tampered or foreign blob is InvalidCiphertextException", async () => {
  const key = await kms.createKey();
  const { blob } = await encrypt(key.keyId, "tamper me please");
  const positions = [0, 1, 10, blob.length - 30, blob.length - 20, blob.length - 1];
  for (const position of positions) {
    const bad = Uint8Array.from(blob);
    bad[position] = (bad[position] ?? 0) ^ 0x01;
    const err = await rejection(client.send(new DecryptCommand({ CiphertextBlob: bad })));
    assert.is(err.name, "InvalidCiphertextException", `flipped byte ${position}`);
  }
  const truncated = await rejection(
    client.send(new DecryptCommand({ CiphertextBlob: blob.subarray(0, blob.length - 1) })),
  );
  assert.instance(truncated, InvalidCiphertextException);
  const garbage = await rejection(
    client.send(new DecryptCommand({ CiphertextBlob: utf8("not a kms blob at all, sorry") })),
  );
  assert.instance(garbage, InvalidCiphertextException);
});

test("KeyId forms: key id, key ARN, alias name and alias ARN all resolve to the same key", async () => {
  const key = await kms.createKey({ alias: "alias/forms" });
  const forms = [key.keyId, key.arn, "alias/forms", "arn:aws:kms:us-east-1:111122223333:alias/forms"];
  for (const form of forms) {
    const { blob, keyId } = await encrypt(form, `via ${form}`);
    assert.is(keyId, key.arn, `Encrypt via ${form} reports the key ARN`);
    const out = await client.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: form }));
    assert.is(text(out.Plaintext), `via ${form}`);
    const described = await client.send(new DescribeKeyCommand({ KeyId: form }));
    assert.is(described.KeyMetadata?.KeyId, key.keyId);
  }
});

test("unknown or malformed KeyIds are NotFoundException with KMS's messages", async () => {
  const missing = "0b0b0b0b-1111-2222-3333-444444444444";
  const cases: Array<[string, string]> = [
    [missing, `Key 'arn:aws:kms:us-east-1:111122223333:key/${missing}' does not exist`],
    ["not-a-key", "Invalid keyId 'not-a-key'"],
    ["alias/nope", "Alias arn:aws:kms:us-east-1:111122223333:alias/nope is not found."],
    [`arn:aws:kms:eu-west-1:111122223333:key/${missing}`, "Invalid arn eu-west-1"],
  ];
  for (const [keyId, message] of cases) {
    const err = await rejection(client.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8("x") })));
    assert.instance(err, NotFoundException, keyId);
    assert.is(err.message, message);
  }
});

test("Decrypt with a KeyId naming another key is IncorrectKeyException", async () => {
  const a = await kms.createKey();
  const b = await kms.createKey({ alias: "alias/other" });
  const { blob } = await encrypt(a.keyId, "x");
  for (const wrong of [b.keyId, "alias/other"]) {
    const err = await rejection(client.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: wrong })));
    assert.instance(err, IncorrectKeyException);
    assert.is(err.message, "The key ID in the request does not identify a CMK that can perform this operation.");
  }
});

test("DisableKey makes Encrypt/Decrypt/GenerateDataKey fail with DisabledException; EnableKey restores", async () => {
  const key = await kms.createKey();
  const { blob } = await encrypt(key.keyId, "x");
  await client.send(new DisableKeyCommand({ KeyId: key.keyId }));
  assert.is((await client.send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata?.KeyState, "Disabled");
  const calls = [
    client.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: utf8("x") })),
    client.send(new DecryptCommand({ CiphertextBlob: blob })),
    client.send(new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: "AES_256" })),
  ];
  for (const call of calls) {
    const err = await rejection(call);
    assert.instance(err, DisabledException);
    assert.is(err.message, `${key.arn} is disabled.`);
    assert.is(err.$metadata?.httpStatusCode, 400);
  }
  await client.send(new EnableKeyCommand({ KeyId: key.arn }));
  assert.is(text((await client.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext), "x");
});

test("ScheduleKeyDeletion puts a key in PendingDeletion (KMSInvalidStateException); CancelKeyDeletion leaves it Disabled", async () => {
  const key = await kms.createKey();
  const scheduled = await client.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }));
  assert.is(scheduled.KeyState, "PendingDeletion");
  assert.is(scheduled.PendingWindowInDays, 7);
  assert.ok((scheduled.DeletionDate?.getTime() ?? 0) > Date.now() + 6 * 86_400_000);
  const meta = (await client.send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata;
  assert.is(meta?.KeyState, "PendingDeletion");
  assert.is(meta?.Enabled, false);
  const err = await rejection(client.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: utf8("x") })));
  assert.instance(err, KMSInvalidStateException);
  assert.is(err.message, `${key.arn} is pending deletion.`);
  const tooShort = await rejection(
    client.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 3 })),
  );
  assert.is(tooShort.name, "ValidationException");
  await client.send(new CancelKeyDeletionCommand({ KeyId: key.keyId }));
  assert.is((await client.send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata?.KeyState, "Disabled");
});

test("a blob whose key no longer exists is AccessDeniedException (unmodeled: check err.name)", async () => {
  const key = await kms.createKey();
  const { blob } = await encrypt(key.keyId, "x");
  kms.control.deleteKey(key.keyId);
  const err = await rejection(client.send(new DecryptCommand({ CiphertextBlob: blob })));
  assert.is(err.name, "AccessDeniedException");
  assert.is(err.$fault, "client");
  assert.match(err.message, /^The ciphertext refers to a customer master key that does not exist/);
});

test("Plaintext limits: 4096 bytes encrypt, 4097 and 0 are ValidationException", async () => {
  const key = await kms.createKey();
  const max = new Uint8Array(4096).fill(7);
  const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: max }));
  assert.ok((CiphertextBlob?.length ?? 0) <= 6144, "a maximal blob fits Decrypt's 6144-byte limit");
  assert.equal((await client.send(new DecryptCommand({ CiphertextBlob }))).Plaintext, max);
  const big = await rejection(client.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: new Uint8Array(4097) })));
  assert.is(big.name, "ValidationException");
  assert.is(
    big.message,
    "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
  );
  const empty = await rejection(client.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: new Uint8Array(0) })));
  assert.is(empty.name, "ValidationException");
  assert.match(empty.message, /greater than or equal to 1/);
});

test("GenerateDataKey: KeySpec/NumberOfBytes sizes, limits, and blobs that Decrypt to the data key", async () => {
  const key = await kms.createKey({ alias: "alias/datakeys" });
  const sizes: Array<[{ KeySpec?: "AES_128" | "AES_256"; NumberOfBytes?: number }, number]> = [
    [{ KeySpec: "AES_256" }, 32],
    [{ KeySpec: "AES_128" }, 16],
    [{ NumberOfBytes: 1 }, 1],
    [{ NumberOfBytes: 1024 }, 1024],
  ];
  for (const [spec, length] of sizes) {
    const out = await client.send(
      new GenerateDataKeyCommand({ KeyId: "alias/datakeys", EncryptionContext: { k: "v" }, ...spec }),
    );
    assert.is(out.Plaintext?.length, length);
    assert.is(out.KeyId, key.arn);
    const back = await client.send(
      new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: { k: "v" } }),
    );
    assert.equal(back.Plaintext, out.Plaintext);
  }
  for (const bad of [
    { NumberOfBytes: 1025 },
    {},
    { KeySpec: "AES_256" as const, NumberOfBytes: 32 },
    { NumberOfBytes: 0 },
  ]) {
    const err = await rejection(client.send(new GenerateDataKeyCommand({ KeyId: key.keyId, ...bad })));
    assert.is(err.name, "ValidationException", JSON.stringify(bad));
  }
  const without = await client.send(
    new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.keyId, KeySpec: "AES_256" }),
  );
  assert.not.ok("Plaintext" in without, "the WithoutPlaintext variant returns no Plaintext");
  assert.is(without.KeyId, key.arn);
  assert.is((await client.send(new DecryptCommand({ CiphertextBlob: without.CiphertextBlob }))).Plaintext?.length, 32);
});

test("CreateAlias: duplicate, bad prefix, reserved prefix, alias target; ListAliases filters by key", async () => {
  const key = await kms.createKey();
  await client.send(new CreateAliasCommand({ AliasName: "alias/app-one", TargetKeyId: key.keyId }));
  await client.send(new CreateAliasCommand({ AliasName: "alias/app-two", TargetKeyId: key.arn }));
  const dup = await rejection(
    client.send(new CreateAliasCommand({ AliasName: "alias/app-one", TargetKeyId: key.keyId })),
  );
  assert.instance(dup, AlreadyExistsException);
  assert.is(dup.message, "An alias with the name arn:aws:kms:us-east-1:111122223333:alias/app-one already exists");
  const prefix = await rejection(client.send(new CreateAliasCommand({ AliasName: "app", TargetKeyId: key.keyId })));
  assert.is(prefix.name, "ValidationException");
  assert.match(prefix.message, /^Alias must start with the prefix "alias\/"/);
  const reserved = await rejection(
    client.send(new CreateAliasCommand({ AliasName: "alias/aws/s3", TargetKeyId: key.keyId })),
  );
  assert.is(reserved.name, "NotAuthorizedException");
  const toAlias = await rejection(
    client.send(new CreateAliasCommand({ AliasName: "alias/x", TargetKeyId: "alias/app-one" })),
  );
  assert.is(toAlias.name, "ValidationException");
  const chars = await rejection(
    client.send(new CreateAliasCommand({ AliasName: "alias/sp ace", TargetKeyId: key.keyId })),
  );
  assert.is(chars.name, "ValidationException");
  const listed = await client.send(new ListAliasesCommand({ KeyId: key.keyId }));
  assert.equal(listed.Aliases?.map((alias) => alias.AliasName).sort(), ["alias/app-one", "alias/app-two"]);
  assert.is(listed.Aliases?.[0]?.TargetKeyId, key.keyId);
  assert.is(listed.Aliases?.[0]?.AliasArn, `arn:aws:kms:us-east-1:111122223333:${listed.Aliases?.[0]?.AliasName}`);
  assert.is(listed.Truncated, false);
});

test("ListKeys pages with Limit and Marker; a bad marker is InvalidMarkerException", async () => {
  const all = await client.send(new ListKeysCommand({}));
  assert.ok((all.Keys?.length ?? 0) >= 3);
  const seen: string[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListKeysCommand({ Limit: 1, Marker: marker }));
    assert.is(page.Keys?.length, 1);
    seen.push(page.Keys?.[0]?.KeyId ?? "");
    assert.is(page.Keys?.[0]?.KeyArn, `arn:aws:kms:us-east-1:111122223333:key/${page.Keys?.[0]?.KeyId}`);
    marker = page.Truncated === true ? page.NextMarker : undefined;
  } while (marker !== undefined);
  assert.equal(
    seen,
    all.Keys?.map((key) => key.KeyId),
  );
  const bad = await rejection(client.send(new ListKeysCommand({ Marker: "bogus" })));
  assert.is(bad.name, "InvalidMarkerException");
  const limit = await rejection(client.send(new ListKeysCommand({ Limit: 1001 })));
  assert.is(limit.name, "ValidationException");
});

test("region and account are configurable and show in ARNs; a client signing for another region is refused", async () => {
  const other = await startKmsEmulator({ region: "eu-central-1", accountId: "999988887777" });
  const euClient = new KMSClient({
    endpoint: other.url,
    region: "eu-central-1",
    credentials: { accessKeyId: "k", secretAccessKey: "s" },
  });
  const usClient = new KMSClient({
    endpoint: other.url,
    region: "us-east-1",
    credentials: { accessKeyId: "k", secretAccessKey: "s" },
    maxAttempts: 1,
  });
  try {
    const meta = (await euClient.send(new CreateKeyCommand({}))).KeyMetadata;
    assert.is(meta?.Arn, `arn:aws:kms:eu-central-1:999988887777:key/${meta?.KeyId}`);
    const err = await rejection(usClient.send(new ListKeysCommand({})));
    assert.is(err.name, "InvalidSignatureException");
  } finally {
    euClient.destroy();
    usClient.destroy();
    await other.close();
  }
});

test("rotated key material: new blobs use it, old blobs still decrypt", async () => {
  const key = await kms.createKey();
  const before = await encrypt(key.keyId, "old");
  assert.is(kms.control.rotateKey(key.keyId), 1);
  const after = await encrypt(key.keyId, "new");
  assert.is(text((await client.send(new DecryptCommand({ CiphertextBlob: before.blob }))).Plaintext), "old");
  assert.is(text((await client.send(new DecryptCommand({ CiphertextBlob: after.blob }))).Plaintext), "new");
  assert.is(kms.control.keys().find((k) => k.keyId === key.keyId)?.materialVersions, 2);
});

test.run();
