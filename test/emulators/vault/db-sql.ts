/** How Vault's PostgreSQL plugin turns statements into queries, plus its default revocation. */
import type pg from "pg";

/** Statements may be base64-encoded; decode those that are. */
function decodeStatement(stmt: string): string {
  const t = stmt.trim();
  if (t.length >= 8 && t.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(t)) {
    const text = Buffer.from(t, "base64").toString("utf8");
    if (!text.includes("\uFFFD") && /^[\x09\x0a\x0d\x20-\x7e\u00a0-\uffff]*$/.test(text)) return text;
  }
  return stmt;
}

/** A statement containing a standalone END outside quotes runs whole; otherwise split on `;`. */
function splitStatement(stmt: string): string[] {
  const unquoted = stmt.replace(/'(?:[^']|'')*'/g, "''").replace(/"(?:[^"]|"")*"/g, '""');
  if (/\bEND\b/.test(unquoted)) return [stmt];
  return stmt.split(";");
}

export function renderQueries(statements: string[], vars: Record<string, string>): string[] {
  const out: string[] = [];
  for (const raw of statements) {
    for (const piece of splitStatement(decodeStatement(raw))) {
      let q = piece.trim();
      if (q === "") continue;
      for (const [k, v] of Object.entries(vars)) q = q.replaceAll(`{{${k}}}`, v);
      out.push(q);
    }
  }
  return out;
}

export async function runInTransaction(pool: pg.Pool, queries: string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    for (const q of queries) await client.query(q);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Vault's defaultDeleteUser: revoke grants (errors collected), then DROP ROLE IF EXISTS. */
export async function defaultRevoke(pool: pg.Pool, username: string): Promise<void> {
  const client = await pool.connect();
  try {
    const exists = await client.query<{ exists: boolean }>(
      "SELECT exists (SELECT rolname FROM pg_roles WHERE rolname=$1)",
      [username],
    );
    if (!exists.rows[0]?.exists) return;
    const u = client.escapeIdentifier(username);
    const schemas = await client.query<{ table_schema: string }>(
      "SELECT DISTINCT table_schema FROM information_schema.role_column_grants WHERE grantee=$1",
      [username],
    );
    const db = await client.query<{ current_database: string }>("SELECT current_database()");
    const stmts: string[] = [];
    for (const row of schemas.rows) {
      const s = client.escapeIdentifier(row.table_schema);
      stmts.push(
        `REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${s} FROM ${u}`,
        `REVOKE USAGE ON SCHEMA ${s} FROM ${u}`,
      );
    }
    stmts.push(
      `REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM ${u}`,
      `REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM ${u}`,
      `REVOKE USAGE ON SCHEMA public FROM ${u}`,
      `REVOKE CONNECT ON DATABASE ${client.escapeIdentifier(db.rows[0]?.current_database ?? "postgres")} FROM ${u}`,
    );
    const errors: string[] = [];
    for (const q of stmts) await client.query(q).catch((err: Error) => errors.push(err.message));
    await client.query(`DROP ROLE IF EXISTS ${u}`);
  } finally {
    client.release();
  }
}
