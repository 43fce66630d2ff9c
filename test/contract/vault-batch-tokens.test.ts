/**
 * Contract: batch tokens (vault/token_store.go, vault/expiration.go) as a client sees them — from a
 * Kubernetes role with token_type=batch and from a token role: `hvb.` ids, no accessor, not
 * renewable, not revocable, no children; their leases are capped at the token's expiry and indexed
 * under the parent token (none for orphans).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";
import {
  failure,
  fakeServiceAccountJwt,
  startTokenReviewStub,
  type TokenReviewStub,
} from "../emulators/vault/testing.ts";

let emu: VaultEmulator;
let k8s: TokenReviewStub;
const client = (token?: string) => vault({ apiVersion: "v1", endpoint: emu.url, token });
const SA = { namespace: "shop", name: "orders", uid: "7d1b1c62-3c43-4d0a-9f86-3a1e0f6d2b11" };

test.before(async () => {
  k8s = await startTokenReviewStub();
  emu = await startVaultEmulator();
  const root = client(emu.rootToken);
  await root.write("auth/kubernetes/config", { kubernetes_host: k8s.url, token_reviewer_jwt: k8s.reviewerJwt });
  await root.write("auth/kubernetes/role/batch", {
    bound_service_account_names: "orders",
    bound_service_account_namespaces: "shop",
    token_policies: "certs",
    token_ttl: "2m",
    token_type: "batch",
    audience: "vault",
  });
  await root.addPolicy({
    name: "certs",
    rules: 'path "pki/issue/*" { capabilities = ["update"] }\npath "auth/token/create*" { capabilities = ["update"] }',
  });
  await root.write("pki/roles/leased", {
    allowed_domains: "example.com",
    allow_subdomains: true,
    generate_lease: true,
    ttl: "1h",
  });
});
test.after(async () => {
  await emu.close();
  await k8s.close();
});

test("Kubernetes login with token_type=batch: hvb. token, empty accessor, not renewable, not revocable", async () => {
  const jwt = fakeServiceAccountJwt(SA);
  k8s.accept(jwt, SA, ["vault"]);
  const v = client();
  const { auth } = await v.kubernetesLogin({ role: "batch", jwt, mount_point: "kubernetes" });
  assert.match(auth.client_token, /^hvb\./);
  assert.equal(
    [auth.accessor, auth.renewable, auth.token_type, auth.orphan, auth.lease_duration],
    ["", false, "batch", true, 120],
  );
  const self = (await v.tokenLookupSelf()).data;
  assert.equal(
    [self.type, self.accessor, self.renewable, self.display_name],
    ["batch", "", false, "kubernetes-shop-orders"],
  );

  const renew = await failure(v.tokenRenewSelf());
  assert.equal([renew.status, renew.message], [400, "batch tokens cannot be renewed"]);
  const revokeSelf = await failure(v.tokenRevokeSelf());
  assert.equal([revokeSelf.status, revokeSelf.message], [400, "batch tokens cannot be revoked"]);
  const byRoot = await failure(client(emu.rootToken).tokenRevoke({ token: auth.client_token }));
  assert.equal([byRoot.status, byRoot.message], [400, "batch tokens cannot be revoked"]);
  const byAccessor = await failure(client(emu.rootToken).tokenLookupAccessor({ accessor: auth.accessor }));
  assert.equal([byAccessor.status, byAccessor.message], [400, "missing accessor"]);
  const child = await failure(v.tokenCreate({ policies: ["certs"] }));
  assert.equal([child.status, child.message], [400, "batch tokens cannot create more tokens"]);
  assert.is((await v.tokenLookupSelf()).data.type, "batch", "still valid after the refused revokes");

  // An orphan batch token's lease is capped at the token's expiry and indexed under no token.
  const cert = await v.write("pki/issue/leased", { common_name: "a.example.com" });
  assert.ok(cert.lease_duration <= 120 && cert.lease_duration > 110, `lease_duration ${cert.lease_duration}`);
  const info = emu.control.leases().find((l) => l.id === cert.lease_id);
  assert.equal(info?.tokenAccessor, "");
});

test("role validation: token_type values, batch excludes periodic and limited-use tokens", async () => {
  const root = client(emu.rootToken);
  assert.is((await root.read("auth/kubernetes/role/batch")).data.token_type, "batch");
  const role = { bound_service_account_names: "x", bound_service_account_namespaces: "y", audience: "vault" };
  const bad = await failure(root.write("auth/kubernetes/role/bad", { ...role, token_type: "weird" }));
  assert.equal([bad.status, bad.message], [400, "invalid 'token_type' value \"weird\""]);
  const periodic = await failure(
    root.write("auth/kubernetes/role/bad", { ...role, token_type: "batch", token_period: "1h" }),
  );
  assert.equal(
    periodic.message,
    "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens",
  );
});

test("token role with token_type=batch: child batch token; its leases go with the parent token", async () => {
  const root = client(emu.rootToken);
  await root.write("auth/token/roles/batchy", { allowed_policies: "certs", token_type: "batch", token_ttl: "10m" });
  assert.is((await root.read("auth/token/roles/batchy")).data.token_type, "batch");
  const parent = (await client(emu.rootToken).tokenCreate({ policies: ["certs"] })).auth; // tokenCreate adopts the new token
  const made = await client(parent.client_token).write("auth/token/create/batchy", {});
  const batch = made.auth;
  assert.match(batch.client_token, /^hvb\./);
  assert.equal(
    [batch.accessor, batch.renewable, batch.token_type, batch.orphan, batch.policies],
    ["", false, "batch", false, ["certs", "default"]],
  );
  const cert = await client(batch.client_token).write("pki/issue/leased", { common_name: "b.example.com" });
  assert.is(
    emu.control.leases().find((l) => l.id === cert.lease_id)?.tokenAccessor,
    "",
    "not indexed under the batch token",
  );
  const unknownRole = await failure(client(parent.client_token).write("auth/token/create/nope", {}));
  assert.equal([unknownRole.status, unknownRole.message], [400, "unknown role nope"]);

  await root.tokenRevokeAccessor({ accessor: parent.accessor });
  await emu.control.settle();
  assert.ok(emu.control.leases().find((l) => l.id === cert.lease_id)?.revoked, "revoking the parent revoked the lease");
  const gone = await failure(client(batch.client_token).tokenLookupSelf());
  assert.is(gone.status, 403, "the child batch token went with its parent");
});

test.run();
