/**
 * infra/vault/setup.sh against the Vault emulator (curl only): Kubernetes auth, the policies
 * from infra/vault, the example role and database engine, and leasekeeper's static token; then
 * leasekeeper runs with that token (the alternative to its role, docs/install.md) and infra/base's
 * RBAC through a pod's whole lifecycle, renewing the token with nothing but the shipped policy.
 * (Every end-to-end stack is configured by this script too: test/helpers/stack.ts seedExample.)
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import vault from "node-vault";
import { ensureServiceAccount, startStack, type Stack } from "../helpers/stack.ts";
import { INFRA_DIR } from "../helpers/rbac.ts";
import { runVaultSetup } from "../helpers/vault-setup.ts";
import { canLogin, opted, roleExists, startLeasekeeper, waitFor } from "../e2e/harness.ts";

let stack: Stack;
let env: Record<string, string>;

const run = (extra: Record<string, string> = {}) => runVaultSetup({ ...env, ...extra });
/** leasekeeper with a static token file instead of its role (the alternative docs/install.md describes). */
const staticToken = (file: string) => ({ LEASEKEEPER_VAULT_ROLE: "", LEASEKEEPER_VAULT_TOKEN_FILE: file });

test.before(async () => {
  stack = await startStack({ podGraceSeconds: 0 });
  await ensureServiceAccount(stack.core, "kube-system", "vault-auth");
  await ensureServiceAccount(stack.core, "default", "postgres-vault");
  const reviewer = join(stack.dir, "reviewer.jwt");
  writeFileSync(
    reviewer,
    stack.kube.control.issueToken({
      namespace: "kube-system",
      serviceAccount: "vault-auth",
      expirationSeconds: 24 * 3600,
    }),
  );
  const pg = stack.postgres;
  if (!pg) throw new Error("postgres expected");
  const dbPassword = join(stack.dir, "db-password");
  writeFileSync(dbPassword, `${pg.password}\n`);
  env = {
    VAULT_ADDR: stack.vault.url,
    VAULT_TOKEN: stack.vault.rootToken,
    K8S_HOST: stack.kube.url,
    TOKEN_REVIEWER_JWT_FILE: reviewer,
    DB_CONNECTION_URL: `postgresql://{{username}}:{{password}}@${pg.host}:${pg.port}/${pg.database}?sslmode=disable`,
    DB_USERNAME: pg.user,
    DB_PASSWORD_FILE: dbPassword,
    CONTROLLER_TOKEN_FILE: join(stack.dir, "controller-token"),
  };
});

test.after(async () => {
  await stack.close();
});

test("refuses to run without VAULT_TOKEN, naming it", async () => {
  const { code, text } = await run({ VAULT_TOKEN: "" });
  assert.is.not(code, 0);
  assert.match(text, /VAULT_TOKEN/);
});

test("applies everything with curl, twice (idempotent), printing no secret", async () => {
  for (const attempt of [1, 2]) {
    const { code, text } = await run();
    assert.is(code, 0, `run ${attempt}: ${text}`);
    assert.match(text, /setup: done/);
    const token = readFileSync(env.CONTROLLER_TOKEN_FILE as string, "utf8");
    for (const secret of [stack.vault.rootToken, token, stack.postgres?.password ?? "x"])
      assert.not.ok(text.includes(secret), "a secret was printed");
  }
  assert.is(statSync(env.CONTROLLER_TOKEN_FILE as string).mode & 0o777, 0o600);
});

test("Vault holds the policies of infra/vault and the example role", async () => {
  const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
  const lk = (await root.read("sys/policies/acl/leasekeeper")) as { data: { policy: string } };
  assert.is(
    lk.data.policy.trimEnd(),
    readFileSync(join(INFRA_DIR, "vault", "leasekeeper-policy.hcl"), "utf8").trimEnd(),
  );
  const role = (await root.read("auth/kubernetes/role/postgres")) as { data: Record<string, unknown> };
  assert.equal(role.data.bound_service_account_names, ["postgres-vault"]);
  assert.equal(role.data.token_policies, ["postgres-app"]);
  assert.is(role.data.audience, "vault");
  const token = readFileSync(env.CONTROLLER_TOKEN_FILE as string, "utf8");
  const looked = (await root.write("auth/token/lookup", { token })) as { data: { policies: string[] } };
  assert.equal(looked.data.policies, ["leasekeeper"]);
});

