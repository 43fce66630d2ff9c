/**
 * Contract: revoking a token revokes its leases lazily (vault/expiration.go `RevokeByToken` →
 * `lazyRevokeInternal`: the leases are marked expired, the expiration manager revokes them later);
 * only `sys/leases/revoke` with `sync=true` (the default) runs the backend revocation (DROP ROLE)
 * before answering. `expirationLagMs` models a busy expiration manager; control.leases() exposes
 * `revokeQueuedAt` / `revokedAt` to measure the delay.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import pg from "pg";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";
import { failure } from "../emulators/vault/testing.ts";
import { startPostgres, type PostgresServer } from "../helpers/postgres.ts";

const LAG_MS = 30_000;
let emu: VaultEmulator;
let db: PostgresServer;
let admin: pg.Pool;
const client = (token?: string) => vault({ apiVersion: "v1", endpoint: emu.url, token });
const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;

async function roleExists(name: string): Promise<boolean> {
  return (await admin.query("select 1 from pg_roles where rolname = $1", [name])).rows.length === 1;
}

test.before(async () => {
  db = await startPostgres();
  admin = new pg.Pool({ connectionString: db.url, max: 2 });
  emu = await startVaultEmulator({ expirationLagMs: LAG_MS });
  const root = client(emu.rootToken);
  await root.write("database/config/pg", {
    plugin_name: "postgresql-database-plugin",
    connection_url: `postgresql://{{username}}:{{password}}@${db.host}:${db.port}/${db.database}?sslmode=disable`,
    username: db.user,
    password: db.password,
    allowed_roles: "app",
  });
  await root.write("database/roles/app", { db_name: "pg", creation_statements: [CREATE], default_ttl: "1h" });
  await root.addPolicy({ name: "dbuser", rules: 'path "database/creds/*" { capabilities = ["read"] }' });
});
test.after(async () => {
  await emu?.close();
  await admin?.end();
  await db?.stop();
});

test("token revoke answers 204 at once; its database user is dropped only on the expiration manager's pass", async () => {
  const pod = (await client(emu.rootToken).tokenCreate({ policies: ["dbuser"] })).auth;
  const creds = await client(pod.client_token).read("database/creds/app");
  await client(emu.rootToken).tokenRevokeAccessor({ accessor: pod.accessor });

  assert.ok(await roleExists(creds.data.username), "the PostgreSQL role outlives the 204");
  const lease = emu.control.leases().find((l) => l.id === creds.lease_id);
  assert.ok(lease?.revokeQueuedAt && !lease.revoked, "queued, not revoked");
  const renew = await failure(client(emu.rootToken).renew({ lease_id: creds.lease_id }));
  assert.equal([renew.status, renew.message], [400, "lease expired"]);

  await emu.control.clock.advance(LAG_MS);
  assert.not.ok(await roleExists(creds.data.username), "dropped by the expiration pass");
  const done = emu.control.leases().find((l) => l.id === creds.lease_id);
  const delay = (done?.revokedAt?.getTime() ?? 0) - (done?.revokeQueuedAt?.getTime() ?? 0);
  assert.ok(delay >= LAG_MS, `measured revocation delay ${delay} ms`);
});

test("sys/leases/revoke is synchronous by default (sync=true) and lazy with sync=false (202)", async () => {
  const root = client(emu.rootToken);
  const a = await root.read("database/creds/app");
  await root.revoke({ lease_id: a.lease_id });
  assert.not.ok(await roleExists(a.data.username), "dropped before the 204");

  const b = await root.read("database/creds/app");
  const lazy = await failure(root.write("sys/leases/revoke", { lease_id: b.lease_id, sync: false }));
  assert.is(lazy.status, 202);
  assert.ok(await roleExists(b.data.username), "sync=false only queues the revocation");
  await emu.control.clock.advance(LAG_MS);
  assert.not.ok(await roleExists(b.data.username));
});

test.run();
