/**
 * Wire-level contract tests for the KMS emulator with raw fetch: garbage input gets the
 * right JSON error bodies and headers, and the emulator never crashes or hangs.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { canonicalEncryptionContext } from "../emulators/kms/encryption-context.ts";
import { startKmsEmulator, type KmsEmulator } from "../emulators/kms/index.ts";

let kms: KmsEmulator;

function amzDate(now = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

/** A well-formed (unverified) SigV4 header set, overridable per test. */
function headers(target: string | undefined, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const date = amzDate();
  const base: Record<string, string | undefined> = {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": target,
    "x-amz-date": date,
    authorization: `AWS4-HMAC-SHA256 Credential=test/${date.slice(0, 8)}/us-east-1/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${"ab".repeat(32)}`,
    ...extra,
  };
  return Object.fromEntries(Object.entries(base).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

async function call(
  target: string | undefined,
  body: string,
  extra: Record<string, string | undefined> = {},
  init: { method?: string; path?: string } = {},
): Promise<{ status: number; json: Record<string, unknown>; response: Response }> {
  const response = await fetch(`${kms.url}${init.path ?? "/"}`, {
    method: init.method ?? "POST",
    headers: headers(target, extra),
    ...(init.method === "GET" ? {} : { body }),
    signal: AbortSignal.timeout(5_000),
  });
  const raw = await response.text();
  return { status: response.status, json: raw === "" ? {} : (JSON.parse(raw) as Record<string, unknown>), response };
}

test.before(async () => {
  kms = await startKmsEmulator();
});

test.after(async () => {
  await kms.close();
});

test("success: 200, awsJson content type, x-amzn-RequestId, an accurate Date, epoch-second timestamps", async () => {
  const { status, json, response } = await call("TrentService.CreateKey", "{}");
  assert.is(status, 200);
  assert.is(response.headers.get("content-type"), "application/x-amz-json-1.1");
  assert.match(response.headers.get("x-amzn-requestid") ?? "", /^[0-9a-f-]{36}$/);
  const date = Date.parse(response.headers.get("date") ?? "");
  assert.ok(Math.abs(date - Date.now()) < 5_000, "Date header is now");
  const meta = json["KeyMetadata"] as Record<string, unknown>;
  assert.type(meta["CreationDate"], "number");
  assert.ok(Math.abs((meta["CreationDate"] as number) * 1000 - Date.now()) < 60_000);
  assert.not.ok("DeletionDate" in meta, "absent members are omitted, not null");
});

test("CreateAlias answers 200 with an empty JSON object; unknown members such as GrantTokens are ignored", async () => {
  const key = await kms.createKey();
  const created = await call(
    "TrentService.CreateAlias",
    JSON.stringify({ AliasName: "alias/wire", TargetKeyId: key.keyId }),
  );
  assert.is(created.status, 200);
  assert.equal(created.json, {});
  const described = await call(
    "TrentService.DescribeKey",
    JSON.stringify({ KeyId: "alias/wire", GrantTokens: [], DryRunX: 1 }),
  );
  assert.is(described.status, 200);
});

test("malformed JSON and non-object bodies are SerializationException 400 with JSON bodies", async () => {
  for (const body of ["{not json", "[]", '"text"', "null"]) {
    const { status, json, response } = await call("TrentService.ListKeys", body);
    assert.is(status, 400, body);
    assert.is(json["__type"], "SerializationException", body);
    assert.type(json["message"], "string");
    assert.is(response.headers.get("content-type"), "application/x-amz-json-1.1");
    assert.ok(response.headers.get("x-amzn-requestid"));
  }
});

test("wrong member types and undecodable base64 are SerializationException", async () => {
  const key = await kms.createKey();
  const cases = [
    { KeyId: 5, Plaintext: "aGk=" },
    { KeyId: key.keyId, Plaintext: "not base64!" },
    { KeyId: key.keyId, Plaintext: "aGk=", EncryptionContext: { a: 1 } },
    { KeyId: key.keyId, Plaintext: "aGk=", EncryptionContext: ["a"] },
  ];
  for (const body of cases) {
    const { status, json } = await call("TrentService.Encrypt", JSON.stringify(body));
    assert.is(status, 400, JSON.stringify(body));
    assert.is(json["__type"], "SerializationException", JSON.stringify(body));
  }
});

test("missing required members are one Coral-style ValidationException listing each", async () => {
  const one = await call("TrentService.DescribeKey", "{}");
  assert.equal(one.json, {
    __type: "ValidationException",
    message: "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
  });
  const two = await call("TrentService.Encrypt", "{}");
  assert.is(two.status, 400);
  assert.is(
    two.json["message"],
    "2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value null at 'plaintext' failed to satisfy constraint: Member must not be null",
  );
});

test("unknown or missing X-Amz-Target is UnknownOperationException 400", async () => {
  for (const target of ["TrentService.Frobnicate", "DynamoDB_20120810.ListTables", "TrentService.", undefined]) {
    const { status, json } = await call(target, "{}");
    assert.is(status, 400, String(target));
    assert.is(json["__type"], "UnknownOperationException", String(target));
  }
});

test("missing or malformed SigV4 Authorization is refused; signatures themselves are not verified", async () => {
  const missing = await call("TrentService.ListKeys", "{}", { authorization: undefined });
  assert.equal([missing.status, missing.json["__type"]], [400, "MissingAuthenticationTokenException"]);
  const malformed = [
    "Bearer abc",
    "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + "a".repeat(64),
    "AWS4-HMAC-SHA256 Credential=test/2026/us-east-1/kms, SignedHeaders=host, Signature=" + "a".repeat(64),
    `AWS4-HMAC-SHA256 Credential=test/${amzDate().slice(0, 8)}/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=xyz`,
  ];
  for (const authorization of malformed) {
    const { status, json } = await call("TrentService.ListKeys", "{}", { authorization });
    assert.equal([status, json["__type"]], [400, "IncompleteSignatureException"], authorization);
  }
  const wrongService = `AWS4-HMAC-SHA256 Credential=test/${amzDate().slice(0, 8)}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${"a".repeat(64)}`;
  const service = await call("TrentService.ListKeys", "{}", { authorization: wrongService });
  assert.equal([service.status, service.json["__type"]], [400, "InvalidSignatureException"]);
});

test("wrong path, method or content type get JSON errors (404 / 405 / 415)", async () => {
  const path = await call("TrentService.ListKeys", "{}", {}, { path: "/keys" });
  assert.equal([path.status, path.json["__type"]], [404, "UnknownOperationException"]);
  const method = await call("TrentService.ListKeys", "", {}, { method: "GET" });
  assert.equal([method.status, method.json["__type"]], [405, "UnknownOperationException"]);
  const type = await call("TrentService.ListKeys", "{}", { "content-type": "text/plain" });
  assert.equal([type.status, type.json["__type"]], [415, "UnsupportedMediaTypeException"]);
});

test("InvalidCiphertextException has an empty message on the wire", async () => {
  const { status, json } = await call(
    "TrentService.Decrypt",
    JSON.stringify({ CiphertextBlob: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
  );
  assert.is(status, 400);
  assert.equal(json, { __type: "InvalidCiphertextException", message: "" });
});

test("an injected plain 503 has an empty body; a 500 carries KMSInternalException", async () => {
  kms.control.failNext(1, { status: 503 });
  const plain = await call("TrentService.ListKeys", "{}");
  assert.equal([plain.status, plain.json], [503, {}]);
  kms.control.failNext(1);
  const internal = await call("TrentService.ListKeys", "{}");
  assert.equal([internal.status, internal.json["__type"]], [500, "KMSInternalException"]);
});

test("the emulator survives all of the above and a huge body", async () => {
  const huge = await call("TrentService.Encrypt", JSON.stringify({ KeyId: "x", Plaintext: "A".repeat(2_000_000) }));
  assert.equal([huge.status, huge.json["__type"]], [413, "RequestEntityTooLargeException"]);
  const big = await call("TrentService.Encrypt", JSON.stringify({ KeyId: "x", Plaintext: "A".repeat(8_000) }));
  assert.equal([big.status, big.json["__type"]], [400, "ValidationException"]);
  const { status } = await call("TrentService.ListKeys", "{}");
  assert.is(status, 200);
});

test("canonical encryption context is order-independent and unambiguous", () => {
  assert.equal(canonicalEncryptionContext({ a: "1", b: "2" }), canonicalEncryptionContext({ b: "2", a: "1" }));
  assert.not.equal(canonicalEncryptionContext({ ab: "c" }), canonicalEncryptionContext({ a: "bc" }));
  assert.not.equal(canonicalEncryptionContext({ a: "" }), canonicalEncryptionContext({}));
  assert.equal(canonicalEncryptionContext(undefined), canonicalEncryptionContext({}));
});

test.run();
