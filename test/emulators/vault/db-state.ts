/** State of the database secrets engine: connections (one pg pool each) and roles. */
import pg from "pg";

export interface DbConnection {
  name: string;
  plugin_name: string;
  connection_url: string;
  username: string;
  password: string;
  allowed_roles: string[];
  verify_connection: boolean;
  pool: pg.Pool;
}

export interface DbRole {
  name: string;
  db_name: string;
  default_ttl: number;
  max_ttl: number;
  creation_statements: string[];
  revocation_statements: string[];
  renew_statements: string[];
  rollback_statements: string[];
}

export class DatabaseState {
  readonly connections = new Map<string, DbConnection>();
  readonly roles = new Map<string, DbRole>();

  async closeAll(): Promise<void> {
    const pools = [...this.connections.values()].map((c) => c.pool);
    this.connections.clear();
    await Promise.allSettled(pools.map((p) => p.end()));
  }
}

/** One pool per connection; `{{username}}`/`{{password}}` are substituted into the URL. */
export function openPool(connectionUrl: string, username: string, password: string): pg.Pool {
  const url = connectionUrl
    .replaceAll("{{username}}", encodeURIComponent(username))
    .replaceAll("{{password}}", encodeURIComponent(password));
  const pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 5_000, connectionTimeoutMillis: 5_000 });
  // An idle client losing its server (e.g. PostgreSQL stopped) must not crash the emulator.
  pool.on("error", () => undefined);
  return pool;
}
