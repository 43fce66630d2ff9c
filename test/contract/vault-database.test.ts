import { test } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import pg from "pg";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";
import { failure, waitFor } from "../emulators/vault/testing.ts";
import { startPostgres, type PostgresServer } from "../helpers/postgres.ts";

let emu: VaultEmulator;
let db: PostgresServer;
let admin: pg.Pool;
const client = (token?: string) => vault({ apiVersion: "v1", endpoint: emu.url, token });
const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";`;

async function canLogin(user: string, password: string): Promise<string> {
  const c = new pg.Client({ host: db.host, port: db.port, database: db.database, user, password });
  try {
    await c.connect();
    const { rows } = await c.query<{ u: string }>("select current_user as u");
    return `ok:${rows[0]?.u}`;
  } catch (err) {
    return `error:${(err as Error).message}`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function roleExists(name: string): Promise<boolean> {
  const { rows } = await admin.query("select 1 from pg_roles where rolname = $1", [name]);
  return rows.length === 1;
}

test.before(async () => {
  db = await startPostgres();
  admin = new pg.Pool({ connectionString: db.url, max: 2 });
  await admin.query("create table widgets (id int)");
  emu = await startVaultEmulator();
  const root = client(emu.rootToken);
  await root.write("database/config/pg", {
    plugin_name: "postgresql-database-plugin",
    connection_url: `postgresql://{{username}}:{{password}}@${db.host}:${db.port}/${db.database}?sslmode=disable`,
    username: db.user,
    password: db.password,
    allowed_roles: "app,short",
  });
  await root.write("database/roles/app", {
    db_name: "pg",
    creation_statements: [CREATE],
    default_ttl: "1h",
    max_ttl: "90m",
  });
  await root.write("database/roles/short", {
    db_name: "pg",
    creation_statements: [CREATE],
    default_ttl: 2,
    max_ttl: "10s",
  });
  await root.write("database/roles/other", { db_name: "pg", creation_statements: [CREATE] });
  await root.addPolicy({ name: "dbuser", rules: 'path "database/creds/*" { capabilities = ["read"] }' });
});

test.after(async () => {
  await emu?.close();
  await admin?.end();
  await db?.stop();
});

test("creds create a real PostgreSQL login; sync revoke drops it and is idempotent", async () => {
  const root = client(emu.rootToken);
  const res = await root.read("database/creds/app");
  assert.match(res.lease_id, /^database\/creds\/app\/[A-Za-z0-9]{24}$/);
  assert.equal([res.renewable, res.lease_duration, res.mount_type], [true, 3600, "database"]);
  const { username, password } = res.data as { username: string; password: string };
  assert.match(username, /^v-root-app-[A-Za-z0-9]{20}-\d{10}$/);
  assert.match(password, /^[A-Za-z0-9-]{20}$/);
  assert.match(password, /-/);
  assert.is(await canLogin(username, password), `ok:${username}`);
  assert.is(await canLogin(username, "wrong-password"), `error:password authentication failed for user "${username}"`);

  const look = await root.write("sys/leases/lookup", { lease_id: res.lease_id });
  assert.equal([look.data.id, look.data.renewable, look.data.last_renewal], [res.lease_id, true, null]);
  const keys = await root.list("sys/leases/lookup/database/creds/app/");
  assert.ok(keys.data.keys.includes(res.lease_id.split("/").pop()));
  assert.ok((await root.list("sys/leases/lookup/database/creds")).data.keys.includes("app/"));

  await root.revoke({ lease_id: res.lease_id });
  assert.is(await roleExists(username), false);
  assert.match(await canLogin(username, password), /^error:password authentication failed/);
  await root.revoke({ lease_id: res.lease_id });
  const renew = await failure(root.renew({ lease_id: res.lease_id, increment: 60 }));
  assert.equal([renew.status, renew.message], [400, "lease not found"]);
  assert.is((await failure(root.write("sys/leases/lookup", { lease_id: res.lease_id }))).message, "invalid lease");
  assert.ok(emu.control.leases().find((l) => l.id === res.lease_id)?.revoked);
});

test("renew counts from now, is capped at issue time + max_ttl with Vault's warning, and moves VALID UNTIL", async () => {
  const root = client(emu.rootToken);
  const res = await root.read("database/creds/app");
  const before = await admin.query<{ v: Date }>("select rolvaliduntil as v from pg_roles where rolname = $1", [
    res.data.username,
  ]);
  const small = await root.renew({ lease_id: res.lease_id, increment: 600 });
  assert.equal([small.lease_duration, small.warnings, small.renewable], [600, null, true]);
  const capped = await root.renew({ lease_id: res.lease_id, increment: 7200 });
  assert.ok(capped.lease_duration > 5390 && capped.lease_duration <= 5400);
  assert.match(
    capped.warnings[0],
    /^TTL of "2h" exceeded the effective max_ttl of "1h29m5\ds"; TTL value is capped accordingly$/,
  );
  const after = await admin.query<{ v: Date }>("select rolvaliduntil as v from pg_roles where rolname = $1", [
    res.data.username,
  ]);
  assert.ok(after.rows[0]!.v.getTime() > before.rows[0]!.v.getTime());
  assert.ok((await root.write("sys/leases/lookup", { lease_id: res.lease_id })).data.last_renewal !== null);
  assert.is((await failure(root.write("sys/leases/renew", { increment: "5s" }))).message, "lease_id must be specified");
  await root.write("sys/leases/revoke", { lease_id: res.lease_id });
});

test("a lease expires on its own (2 s TTL): the role is dropped and login fails", async () => {
  const root = client(emu.rootToken);
  const res = await root.read("database/creds/short");
  assert.is(res.lease_duration, 2);
  assert.is(await canLogin(res.data.username, res.data.password), `ok:${res.data.username}`);
  await waitFor(async () => !(await roleExists(res.data.username)), 6_000, "expired role dropped");
  assert.match(await canLogin(res.data.username, res.data.password), /^error:/);
  assert.is((await failure(root.renew({ lease_id: res.lease_id }))).message, "lease not found");
});

test("revoking the owning token (by accessor) revokes its leases; display name goes into the username", async () => {
  const root = client(emu.rootToken);
  const created = await client(emu.rootToken).tokenCreate({ policies: ["dbuser"] });
  const pod = client(created.auth.client_token);
  const a = await pod.read("database/creds/app");
  const b = await pod.read("database/creds/app");
  assert.match(a.data.username, /^v-token-app-/);
  const owned = emu.control.leases().filter((l) => l.tokenAccessor === created.auth.accessor);
  assert.is(owned.length, 2);
  await root.tokenRevokeAccessor({ accessor: created.auth.accessor });
  await waitFor(
    async () => !(await roleExists(a.data.username)) && !(await roleExists(b.data.username)),
    5_000,
    "roles dropped",
  );
  // Token revocation takes its leases lazily (vault/expiration.go): the record follows the DROP ROLE.
  await waitFor(
    async () =>
      emu.control
        .leases()
        .filter((l) => l.tokenAccessor === created.auth.accessor)
        .every((l) => l.revoked),
    5_000,
    "leases marked revoked",
  );
  assert.is((await failure(root.renew({ lease_id: a.lease_id }))).message, "lease not found");
});

test("creds errors, lease expired vs not found, revoke-prefix, sync=false 202", async () => {
  const root = client(emu.rootToken);
  const unknown = await failure(root.read("database/creds/nope"));
  assert.equal([unknown.status, unknown.message], [400, "unknown role: nope"]);
  const other = await failure(root.read("database/creds/other"));
  assert.equal([other.status, other.message], [500, '1 error occurred:\n\t* "other" is not an allowed role\n\n']);

  const x = await root.read("database/creds/app");
  const y = await root.read("database/creds/app");
  const lazy = await failure(root.write("sys/leases/revoke", { lease_id: x.lease_id, sync: false }));
  assert.equal([lazy.status, lazy.message], [202, "Status 202"]);
  await emu.control.settle();
  assert.is(await roleExists(x.data.username), false);
  await root.revokePrefix({ path_prefix: "database/creds/app" });
  assert.is(await roleExists(y.data.username), false);
  assert.is((await failure(root.list("sys/leases/lookup/database/creds/app/"))).message, "Status 404");

  const z = await root.read("database/creds/short");
  emu.control.seal(); // the expiration manager stops while sealed: expired but not reaped
  await new Promise((r) => setTimeout(r, 2_100));
  emu.control.unseal();
  const expired = await failure(root.renew({ lease_id: z.lease_id }));
  assert.equal([expired.status, expired.message], [400, "lease expired"]);
  await emu.control.settle();
  assert.is((await failure(root.renew({ lease_id: z.lease_id }))).message, "lease not found");
});

test.run();
