/**
 * Contract: auth methods at any mount path (`sys/auth/<path>`, vault/logical_system.go) — a second
 * Kubernetes mount with its own config and roles, and a JWT mount (vault-plugin-auth-jwt) validating
 * service-account-shaped JWTs against `jwt_validation_pubkeys` or a `jwks_url`.
 *
 * The Kubernetes emulator does not publish its service-account signing key (no /openid/v1/jwks), so
 * the JWT tests sign with a key of their own, as an API server's ES256 key would.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
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
let jwks: Server;
const root = () => vault({ apiVersion: "v1", endpoint: emu.url, token: emu.rootToken });
const anon = () => vault({ apiVersion: "v1", endpoint: emu.url });
const SA = { namespace: "shop", name: "orders", uid: "4f3f1c9e-97e1-4a1c-8f8e-5d1f4c0b2a77" };
const signer = generateKeyPairSync("ec", { namedCurve: "P-256" });
const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" });

function saJwt(key: KeyObject, claims: Record<string, unknown> = {}, kid = "sa-key"): string {
  const now = Math.floor(Date.now() / 1000);
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = {
    iss: "https://kubernetes.default.svc.cluster.local",
    sub: `system:serviceaccount:${SA.namespace}:${SA.name}`,
    aud: ["vault"],
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: randomUUID(),
    "kubernetes.io": { namespace: SA.namespace, serviceaccount: { name: SA.name, uid: SA.uid } },
    ...claims,
  };
  const input = `${enc({ alg: "ES256", kid })}.${enc(body)}`;
  return `${input}.${sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
}

test.before(async () => {
  k8s = await startTokenReviewStub();
  emu = await startVaultEmulator();
  jwks = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({
        keys: [{ ...signer.publicKey.export({ format: "jwk" }), kid: "sa-key", use: "sig", alg: "ES256" }],
      }),
    );
  });
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
});
test.after(async () => {
  await emu.close();
  await k8s.close();
  await new Promise<void>((r) => jwks.close(() => r()));
});

test("a second Kubernetes mount (k8s-other/): own config and roles, login at auth/k8s-other/login, renewal via its role", async () => {
  await root().enableAuth({ mount_point: "k8s-other", type: "kubernetes", description: "second cluster" });
  const again = await failure(root().enableAuth({ mount_point: "k8s-other", type: "kubernetes" }));
  assert.equal([again.status, again.message], [400, "path is already in use at k8s-other/"]);
  const nope = await failure(root().enableAuth({ mount_point: "elsewhere", type: "nope" }));
  assert.equal([nope.status, nope.message], [400, "plugin not found in the catalog: nope"]);
  const table = (await root().auths()).data as Record<string, { type: string; description: string }>;
  assert.equal(
    [table["k8s-other/"]?.type, table["k8s-other/"]?.description, table["kubernetes/"]?.type, table["token/"]?.type],
    ["kubernetes", "second cluster", "kubernetes", "token"],
  );

  await root().write("auth/k8s-other/config", { kubernetes_host: k8s.url, token_reviewer_jwt: k8s.reviewerJwt });
  await root().write("auth/k8s-other/role/orders", {
    bound_service_account_names: "orders",
    bound_service_account_namespaces: "shop",
    audience: "vault",
    token_ttl: "10m",
  });
  const jwt = fakeServiceAccountJwt(SA);
  k8s.accept(jwt, SA, ["vault"]);
  const v = anon();
  const { auth } = await v.kubernetesLogin({ role: "orders", jwt, mount_point: "k8s-other" });
  const self = (await v.tokenLookupSelf()).data;
  assert.equal(
    [self.display_name, self.path, auth.lease_duration],
    ["k8s-other-shop-orders", "auth/k8s-other/login", 600],
  );
  const other = await failure(anon().kubernetesLogin({ role: "orders", jwt, mount_point: "kubernetes" }));
  assert.equal([other.status, other.message], [400, 'invalid role name "orders"'], "roles are per mount");
  await v.tokenRenewSelf();

  await root().delete("auth/k8s-other/role/orders");
  const renew = await failure(v.tokenRenewSelf());
  assert.equal(
    [renew.status, renew.message],
    [500, "1 error occurred:\n\t* role orders does not exist during renewal\n\n"],
  );
  await root().disableAuth({ mount_point: "k8s-other" });
  assert.is((await failure(v.tokenLookupSelf())).status, 403, "disabling the mount revoked its tokens");
});

test("JWT mount with jwt_validation_pubkeys: signature, bound_audiences, expiry, user_claim", async () => {
  const r = root();
  await r.enableAuth({ mount_point: "jwt", type: "jwt" });
  const none = await failure(r.write("auth/jwt/config", {}));
  assert.equal(
    [none.status, none.message],
    [400, "exactly one of 'jwt_validation_pubkeys', 'jwks_url', 'jwks_pairs' or 'oidc_discovery_url' must be set"],
  );
  await r.write("auth/jwt/config", {
    jwt_validation_pubkeys: [signer.publicKey.export({ type: "spki", format: "pem" })],
  });
  const unbound = await failure(r.write("auth/jwt/role/pods", { role_type: "jwt", user_claim: "sub" }));
  assert.is(unbound.message, "must have at least one bound constraint when creating/updating a role");
  await r.write("auth/jwt/role/pods", {
    role_type: "jwt",
    user_claim: "sub",
    bound_audiences: "vault",
    token_policies: "app",
    token_ttl: "5m",
  });

  const v = anon();
  const { auth } = await v.jwtLogin({ role: "pods", jwt: saJwt(signer.privateKey) });
  assert.equal([auth.policies, auth.metadata, auth.lease_duration], [["app", "default"], { role: "pods" }, 300]);
  const self = (await v.tokenLookupSelf()).data;
  assert.equal([self.display_name, self.path], ["jwt-system:serviceaccount:shop:orders", "auth/jwt/login"]);

  const cases: [string, string][] = [
    [
      saJwt(signer.privateKey, { aud: ["other"] }),
      "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience",
    ],
    [
      saJwt(stranger.privateKey),
      "error validating token: error verifying token signature: no known key successfully validated the token signature",
    ],
    [
      saJwt(signer.privateKey, {
        exp: Math.floor(Date.now() / 1000) - 3600,
        iat: Math.floor(Date.now() / 1000) - 7200,
        nbf: undefined,
      }),
      "error validating token: invalid expiration time (exp) claim: token is expired",
    ],
    [saJwt(signer.privateKey, { sub: undefined }), 'claim "sub" not found in token'],
  ];
  for (const [jwt, message] of cases) {
    const e = await failure(anon().jwtLogin({ role: "pods", jwt }));
    assert.equal([e.status, e.message], [400, message]);
  }
  const missing = await failure(anon().jwtLogin({ role: "nope", jwt: saJwt(signer.privateKey) }));
  assert.equal(missing.message, 'role "nope" could not be found');
});

test("JWT mount with jwks_url: keys fetched from the JWKS document, matched by kid", async () => {
  const address = jwks.address() as { port: number };
  await root().enableAuth({ mount_point: "jwt-jwks", type: "jwt" });
  const bad = await failure(root().write("auth/jwt-jwks/config", { jwks_url: "http://127.0.0.1:1/jwks" }));
  assert.equal([bad.status, bad.message], [400, "error checking jwks URL http://127.0.0.1:1/jwks"]);
  await root().write("auth/jwt-jwks/config", { jwks_url: `http://127.0.0.1:${address.port}/openid/v1/jwks` });
  await root().write("auth/jwt-jwks/role/pods", {
    role_type: "jwt",
    user_claim: "sub",
    bound_audiences: "vault",
    bound_claims: { "kubernetes.io/namespace": "x" },
  });
  const claims = await failure(
    anon().jwtLogin({ role: "pods", jwt: saJwt(signer.privateKey), mount_point: "jwt-jwks" }),
  );
  assert.equal(claims.message, 'error validating claims: claim "kubernetes.io/namespace" is missing');
  await root().write("auth/jwt-jwks/role/pods", {
    role_type: "jwt",
    user_claim: "sub",
    bound_audiences: "vault",
    bound_claims: {},
  });
  const ok = await anon().jwtLogin({ role: "pods", jwt: saJwt(signer.privateKey), mount_point: "jwt-jwks" });
  assert.match(ok.auth.client_token, /^hvs\./);
  const wrongKey = await failure(
    anon().jwtLogin({ role: "pods", jwt: saJwt(stranger.privateKey), mount_point: "jwt-jwks" }),
  );
  assert.equal(
    wrongKey.message,
    "error validating token: error verifying token signature: failed to verify id token signature",
  );
});

test.run();
