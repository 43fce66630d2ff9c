/** The `database/` mount (postgresql-database-plugin): config, roles, creds with real PG roles. */
import type { Core } from "./core-types.ts";
import { openPool, type DbConnection, type DbRole } from "./db-state.ts";
import { defaultRevoke, renderQueries, runInTransaction } from "./db-sql.ts";
import { generatePassword, generateUsername } from "./db-names.ts";
import { badRequest, emptyError, VaultHttpError, wrapped } from "./errors.ts";
import { emptyReply, logical } from "./envelope.ts";
import { optBool, optDuration, optString, optStrings } from "./fields.ts";
import { pgExpiration, SYSTEM_DEFAULT_TTL, SYSTEM_MAX_TTL, ttlCappedWarning } from "./durations.ts";
import { globMatch } from "./k8s-state.ts";
import { leaseOwner } from "./leases.ts";
import type { Data, Reply, Route, VaultRequest } from "./types.ts";

const MOUNT = "database";
const PLUGIN = "postgresql-database-plugin";
const EXPIRY_BUFFER_MS = 5_000;

/** Statement lists are TypeStringSlice: a single string stays one entry (SQL has commas). */
function statements(d: Data, key: string): string[] | undefined {
  const v = d[key];
  if (typeof v === "string") return v.trim() === "" ? [] : [v];
  return optStrings(d, key);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function writeConfig(core: Core, req: VaultRequest, name: string): Promise<Reply> {
  const d = req.data;
  const old = core.database.connections.get(name);
  const plugin = optString(d, "plugin_name") ?? old?.plugin_name ?? "";
  if (plugin === "") throw badRequest("empty plugin name");
  if (plugin !== PLUGIN)
    throw badRequest(`error creating database object: invalid database version: plugin "${plugin}" not found`);
  const url = optString(d, "connection_url") ?? old?.connection_url ?? "";
  if (url === "") throw badRequest("error creating database object: connection_url cannot be empty");
  const conn: DbConnection = {
    name,
    plugin_name: plugin,
    connection_url: url,
    username: optString(d, "username") ?? old?.username ?? "",
    password: optString(d, "password") ?? old?.password ?? "",
    allowed_roles: optStrings(d, "allowed_roles") ?? old?.allowed_roles ?? [],
    verify_connection: optBool(d, "verify_connection") ?? true,
    pool: openPool(
      url,
      optString(d, "username") ?? old?.username ?? "",
      optString(d, "password") ?? old?.password ?? "",
    ),
  };
  if (conn.verify_connection) {
    try {
      await conn.pool.query("SELECT 1");
    } catch (err) {
      await conn.pool.end().catch(() => undefined);
      throw badRequest(`error creating database object: error verifying - ping: ${errText(err)}`);
    }
  }
  core.database.connections.set(name, conn);
  if (old) await old.pool.end().catch(() => undefined);
  return emptyReply();
}

function writeRole(core: Core, req: VaultRequest, name: string): Reply {
  const d = req.data;
  const old = core.database.roles.get(name);
  const role: DbRole = {
    name,
    db_name: optString(d, "db_name") ?? old?.db_name ?? "",
    default_ttl: optDuration(d, "default_ttl") ?? old?.default_ttl ?? 0,
    max_ttl: optDuration(d, "max_ttl") ?? old?.max_ttl ?? 0,
    creation_statements: statements(d, "creation_statements") ?? old?.creation_statements ?? [],
    revocation_statements: statements(d, "revocation_statements") ?? old?.revocation_statements ?? [],
    renew_statements: statements(d, "renew_statements") ?? old?.renew_statements ?? [],
    rollback_statements: statements(d, "rollback_statements") ?? old?.rollback_statements ?? [],
  };
  if (role.db_name === "") throw badRequest("database name is required");
  if (role.max_ttl > 0 && role.default_ttl > role.max_ttl) throw badRequest("ttl cannot be greater than max_ttl");
  core.database.roles.set(name, role);
  return emptyReply();
}

async function creds(core: Core, req: VaultRequest, roleName: string): Promise<Reply> {
  const token = req.token;
  if (!token) throw new VaultHttpError(400, "missing client token");
  const role = core.database.roles.get(roleName);
  if (!role) throw badRequest(`unknown role: ${roleName}`);
  const conn = core.database.connections.get(role.db_name);
  if (!conn) throw wrapped(500, `failed to get connection for "${role.db_name}": no such database config`);
  if (!globMatch(conn.allowed_roles, roleName)) throw wrapped(500, `"${roleName}" is not an allowed role`);
  if (role.creation_statements.length === 0) throw wrapped(500, "empty creation statements");
  const now = core.clock.now();
  const defaultTtl = role.default_ttl || SYSTEM_DEFAULT_TTL;
  const maxTtl = role.max_ttl || SYSTEM_MAX_TTL;
  const warnings: string[] = [];
  let ttl = defaultTtl;
  if (ttl > maxTtl) {
    warnings.push(ttlCappedWarning(ttl, maxTtl));
    ttl = maxTtl;
  }
  const username = generateUsername(token.displayName, roleName, now);
  const password = generatePassword();
  const vars = { name: username, username, password, expiration: pgExpiration(now + ttl * 1000 + EXPIRY_BUFFER_MS) };
  try {
    await runInTransaction(conn.pool, renderQueries(role.creation_statements, vars));
  } catch (err) {
    throw wrapped(500, `failed to execute query: ${errText(err).replaceAll(password, "[password]")}`);
  }
  const captured = { ...role };
  const current = () => core.database.roles.get(roleName) ?? captured;
  const poolOf = () => core.database.connections.get(current().db_name)?.pool ?? conn.pool;
  const lease = core.leases.register({
    path: req.path,
    ...leaseOwner(token),
    ttl,
    defaultTtl,
    maxTtl,
    renewable: true,
    backend: {
      renew: async (expireAt) => {
        const r = current();
        const stmts =
          r.renew_statements.length > 0 ? r.renew_statements : [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`];
        const exp = pgExpiration(expireAt + EXPIRY_BUFFER_MS);
        await runInTransaction(poolOf(), renderQueries(stmts, { name: username, username, expiration: exp }));
      },
      revoke: async () => {
        const r = current();
        if (r.revocation_statements.length === 0) await defaultRevoke(poolOf(), username);
        else await runInTransaction(poolOf(), renderQueries(r.revocation_statements, { name: username, username }));
      },
    },
  });
  return logical({
    data: { username, password },
    lease: { id: lease.id, duration: Math.round((lease.expireAt - now) / 1000), renewable: true },
    warnings,
    mountType: MOUNT,
  });
}

function listKeys(keys: string[]): Reply {
  if (keys.length === 0) throw emptyError(404);
  return logical({ data: { keys: keys.sort() }, mountType: MOUNT });
}

export function databaseRoutes(core: Core): Route[] {
  const db = core.database;
  return [
    { pattern: /^database\/config\/?$/, ops: { list: () => listKeys([...db.connections.keys()]) } },
    {
      pattern: /^database\/config\/([^/]+)$/,
      ops: {
        update: (req, m) => writeConfig(core, req, m[1] ?? ""),
        read: (_req, m) => {
          const c = db.connections.get(m[1] ?? "");
          if (!c) throw emptyError(404);
          const data = {
            allowed_roles: c.allowed_roles,
            connection_details: { connection_url: c.connection_url, username: c.username },
            password_policy: "",
            plugin_name: c.plugin_name,
            plugin_version: "",
            root_credentials_rotate_statements: [],
            verify_connection: c.verify_connection,
          };
          return logical({ data, mountType: MOUNT });
        },
        delete: async (_req, m) => {
          const c = db.connections.get(m[1] ?? "");
          db.connections.delete(m[1] ?? "");
          if (c) await c.pool.end().catch(() => undefined);
          return emptyReply();
        },
      },
    },
    { pattern: /^database\/roles\/?$/, ops: { list: () => listKeys([...db.roles.keys()]) } },
    {
      pattern: /^database\/roles\/([^/]+)$/,
      ops: {
        update: (req, m) => writeRole(core, req, m[1] ?? ""),
        read: (_req, m) => {
          const r = db.roles.get(m[1] ?? "");
          if (!r) throw emptyError(404);
          const { name: _name, ...rest } = r;
          return logical({ data: { ...rest, credential_type: "password", credential_config: null }, mountType: MOUNT });
        },
        delete: (_req, m) => (db.roles.delete(m[1] ?? ""), emptyReply()),
      },
    },
    { pattern: /^database\/creds\/([^/]+)$/, ops: { read: (req, m) => creds(core, req, m[1] ?? "") } },
  ];
}
