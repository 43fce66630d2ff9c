import { test } from "uvu";
import * as assert from "uvu/assert";
import { PermanentError } from "../../shared/errors/errors.ts";
import { kvV2Hint, withKvV2Hint } from "../../shared/vault/kv-v2-hint.ts";

test("a KV v2 path without data/ on a usual KV mount gets the data/ path", () => {
  assert.match(kvV2Hint("secret/db-pass", "permission denied") ?? "", /read secret\/data\/db-pass/);
  assert.match(kvV2Hint("kv/team/app/config", "not found") ?? "", /read kv\/data\/team\/app\/config/);
  // Any mount, when Vault itself says the path is not valid for versioned K/V.
  assert.match(kvV2Hint("apps/db", "Invalid path for a versioned K/V secrets engine") ?? "", /read apps\/data\/db/);
});

test("no hint for paths that already name data/ (or another KV v2 sub-path), or for other engines", () => {
  for (const path of [
    "secret/data/db-pass",
    "secret/metadata/db-pass",
    "secret",
    "database/creds/postgres-role",
    "pki/issue/web",
    "aws/creds/deploy",
  ]) {
    assert.is(kvV2Hint(path, "permission denied"), undefined, path);
  }
});

test("withKvV2Hint keeps the reason (IssueFailed stays a permanent VaultPermissionDenied) and leaves other errors alone", async () => {
  const denied = new PermanentError(
    "vault: read secret/db-pass: permission denied (permission denied)",
    "VaultPermissionDenied",
  );
  const err = await withKvV2Hint("secret/db-pass", Promise.reject(denied)).catch((e: unknown) => e as PermanentError);
  assert.is(err.reason, "VaultPermissionDenied");
  assert.is(
    err.message,
    "vault: read secret/db-pass: permission denied (permission denied); if secret/ is a KV v2 mount, read secret/data/db-pass (KV v2 keeps a secret's data under <mount>/data/)",
  );
  const sealed = new Error("sealed");
  assert.is(await withKvV2Hint("secret/db-pass", Promise.reject(sealed)).catch((e: unknown) => e), sealed);
  assert.is(await withKvV2Hint("secret/data/db-pass", Promise.resolve(7)), 7);
});

test.run();
