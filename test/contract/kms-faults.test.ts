/**
 * Contract tests for the KMS emulator's test controls, seen through the real
 * @aws-sdk/client-kms and its retry middleware: throttling, 5xx, dropped connections,
 * outages, access denial, access-key allow-list, call counts.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DecryptCommand, EncryptCommand, KMSClient, KMSInternalException, ListKeysCommand } from "@aws-sdk/client-kms";
import { startKmsEmulator, type KmsEmulator } from "../emulators/kms/index.ts";

type SdkError = Error & {
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number; requestId?: string };
};

let kms: KmsEmulator;

function clientFor(options: { maxAttempts?: number; accessKeyId?: string } = {}): KMSClient {
  return new KMSClient({
    endpoint: kms.url,
    region: kms.region,
    credentials: { accessKeyId: options.accessKeyId ?? "test", secretAccessKey: "test" },
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  });
}

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

async function withClient<T>(client: KMSClient, body: (client: KMSClient) => Promise<T>): Promise<T> {
  try {
    return await body(client);
  } finally {
    client.destroy();
  }
}

test.before(async () => {
  kms = await startKmsEmulator();
});

test.before.each(() => {
  kms.control.reset();
  kms.control.resetCounts();
});

test.after(async () => {
  await kms.close();
});

test("a throttle surfaces as ThrottlingException (400) with maxAttempts 1", async () => {
  await withClient(clientFor({ maxAttempts: 1 }), async (client) => {
    kms.control.throttleNext(1);
    const err = await rejection(client.send(new ListKeysCommand({})));
    assert.is(err.name, "ThrottlingException");
    assert.is(err.message, "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.");
    assert.is(err.$metadata?.httpStatusCode, 400);
    assert.is(err.$metadata?.attempts, 1);
    assert.is(kms.control.calls("ListKeys"), 1);
    await client.send(new ListKeysCommand({}));
  });
});

test("with default retries the SDK gets through one throttle (2 attempts seen by the emulator)", async () => {
  await withClient(clientFor(), async (client) => {
    kms.control.throttleNext(1);
    const out = await client.send(new ListKeysCommand({}));
    assert.is(out.$metadata.attempts, 2);
    assert.is(kms.control.calls("ListKeys"), 2);
  });
});

test("throttles aimed at one operation leave the others alone", async () => {
  const key = await kms.createKey();
  await withClient(clientFor({ maxAttempts: 1 }), async (client) => {
    kms.control.throttleNext(1, { operation: "Decrypt" });
    await client.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: new Uint8Array([1]) }));
    const err = await rejection(client.send(new DecryptCommand({ CiphertextBlob: new Uint8Array([1, 2, 3]) })));
    assert.is(err.name, "ThrottlingException");
    assert.equal(kms.control.callCounts(), { Encrypt: 1, Decrypt: 1 });
  });
});

test("KMSInternalException 500 is a modeled server fault and is retried", async () => {
  await withClient(clientFor({ maxAttempts: 1 }), async (client) => {
    kms.control.failNext(1);
    const err = await rejection(client.send(new ListKeysCommand({})));
    assert.instance(err, KMSInternalException);
    assert.is(err.$fault, "server");
    assert.is(err.$metadata?.httpStatusCode, 500);
  });
  await withClient(clientFor(), async (client) => {
    kms.control.failNext(2);
    const out = await client.send(new ListKeysCommand({}));
    assert.is(out.$metadata.attempts, 3);
  });
});

test("three plain 503s exhaust the default 3 attempts", async () => {
  await withClient(clientFor(), async (client) => {
    kms.control.failNext(3, { status: 503 });
    const err = await rejection(client.send(new ListKeysCommand({})));
    assert.is(err.$metadata?.httpStatusCode, 503);
    assert.is(err.$metadata?.attempts, 3);
    assert.is(kms.control.calls("ListKeys"), 3);
  });
});

test("a dropped connection is retried by the SDK and fails a single-attempt client", async () => {
  await withClient(clientFor(), async (client) => {
    kms.control.dropNext(1);
    const out = await client.send(new ListKeysCommand({}));
    assert.is(out.$metadata.attempts, 2);
  });
  await withClient(clientFor({ maxAttempts: 1 }), async (client) => {
    kms.control.dropNext(1);
    const err = await rejection(client.send(new ListKeysCommand({})));
    assert.match(`${err.code ?? ""} ${err.message}`, /ECONNRESET|socket hang up/);
  });
});

test("goOffline refuses connections; goOnline serves again on the same URL with keys intact", async () => {
  const key = await kms.createKey();
  await withClient(clientFor({ maxAttempts: 1 }), async (client) => {
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: key.keyId, Plaintext: new Uint8Array([9]) }),
    );
    await kms.control.goOffline();
    const err = await rejection(client.send(new DecryptCommand({ CiphertextBlob })));
    assert.match(`${err.code ?? ""} ${err.name} ${err.message}`, /ECONNREFUSED|ECONNRESET/);
    await kms.control.goOnline();
    const out = await client.send(new DecryptCommand({ CiphertextBlob }));
    assert.equal(out.Plaintext, new Uint8Array([9]));
  });
});

test("delayNext holds a response back", async () => {
  await withClient(clientFor(), async (client) => {
    kms.control.delayNext(1, 150);
    const started = Date.now();
    await client.send(new ListKeysCommand({}));
    assert.ok(Date.now() - started >= 140);
  });
});

test("denyOperation answers AccessDeniedException for that operation only", async () => {
  const key = await kms.createKey();
  await withClient(clientFor({ maxAttempts: 1 }), async (client) => {
    kms.control.denyOperation("Encrypt");
    const err = await rejection(client.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: new Uint8Array([1]) })));
    assert.is(err.name, "AccessDeniedException");
    assert.is(err.$metadata?.httpStatusCode, 400);
    assert.match(err.message, /is not authorized to perform: kms:Encrypt/);
    await client.send(new ListKeysCommand({}));
    kms.control.allowOperation("Encrypt");
    await client.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: new Uint8Array([1]) }));
  });
});

test("an access-key allow-list refuses other keys with UnrecognizedClientException", async () => {
  kms.control.allowAccessKeys(["AKIDALLOWED"]);
  await withClient(clientFor({ maxAttempts: 1, accessKeyId: "AKIDOTHER" }), async (client) => {
    const err = await rejection(client.send(new ListKeysCommand({})));
    assert.is(err.name, "UnrecognizedClientException");
    assert.is(err.message, "The security token included in the request is invalid.");
  });
  await withClient(clientFor({ accessKeyId: "AKIDALLOWED" }), (client) => client.send(new ListKeysCommand({})));
});

test("control.keys lists keys with state and aliases; setKeyState drives the wire state", async () => {
  const key = await kms.createKey({ alias: "alias/listed", description: "for listing" });
  kms.control.setKeyState(key.keyId, "Disabled");
  const summary = kms.control.keys().find((k) => k.keyId === key.keyId);
  assert.equal(summary, {
    keyId: key.keyId,
    arn: key.arn,
    state: "Disabled",
    description: "for listing",
    aliases: ["alias/listed"],
    materialVersions: 1,
  });
  await withClient(clientFor({ maxAttempts: 1 }), async (client) => {
    const err = await rejection(
      client.send(new EncryptCommand({ KeyId: "alias/listed", Plaintext: new Uint8Array([1]) })),
    );
    assert.is(err.name, "DisabledException");
  });
});

test("every response carries a request id the SDK exposes", async () => {
  await withClient(clientFor(), async (client) => {
    const out = await client.send(new ListKeysCommand({}));
    assert.match(out.$metadata.requestId ?? "", /^[0-9a-f-]{36}$/);
  });
});

test.run();
