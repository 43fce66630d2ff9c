import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { SealBox } from "../../shared/index/seal-box.ts";

test("round-trips and never contains the plaintext", () => {
  const box = new SealBox(randomBytes(32));
  const sealed = box.seal("hvs.pod-token-value", "uid-1");
  assert.not.ok(sealed.includes("hvs.pod-token-value"));
  assert.not.ok(Buffer.from(sealed, "base64").toString("latin1").includes("pod-token"));
  assert.is(box.open(sealed, "uid-1"), "hvs.pod-token-value");
});

test("a blob moved to another record, a wrong key or a flipped bit does not open", () => {
  const box = new SealBox(randomBytes(32));
  const sealed = box.seal("secret", "uid-1");
  assert.throws(() => box.open(sealed, "uid-2"), /does not authenticate/);
  assert.throws(() => new SealBox(randomBytes(32)).open(sealed, "uid-1"), /does not authenticate/);
  const raw = Buffer.from(sealed, "base64");
  raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
  assert.throws(() => box.open(raw.toString("base64"), "uid-1"), /does not authenticate/);
  assert.throws(() => box.open("AAAA", "uid-1"), /too short/);
});

test("a tag verifies only for its id, context and key", () => {
  const box = new SealBox(randomBytes(32));
  const tag = box.tag("database/creds/app/abc", "lease:ns/uid-1");
  assert.ok(box.verifyTag(tag, "database/creds/app/abc", "lease:ns/uid-1"));
  assert.not.ok(box.verifyTag(tag, "database/creds/app/abd", "lease:ns/uid-1"), "another id");
  assert.not.ok(box.verifyTag(tag, "database/creds/app/abc", "lease:other/uid-1"), "another namespace");
  assert.not.ok(box.verifyTag(tag, "database/creds/app/abc", "lease:ns/uid-2"), "another pod");
  assert.not.ok(new SealBox(randomBytes(32)).verifyTag(tag, "database/creds/app/abc", "lease:ns/uid-1"), "another key");
  for (const bad of [undefined, "", "AAAA", 42])
    assert.not.ok(box.verifyTag(bad, "database/creds/app/abc", "lease:ns/uid-1"));
});

test.run();