test("leasekeeper's token is least privilege: it cannot read secrets or policies", async () => {
  const client = vault({
    apiVersion: "v1",
    endpoint: stack.vault.url,
    token: readFileSync(env.CONTROLLER_TOKEN_FILE as string, "utf8"),
  });
  for (const path of ["database/creds/postgres-role", "sys/policies/acl/leasekeeper", "secret/data/db-pass"]) {
    const status = await client.read(path).then(
      () => 200,
      (err: { response?: { statusCode?: number } }) => err.response?.statusCode,
    );
    assert.is(status, 403, path);
  }
});

test("leasekeeper with the script's token issues, and revokes on delete (RBAC from infra/base enforced)", async () => {
  const lk = await startLeasekeeper(
    stack,
    { controllerToken: readFileSync(env.CONTROLLER_TOKEN_FILE as string, "utf8"), kvPassword: "" },
    {
      ...staticToken(env.CONTROLLER_TOKEN_FILE as string),
      LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600",
    },
  );
  try {
    const pod = opted("setup-app", { "leasekeeper.io/secret-creds.json": "database/creds/postgres-role" });
    await stack.core.createNamespacedPod({ namespace: "default", body: pod });
    const secret = await waitFor("credentials Secret", async () =>
      stack.kube.control.get("secrets", "default", "setup-app-leasekeeper"),
    );
    const creds = JSON.parse(Buffer.from(String(secret.data["creds.json"]), "base64").toString("utf8")) as {
      username: string;
      password: string;
    };
    assert.ok(await canLogin(stack, creds));
    await stack.core.deleteNamespacedPod({ namespace: "default", name: "setup-app" });
    await waitFor("database role dropped", async () => !(await roleExists(stack, creds.username)));
    assert.equal(stack.rbac?.denied, []);
  } finally {
    await lk.stop();
  }
});

test("the static token (no default policy) renews itself with the shipped policy alone and outlives its TTL", async () => {
  const file = join(stack.dir, "short-controller-token");
  const { code, text } = await run({ CONTROLLER_TOKEN_FILE: file, CONTROLLER_TOKEN_TTL: "10s" });
  assert.is(code, 0, text);
  const token = readFileSync(file, "utf8");
  const entry = () => stack.vault.control.tokens().find((t) => t.id === token);
  assert.equal(entry()?.policies, ["leasekeeper"], "no default policy: renew-self comes from leasekeeper's policy");
  const lk = await startLeasekeeper(
    stack,
    { controllerToken: token, kvPassword: "" },
    { ...staticToken(file), LEASEKEEPER_RECONCILE_INTERVAL_SECONDS: "3600" },
  );
  try {
    await stack.core.createNamespacedPod({ namespace: "default", body: opted("static-app") });
    const secret = await waitFor("credentials Secret", async () =>
      stack.kube.control.get("secrets", "default", "static-app-leasekeeper"),
    );
    const creds = JSON.parse(Buffer.from(String(secret.data["creds.json"]), "base64").toString("utf8")) as {
      username: string;
    };
    await new Promise((r) => setTimeout(r, 22_000));
    assert.ok(
      entry() !== undefined && !entry()?.revoked && (entry()?.expireTime?.getTime() ?? 0) > Date.now(),
      "the 10 s token is still alive after 22 s",
    );
    await stack.core.deleteNamespacedPod({ namespace: "default", name: "static-app" });
    await waitFor(
      "database role dropped with the renewed token",
      async () => !(await roleExists(stack, creds.username)),
      10_000,
    );
    assert.not.ok(lk.logs.join("").includes("could not renew leasekeeper's Vault token"));
  } finally {
    await lk.stop();
  }
});

test.run();
