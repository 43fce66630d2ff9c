import { test } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";
import { failure } from "../emulators/vault/testing.ts";

let emu: VaultEmulator;
const client = (token?: string) => vault({ apiVersion: "v1", endpoint: emu.url, token });

test.before(async () => {
  emu = await startVaultEmulator();
  await client(emu.rootToken).addPolicy({
    name: "minter",
    rules: 'path "auth/token/create" { capabilities = ["update"] }',
  });
});
test.after(async () => {
  await emu.close();
});

const PERMISSION_DENIED = "1 error occurred:\n\t* permission denied\n\n";
const INVALID_TOKEN = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n";

test("token create / lookup-self / lookup-accessor / renew-self with max TTL capping", async () => {
  const root = client(emu.rootToken);
  const created = await client(emu.rootToken).tokenCreate({
    policies: ["app"],
    ttl: "1h",
    explicit_max_ttl: "90m",
    meta: { team: "a" },
  });
  const auth = created.auth;
  assert.equal(
    [auth.policies, auth.lease_duration, auth.renewable, auth.orphan],
    [["app", "default"], 3600, true, false],
  );
  assert.is(auth.accessor.length, 24);
  const t = client(auth.client_token);
  const self = (await t.tokenLookupSelf()).data;
  assert.equal(
    [self.id, self.accessor, self.display_name, self.meta, self.creation_ttl],
    [auth.client_token, auth.accessor, "token", { team: "a" }, 3600],
  );
  assert.ok(self.ttl > 3590 && self.ttl <= 3600);
  const byAccessor = (await root.tokenLookupAccessor({ accessor: auth.accessor })).data;
  assert.equal([byAccessor.id, byAccessor.accessor], ["", auth.accessor]);
  const renewed = await t.tokenRenewSelf({ increment: "2h" });
  assert.is(renewed.auth.client_token, auth.client_token);
  assert.ok(renewed.auth.lease_duration <= 5400 && renewed.auth.lease_duration > 5390);
  assert.is(renewed.warnings.length, 1);
  assert.match(
    renewed.warnings[0],
    /^TTL of "2h" exceeded the effective max_ttl of "1h29m5\ds"; TTL value is capped accordingly$/,
  );
  const rootRenew = await failure(root.tokenRenewSelf());
  assert.equal([rootRenew.status, rootRenew.message], [400, "lease is not renewable"]);
});

test("missing, unknown and revoked tokens: 400 missing client token, 403 invalid token", async () => {
  const none = await failure(client().tokenLookupSelf());
  assert.equal([none.status, none.message], [400, "missing client token"]);
  const bogus = await failure(client("hvs.bogus").tokenLookupSelf());
  assert.equal([bogus.status, bogus.message], [403, INVALID_TOKEN]);
  const res = await fetch(`${emu.url}/v1/auth/token/lookup-self`, {
    headers: { authorization: `Bearer ${emu.rootToken}` },
  });
  assert.is(res.status, 200, "Authorization: Bearer is accepted");
  const t = (await client(emu.rootToken).tokenCreate({ policies: ["app"] })).auth.client_token;
  await client(t).tokenRevokeSelf();
  assert.equal((await failure(client(t).tokenLookupSelf())).message, INVALID_TOKEN);
  const lookup = await failure(client(emu.rootToken).write("auth/token/lookup", { token: t }));
  assert.equal([lookup.status, lookup.message], [403, "bad token"]);
  const unknownAcc = await failure(client(emu.rootToken).tokenRevokeAccessor({ accessor: "nope" }));
  assert.equal([unknownAcc.status, unknownAcc.message], [400, "1 error occurred:\n\t* invalid accessor\n\n"]);
  assert.is((await failure(client(emu.rootToken).tokenRevoke({ token: "" }))).message, "missing token ID");
  await client(emu.rootToken).tokenRevoke({ token: "hvs.unknown" });
});

test("revoking a parent revokes its children; revoke-accessor works; tokens expire on their own", async () => {
  const root = client(emu.rootToken);
  const parent = (await client(emu.rootToken).tokenCreate({ policies: ["app", "minter"] })).auth;
  const child = (await client(parent.client_token).tokenCreate({ policies: ["app"] })).auth;
  const info = emu.control.tokens().find((x) => x.accessor === child.accessor);
  assert.is(info?.parentAccessor, parent.accessor);
  await root.tokenRevokeAccessor({ accessor: parent.accessor });
  assert.is((await failure(client(child.client_token).tokenLookupSelf())).status, 403);
  assert.ok(emu.control.tokens().find((x) => x.accessor === child.accessor)?.revoked);

  const short = (await client(emu.rootToken).tokenCreate({ policies: ["app"], ttl: "1s" })).auth.client_token;
  assert.is((await client(short).tokenLookupSelf()).data.ttl, 1);
  await new Promise((r) => setTimeout(r, 1_200));
  assert.is((await failure(client(short).tokenLookupSelf())).message, INVALID_TOKEN);
});

