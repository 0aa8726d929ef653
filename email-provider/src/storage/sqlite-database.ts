// Opens the provider's SQLite database and brings its schema up to date with versioned
// migrations, each applied once inside a transaction and recorded in schema_migrations.
import { chmodSync, closeSync, openSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

const migrations: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE accounts (
        email TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX sessions_email ON sessions (email);
      CREATE TABLE associations (
        handle TEXT PRIMARY KEY,
        secret BLOB NOT NULL,
        site TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        invalidated INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX associations_expires ON associations (expires_at);
      CREATE TABLE used_assertions (
        jti TEXT PRIMARY KEY,
        keep_until INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX used_assertions_keep ON used_assertions (keep_until);
      CREATE TABLE issued_assertions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        email TEXT NOT NULL,
        site_origin TEXT NOT NULL,
        issued_at INTEGER NOT NULL
      ) STRICT;
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
        granted_at INTEGER NOT NULL,
        PRIMARY KEY (email, site_origin)
      ) STRICT;
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
        public_key BLOB NOT NULL,
        counter INTEGER NOT NULL,
        transports TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX passkeys_email ON passkeys (email);
      CREATE TABLE webauthn_ceremonies (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
    `,
  },
];

export function openSqliteDatabase(path: string): DatabaseSync {
  // Password hashes and association keys live here: owner-only, and SQLite gives its
  // -wal and -shm files the same mode.
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA journal_mode = WAL');
    // WAL with NORMAL survives any process crash or restart; only a power loss may undo the
    // last moments. FULL waited for an fsync on every issued assertion: more than half of the
    // provider's time per assertion (bench/README.md).
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: DatabaseSync): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT',
  );
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get();
  const current = typeof row?.v === 'number' ? row.v : 0;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(`The database schema (v${current}) is newer than this provider (v${latest}).`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
        m.version,
        Date.now(),
      );
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
}
