import { test } from "uvu";
import * as assert from "uvu/assert";
import { MAX_SECRETS, parsePodContract } from "../../shared/pods/pod-contract.ts";

const pod = (annotations: Record<string, string> | undefined, name = "web-1") => ({ metadata: { name, annotations } });

test("a pod without the role annotation is not opted in", () => {
  assert.equal(parsePodContract(pod(undefined), "kubernetes"), { kind: "not-opted-in" });
  assert.equal(parsePodContract(pod({ "leasekeeper.io/secret-a": "x/y" }), "kubernetes"), { kind: "not-opted-in" });
});

test("role and secret annotations become a request with defaults", () => {
  const result = parsePodContract(
    pod({
      "leasekeeper.io/role": "postgres",
      "leasekeeper.io/secret-creds.json": "database/creds/postgres-role",
      "leasekeeper.io/secret-kv": "secret/data/db-pass",
    }),
    "kubernetes",
  );
  assert.is(result.kind, "request");
  if (result.kind !== "request") return;
  assert.is(result.request.role, "postgres");
  assert.is(result.request.authPath, "kubernetes");
  assert.is(result.request.secretName, "web-1-leasekeeper");
  assert.equal(result.request.secrets, [
    { file: "creds.json", path: "database/creds/postgres-role" },
    { file: "kv", path: "secret/data/db-pass" },
  ]);
});

test("auth-path and secret-name (carrying the pod's name) are honoured", () => {
  const result = parsePodContract(
    pod({
      "leasekeeper.io/role": "r",
      "leasekeeper.io/auth-path": "auth/k8s-east/",
      "leasekeeper.io/secret-name": "web-1-creds",
      "leasekeeper.io/secret-a": "db/creds/r",
    }),
    "kubernetes",
  );
  assert.is(result.kind, "request");
  if (result.kind === "request") {
    assert.is(result.request.authPath, "k8s-east");
    assert.is(result.request.secretName, "web-1-creds");
  }
});

function reasonOf(annotations: Record<string, string>): string {
  const result = parsePodContract(pod({ "leasekeeper.io/role": "r", ...annotations }), "kubernetes");
  assert.is(result.kind, "invalid", JSON.stringify(annotations).slice(0, 100));
  return result.kind === "invalid" ? result.reason : "";
}

test("bad input is refused with a reason that names the problem", () => {
  assert.match(reasonOf({ "leasekeeper.io/secret-a": "database/../sys/seal" }), /relative segment/);
  assert.match(reasonOf({ "leasekeeper.io/secret-a": "https://evil.example/v1/x" }), /is a URL/);
  assert.match(reasonOf({ "leasekeeper.io/secret-a": "/v1/database/creds/r" }), /absolute/);
  assert.match(reasonOf({ "leasekeeper.io/secret-a": "sys/leases/lookup" }), /not a secret path/);
  assert.match(reasonOf({ "leasekeeper.io/secret-a": "x".repeat(5000) }), /longer than 4096 bytes/);
  assert.match(reasonOf({ "leasekeeper.io/secret-a": "database/creds/\uFFFDr" }), /invalid UTF-8/);
  assert.match(reasonOf({ "leasekeeper.io/secret-../x": "database/creds/r" }), /not a valid file name/);
  assert.match(reasonOf({}), /no leasekeeper.io\/secret-<file> annotation/);
  assert.match(
    reasonOf({ "leasekeeper.io/secret-name": "Not_A_Name", "leasekeeper.io/secret-a": "db/creds/r" }),
    /not a valid Secret name/,
  );
  const many: Record<string, string> = {};
  for (let i = 0; i < 200; i++) many[`leasekeeper.io/secret-f${i}`] = "database/creds/r";
  assert.match(reasonOf(many), new RegExp(`200 secrets requested; at most ${MAX_SECRETS}`));
});

test("an invalid role is refused", () => {
  const result = parsePodContract(
    pod({ "leasekeeper.io/role": "bad role!", "leasekeeper.io/secret-a": "db/creds/r" }),
    "kubernetes",
  );
  assert.is(result.kind, "invalid");
});

test.run();