test("child policies must be a subset of the parent's; orphan needs root", async () => {
  const t = (await client(emu.rootToken).tokenCreate({ policies: ["app", "minter"] })).auth.client_token;
  const none = await failure(
    client((await client(emu.rootToken).tokenCreate({ policies: ["app"] })).auth.client_token).tokenCreate({
      policies: ["app"],
    }),
  );
  assert.equal([none.status, none.message], [403, PERMISSION_DENIED]);
  const sub = await failure(client(t).tokenCreate({ policies: ["admin"] }));
  assert.equal([sub.status, sub.message], [400, "child policies must be subset of parent"]);
  assert.is((await failure(client(t).tokenCreate({ no_parent: true }))).status, 400);
});

test("policies: write/read via sys/policy and sys/policies/acl; bad HCL 400; list", async () => {
  const root = client(emu.rootToken);
  await root.addPolicy({ name: "reader", rules: 'path "secret/data/*" { capabilities = ["read"] }' });
  const got = await root.getPolicy({ name: "reader" });
  assert.equal([got.data.name, got.rules], ["reader", 'path "secret/data/*" { capabilities = ["read"] }']);
  await root.write("sys/policies/acl/writer", {
    policy: 'path "secret/data/w/+" {\n  capabilities = ["create", "update"]\n}\n',
  });
  assert.match((await root.read("sys/policies/acl/writer")).data.policy, /create/);
  const listed = await root.list("sys/policies/acl");
  assert.ok(listed.data.keys.includes("writer") && listed.data.keys.includes("default"));
  const bad = await failure(root.write("sys/policies/acl/bad", { policy: 'path "x" { capabilities = ["fly"] }' }));
  assert.is(bad.status, 400);
  assert.match(bad.message, /^failed to parse policy: /);
  assert.is(
    (await failure(root.write("sys/policy/root", { policy: 'path "x" {}' }))).message,
    'cannot update "root" policy',
  );
  assert.is((await failure(root.read("sys/policy/nope"))).message, "Status 404");
});

test("ACL: globs, + segments, default policy, sudo paths, exact 403 bodies", async () => {
  const root = client(emu.rootToken);
  await root.write("sys/policies/acl/kvread", {
    policy:
      'path "secret/data/app/*" { capabilities = ["read"] }\npath "secret/data/app/secret" { capabilities = ["deny"] }\npath "secret/data/team/+/cfg" { capabilities = ["read", "update"] }',
  });
  await root.write("secret/data/app/one", { data: { a: "1" } });
  await root.write("secret/data/app/secret", { data: { a: "2" } });
  await root.write("secret/data/team/blue/cfg", { data: { a: "3" } });
  const t = client((await client(emu.rootToken).tokenCreate({ policies: ["kvread"] })).auth.client_token);
  assert.equal((await t.read("secret/data/app/one")).data.data, { a: "1" });
  assert.equal((await t.read("secret/data/team/blue/cfg")).data.data, { a: "3" });
  await t.write("secret/data/team/red/cfg", { data: { b: "x" } });
  const denied = [
    () => t.read("secret/data/app/secret"),
    () => t.write("secret/data/app/one", { data: {} }),
    () => t.read("secret/data/team/blue/red/cfg"),
    () => t.read("database/creds/x"),
    () => t.list("sys/leases/lookup/"),
    () => t.read("nomount/x"),
  ];
  for (const call of denied) {
    const e = await failure(call());
    assert.equal([e.status, e.message], [403, PERMISSION_DENIED]);
  }
  // default policy: lookup-self (read), renew-self, sys/leases/lookup; not lookup-self via POST
  assert.is((await t.tokenLookupSelf()).data.policies.join(","), "default,kvread");
  assert.is((await failure(t.write("sys/leases/lookup", { lease_id: "nope" }))).message, "invalid lease");
  assert.is((await failure(t.write("auth/token/lookup-self", {}))).status, 403);
  // root: unknown mount is a 404 with the router text
  const nomount = await failure(root.read("nomount/x"));
  assert.equal([nomount.status, nomount.message], [404, 'no handler for route "nomount/x". route entry not found.']);
});

test.run();
