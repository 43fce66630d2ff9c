/**
 * infra/aws: least privilege for KMS. The unseal role may only kms:Decrypt, the import role only
 * kms:Encrypt (plus the read-back Decrypt `keys import` does), on one key, and only with the
 * encryption context the code builds (shared/unseal/encryption-context.ts).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { baseContext, entryContext } from "../../shared/unseal/encryption-context.ts";
import { INFRA_DIR } from "../helpers/rbac.ts";

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string;
  Principal?: { AWS?: string };
  Condition?: Record<string, Record<string, string | string[]>>;
}
const load = (file: string) =>
  JSON.parse(readFileSync(join(INFRA_DIR, "aws", file), "utf8")) as { Statement: Statement[] };
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const context = entryContext(baseContext("my-cluster"), "unseal-0");

/** Would this statement's conditions let a call with the code's encryption context through? */
function contextAllowed(s: Statement, ctx: Readonly<Record<string, string>>): boolean {
  const eq = s.Condition?.StringEquals ?? {};
  const keys = s.Condition?.["ForAllValues:StringEquals"]?.["kms:EncryptionContextKeys"] as string[] | undefined;
  const pinned = Object.entries(eq).filter(([k]) => k.startsWith("kms:EncryptionContext:"));
  const like = Object.entries(s.Condition?.StringLike ?? {}).filter(([k]) => k.startsWith("kms:EncryptionContext:"));
  const glob = (pattern: string | string[]) =>
    new RegExp(
      `^${String(pattern)
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
  const likeOk = like.every(([k, v]) => glob(v).test(ctx[k.slice("kms:EncryptionContext:".length)] ?? ""));
  return (
    pinned.length >= 3 &&
    pinned.every(([k, v]) => ctx[k.slice("kms:EncryptionContext:".length)] === v) &&
    likeOk &&
    keys !== undefined &&
    Object.keys(ctx).every((k) => keys.includes(k))
  );
}

test("unseal role: kms:Decrypt only, one key ARN, this cluster's encryption context", () => {
  const { Statement } = load("unseal-role-policy.json");
  assert.equal(Statement.flatMap(actions), ["kms:Decrypt"]);
  for (const s of Statement) {
    assert.match(s.Resource, /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/);
    assert.ok(contextAllowed(s, context));
    assert.not.ok(contextAllowed(s, { ...context, cluster: "another-cluster" }), "another cluster's blobs are refused");
    assert.not.ok(contextAllowed(s, { ...context, smuggled: "x" }), "extra context keys are refused");
    // The root token auto-init may store is not the runtime role's to read (only shares are).
    assert.not.ok(
      contextAllowed(s, entryContext(baseContext("my-cluster"), "root-token")),
      "the root-token entry is refused",
    );
    assert.ok(contextAllowed(s, entryContext(baseContext("my-cluster"), "unseal-4")));
  }
});

test("import role: kms:Encrypt, and kms:Decrypt only for the read-back check, both bound to the context", () => {
  const { Statement } = load("import-role-policy.json");
  assert.equal(Statement.flatMap(actions).sort(), ["kms:Decrypt", "kms:Encrypt"]);
  for (const s of Statement) assert.ok(contextAllowed(s, context), s.Sid);
});

test("key policy: administrators cannot use the key; the two roles get exactly their actions under the context", () => {
  const { Statement } = load("kms-key-policy.json");
  const all = Statement.flatMap(actions);
  assert.not.ok(
    all.some((a) => a === "kms:*" || a.endsWith("*")),
    "no wildcard actions",
  );
  assert.not.ok(all.some((a) => /GenerateDataKey|ReEncrypt|CreateGrant/.test(a)));
  const admin = Statement.find((s) => s.Sid === "KeyAdministrationWithoutUse");
  assert.not.ok(actions(admin as Statement).some((a) => /Encrypt|Decrypt/.test(a)));
  const unseal = Statement.find((s) => s.Principal?.AWS?.endsWith(":role/leasekeeper-unseal")) as Statement;
  assert.equal(actions(unseal), ["kms:Decrypt"]);
  assert.ok(contextAllowed(unseal, context));
  const importer = Statement.find((s) => s.Principal?.AWS?.endsWith(":role/leasekeeper-keys-import")) as Statement;
  assert.equal(actions(importer).sort(), ["kms:Decrypt", "kms:Encrypt"]);
  assert.ok(contextAllowed(importer, context));
});

test("the unseal role can be assumed only by leasekeeper's service account", () => {
  const trust = load("unseal-role-trust-policy.json").Statement[0] as Statement;
  const subs = Object.entries(trust.Condition?.StringEquals ?? {})
    .filter(([k]) => k.endsWith(":sub"))
    .map(([, v]) => v);
  assert.equal(subs, ["system:serviceaccount:leasekeeper:leasekeeper"]);
});

test.run();
