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
const SA = { namespace: "shop", name: "orders", uid: "0b7c3a52-6f1e-4a51-9d1e-2f7f6a1c9b10" };

test.before(async () => {
  k8s = await startTokenReviewStub();
  emu = await startVaultEmulator();
  const root = client(emu.rootToken);
  const noConfig = await failure(client().kubernetesLogin({ role: "x", jwt: "y", mount_point: "kubernetes" }));
  assert.equal([noConfig.status, noConfig.message], [400, 'invalid role name "x"']);
  await root.write("auth/kubernetes/role/orders", {
    bound_service_account_names: "orders,billing-*",
    bound_service_account_namespaces: ["shop"],
    token_policies: ["Orders-DB", "kv"],
    token_ttl: "20m",
    token_max_ttl: "1h",
    audience: "vault",
  });
  const early = await failure(client().kubernetesLogin({ role: "orders", jwt: "y", mount_point: "kubernetes" }));
  assert.equal([early.status, early.message], [500, "could not load backend configuration"]);
  await root.write("auth/kubernetes/config", { kubernetes_host: k8s.url, token_reviewer_jwt: k8s.reviewerJwt });
  await root.write("auth/kubernetes/role/any", {
    bound_service_account_names: "*",
    bound_service_account_namespaces: "*",
    token_policies: "kv",
  });
});

test.after(async () => {
  await emu.close();
  await k8s.close();
});

test("login calls TokenReview like Vault and returns the spec's auth block", async () => {
  const jwt = fakeServiceAccountJwt(SA);
  k8s.accept(jwt, SA, ["vault"]);
  const v = client();
  const res = await v.kubernetesLogin({ role: "orders", jwt, mount_point: "kubernetes" });
  const auth = res.auth;
  assert.equal([res.data, res.lease_id, res.lease_duration, res.mount_type], [null, "", 0, "kubernetes"]);
  assert.equal(auth.policies, ["default", "kv", "orders-db"]);
  assert.equal(auth.token_policies, auth.policies);
  assert.equal(auth.metadata, {
    role: "orders",
    service_account_name: "orders",
    service_account_namespace: "shop",
    service_account_secret_name: "",
    service_account_uid: SA.uid,
  });
  assert.equal([auth.lease_duration, auth.renewable, auth.orphan, auth.token_type], [1200, true, true, "service"]);
  assert.is(v.token, auth.client_token, "node-vault adopts the login token");
  const review = k8s.requests.at(-1)!;
  assert.equal([review.method, review.path], ["POST", "/apis/authentication.k8s.io/v1/tokenreviews"]);
  assert.is(review.authorization, `Bearer ${k8s.reviewerJwt}`);
  assert.equal(review.body, {
    metadata: { creationTimestamp: null },
    spec: { token: jwt, audiences: ["vault"] },
    status: { user: {} },
  });
  const self = (await v.tokenLookupSelf()).data;
  assert.equal(
    [self.display_name, self.path, self.meta.role],
    ["kubernetes-shop-orders", "auth/kubernetes/login", "orders"],
  );

  const renewed = await v.tokenRenewSelf({ increment: 7200 });
  assert.ok(renewed.auth.lease_duration <= 3600 && renewed.auth.lease_duration > 3590);
  assert.match(renewed.warnings[0], /exceeded the effective max_ttl of "(59m5\ds|1h)"/);
});

