// Opens a PostgreSQL pool for the provider's lasting records and brings the schema up to
// date with versioned migrations, each applied once in a transaction and recorded in
// schema_migrations. An advisory lock lets several instances start at the same time.
import pg from 'pg';

const migrations: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE accounts (
        email TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL
      );
      CREATE INDEX sessions_email ON sessions (email);
      CREATE TABLE associations (
        handle TEXT PRIMARY KEY,
        secret BYTEA NOT NULL,
        site TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        invalidated BOOLEAN NOT NULL DEFAULT FALSE
      );
      CREATE INDEX associations_expires ON associations (expires_at);
      CREATE TABLE used_assertions (
        jti TEXT PRIMARY KEY,
        keep_until BIGINT NOT NULL
      );
      CREATE INDEX used_assertions_keep ON used_assertions (keep_until);
      CREATE TABLE issued_assertions (
        id BIGSERIAL PRIMARY KEY,
        email TEXT NOT NULL,
        site_origin TEXT NOT NULL,
        issued_at BIGINT NOT NULL
      );
      CREATE INDEX issued_assertions_email ON issued_assertions (email, issued_at);
    `,
  },
  {
    // The web flow's consent step (protocol-spec.md#web-flow).
    version: 2,
    sql: `
      CREATE TABLE consents (
        email TEXT NOT NULL,
        site_origin TEXT NOT NULL,
        granted_at BIGINT NOT NULL,
        PRIMARY KEY (email, site_origin)
      );
    `,
  },
  {
    // Passkeys, the built-in accounts' second factor, and the state of their WebAuthn
    // ceremonies (src/passkeys).
    version: 3,
    sql: `
      CREATE TABLE passkeys (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        public_key BYTEA NOT NULL,
        counter BIGINT NOT NULL,
        transports TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX passkeys_email ON passkeys (email);
      CREATE TABLE webauthn_ceremonies (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
    `,
  },
];

export interface PostgresOptions {
  /** Schema of the provider's tables; default 'bsso'. Created if missing. */
  schema?: string;
  /** Pool size; default 10. */
  max?: number;
  /** How long a query waits for a connection before failing; default 5000 ms. */
  connectionTimeoutMs?: number;
  /** Called with connection errors of idle clients (the pool replaces them). */
  onError?: (err: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A pool whose connections use `schema`; the schema is migrated before it is returned. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<pg.Pool> {
  const schema = options.schema ?? 'bsso';
  if (!SCHEMA_NAME.test(schema)) throw new TypeError('schema must be a lower-case SQL name.');
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    options: `-c search_path=${schema}`,
  });
  // An idle client losing its connection must not crash the process; the pool drops it.
  pool.on('error', (err) => options.onError?.(err));
  try {
    await migrate(pool, schema);
    return pool;
  } catch (err) {
    await pool.end();
    throw new Error(`PostgreSQL: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`bsso-migrate:${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const { rows } = await client.query<{ v: number | null }>(
        'SELECT MAX(version) AS v FROM schema_migrations',
      );
      const current = rows[0]?.v ?? 0;
      const latest = migrations.at(-1)?.version ?? 0;
      if (current > latest) {
        throw new Error(
          `the database schema (v${current}) is newer than this provider (v${latest}).`,
        );
      }
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query(
            'INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)',
            [m.version, Date.now()],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`bsso-migrate:${schema}`]);
    }
  } finally {
    client.release();
  }
}

/** Drops a schema and everything in it (tests clean up their per-run schema with this). */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new TypeError('schema must be a lower-case SQL name.');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