test("login rejections: statuses and plain (non-multierror) messages", async () => {
  const v = client();
  const login = (role: string, jwt: string) => failure(v.kubernetesLogin({ role, jwt, mount_point: "kubernetes" }));
  const cases: [Promise<unknown>, number, string][] = [];
  const good = fakeServiceAccountJwt(SA);
  k8s.accept(good, SA);
  cases.push([login("", good), 400, "missing role"]);
  cases.push([login("orders", ""), 400, "missing jwt"]);
  cases.push([login("Nope", good), 400, 'invalid role name "Nope"']);
  cases.push([login("orders", "not-a-jwt"), 403, "permission denied"]);
  cases.push([
    login("orders", fakeServiceAccountJwt({ ...SA, name: "payments" })),
    403,
    "service account name not authorized",
  ]);
  cases.push([login("orders", fakeServiceAccountJwt({ ...SA, namespace: "dev" })), 403, "namespace not authorized"]);
  cases.push([
    login("orders", fakeServiceAccountJwt(SA, { aud: ["other"] })),
    403,
    "invalid audience (aud) claim: audience claim does not match any expected audience",
  ]);
  cases.push([
    login("orders", fakeServiceAccountJwt(SA, { exp: 1000 })),
    403,
    "invalid expiration time (exp) claim: token is expired",
  ]);
  cases.push([login("orders", fakeServiceAccountJwt(SA)), 403, "permission denied"]); // TokenReview says unauthenticated
  for (const [p, status, message] of cases) {
    const e = (await p) as { status: number; message: string };
    assert.equal([e.status, e.message], [status, message]);
  }
  const billing = { ...SA, name: "billing-eu", uid: "u-2" };
  const glob = fakeServiceAccountJwt(billing);
  k8s.accept(glob, billing);
  assert.equal(
    (await client().kubernetesLogin({ role: "ORDERS", jwt: glob, mount_point: "kubernetes" })).auth.metadata
      .service_account_name,
    "billing-eu",
  );
});

test("TokenReview uid mismatch or API failure is a plain 403; roles read back; role validation", async () => {
  const jwt = fakeServiceAccountJwt(SA);
  k8s.accept(jwt, { ...SA, uid: "someone-else" });
  const e = await failure(client().kubernetesLogin({ role: "any", jwt, mount_point: "kubernetes" }));
  assert.equal([e.status, e.message], [403, "permission denied"]);
  assert.equal(emu.control.tokenReviews().at(-1)?.error, "JWT names did not match");
  const root = client(emu.rootToken);
  const role = (await root.read("auth/kubernetes/role/orders")).data;
  assert.equal(
    [role.bound_service_account_names, role.token_ttl, role.token_max_ttl, role.audience],
    [["orders", "billing-*"], 1200, 3600, "vault"],
  );
  const warn = await root.write("auth/kubernetes/role/noaud", {
    bound_service_account_names: "a",
    bound_service_account_namespaces: "b",
  });
  assert.match(warn.warnings[0], /^Role noaud does not have an audience configured/);
  const empty = await failure(root.write("auth/kubernetes/role/bad", { bound_service_account_namespaces: "b" }));
  assert.equal([empty.status, empty.message], [400, '"bound_service_account_names" can not be empty']);
  const mix = await failure(
    root.write("auth/kubernetes/role/bad", {
      bound_service_account_names: ["*", "a"],
      bound_service_account_namespaces: "b",
    }),
  );
  assert.is(mix.message, 'can not mix "*" with values');
  const ttl = await failure(
    root.write("auth/kubernetes/role/bad", {
      bound_service_account_names: "a",
      bound_service_account_namespaces: "b",
      token_ttl: 100,
      token_max_ttl: 10,
    }),
  );
  assert.is(ttl.message, "token ttl should not be greater than token max ttl");
  assert.is((await failure(root.write("auth/kubernetes/config", {}))).message, "no host provided");
});

test("renewing a login token whose role was deleted fails", async () => {
  const sa = { ...SA, uid: "u-3" };
  const jwt = fakeServiceAccountJwt(sa);
  k8s.accept(jwt, sa);
  const root = client(emu.rootToken);
  await root.write("auth/kubernetes/role/temp", {
    bound_service_account_names: "*",
    bound_service_account_namespaces: "*",
    audience: "vault",
  });
  const v = client();
  await v.kubernetesLogin({ role: "temp", jwt, mount_point: "kubernetes" });
  await root.delete("auth/kubernetes/role/temp");
  const e = await failure(v.tokenRenewSelf());
  assert.equal([e.status, e.message], [500, "1 error occurred:\n\t* role temp does not exist during renewal\n\n"]);
});

test.run();
