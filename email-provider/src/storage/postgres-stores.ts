// PostgreSQL implementations of the store contracts in types.ts, for providers running on
// several machines: accounts, associations and the issued-assertion log must last and be
// shared. Sessions and used assertion ids work here too (Redis is the lighter home).
import type pg from 'pg';
import { num, type Row, str } from './columns.ts';
import { createPostgresConsentStore } from './postgres-consents.ts';
import { createPostgresCeremonyStore, createPostgresPasskeyStore } from './postgres-passkeys.ts';
import type {
  AccountRecord,
  AccountStore,
  AssociationStore,
  IssuedAssertionLog,
  SessionRecord,
  SessionStore,
  Stores,
  UsedAssertionStore,
} from './types.ts';

function count(result: pg.QueryResult): number {
  return result.rowCount ?? 0;
}

function createPostgresAccountStore(pool: pg.Pool): AccountStore {
  const toRecord = (row: Row): AccountRecord => ({
    email: str(row, 'email'),
    passwordHash: str(row, 'password_hash'),
    createdAt: num(row, 'created_at'),
    updatedAt: num(row, 'updated_at'),
  });
  return {
    async insert(r) {
      const result = await pool.query(
        `INSERT INTO accounts (email, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING`,
        [r.email, r.passwordHash, r.createdAt, r.updatedAt],
      );
      return count(result) === 1;
    },
    async find(email) {
      const { rows } = await pool.query('SELECT * FROM accounts WHERE email = $1', [email]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },
    async updatePassword(email, hash, at) {
      const result = await pool.query(
        'UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE email = $3',
        [hash, at, email],
      );
      return count(result) === 1;
    },
    async remove(email) {
      return count(await pool.query('DELETE FROM accounts WHERE email = $1', [email])) === 1;
    },
    async list() {
      const { rows } = await pool.query('SELECT email FROM accounts ORDER BY email');
      return rows.map((row: Row) => str(row, 'email'));
    },
  };
}

function createPostgresSessionStore(pool: pg.Pool): SessionStore {
  const toRecord = (row: Row): SessionRecord => ({
    idHash: str(row, 'id_hash'),
    email: str(row, 'email'),
    createdAt: num(row, 'created_at'),
    lastSeenAt: num(row, 'last_seen_at'),
  });
  return {
    async insert(r) {
      await pool.query(
        'INSERT INTO sessions (id_hash, email, created_at, last_seen_at) VALUES ($1, $2, $3, $4)',
        [r.idHash, r.email, r.createdAt, r.lastSeenAt],
      );
    },
    async find(idHash) {
      const { rows } = await pool.query('SELECT * FROM sessions WHERE id_hash = $1', [idHash]);
      const row: Row | undefined = rows[0];
      return row ? toRecord(row) : undefined;
    },
    async listForAccount(email) {
      const { rows } = await pool.query(
        'SELECT * FROM sessions WHERE email = $1 ORDER BY last_seen_at DESC, id_hash',
        [email],
      );
      return rows.map(toRecord);
    },
    async touch(idHash, at) {
      await pool.query('UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2', [at, idHash]);
    },
    async remove(idHash) {
      await pool.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    },
    async removeForAccount(email) {
      return count(await pool.query('DELETE FROM sessions WHERE email = $1', [email]));
    },
    async removeExpired(idleCutoff, absoluteCutoff) {
      return count(
        await pool.query('DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2', [
          idleCutoff,
          absoluteCutoff,
        ]),
      );
    },
  };
}

function createPostgresAssociationStore(pool: pg.Pool): AssociationStore {
  return {
    async insert(r) {
      await pool.query(
        `INSERT INTO associations (handle, secret, site, created_at, expires_at, invalidated)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [r.handle, Buffer.from(r.secret), r.site, r.createdAt, r.expiresAt, r.invalidated],
      );
    },
    async find(handle) {
      const { rows } = await pool.query('SELECT * FROM associations WHERE handle = $1', [handle]);
      const row: Row | undefined = rows[0];
      if (!row) return undefined;
      const secret = row.secret;
      if (!(secret instanceof Uint8Array)) throw new Error('column secret is not bytea');
      return {
        handle: str(row, 'handle'),
        secret: new Uint8Array(secret),
        site: str(row, 'site'),
        createdAt: num(row, 'created_at'),
        expiresAt: num(row, 'expires_at'),
        invalidated: row.invalidated === true,
      };
    },
    async invalidate(handle) {
      const result = await pool.query(
        'UPDATE associations SET invalidated = TRUE WHERE handle = $1 AND NOT invalidated',
        [handle],
      );
      return count(result) === 1;
    },
    async removeExpired(now) {
      return count(await pool.query('DELETE FROM associations WHERE expires_at <= $1', [now]));
    },
  };
}

function createPostgresUsedAssertionStore(pool: pg.Pool): UsedAssertionStore {
  return {
    // The primary key makes the insert the atomic test-and-set, across instances too.
    async markUsed(jti, keepUntil) {
      const result = await pool.query(
        'INSERT INTO used_assertions (jti, keep_until) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING',
        [jti, keepUntil],
      );
      return count(result) === 1;
    },
    async removeExpired(now) {
      return count(await pool.query('DELETE FROM used_assertions WHERE keep_until <= $1', [now]));
    },
  };
}

function createPostgresIssuedAssertionLog(pool: pg.Pool): IssuedAssertionLog {
  return {
    async record(e) {
      await pool.query(
        'INSERT INTO issued_assertions (email, site_origin, issued_at) VALUES ($1, $2, $3)',
        [e.email, e.siteOrigin, e.issuedAt],
      );
    },
    async recordMany(entries) {
      if (entries.length === 0) return;
      // One statement, so one implicit transaction: all rows or none.
      await pool.query(
        `INSERT INTO issued_assertions (email, site_origin, issued_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])`,
        [
          entries.map((e) => e.email),
          entries.map((e) => e.siteOrigin),
          entries.map((e) => e.issuedAt),
        ],
      );
    },
    async recentSites(email, since, limit) {
      const { rows } = await pool.query(
        `SELECT site_origin, MAX(issued_at) AS last_issued_at, COUNT(*) AS n
           FROM issued_assertions WHERE email = $1 AND issued_at >= $2
           GROUP BY site_origin ORDER BY last_issued_at DESC LIMIT $3`,
        [email, since, limit],
      );
      return rows.map((row: Row) => ({
        siteOrigin: str(row, 'site_origin'),
        lastIssuedAt: num(row, 'last_issued_at'),
        count: num(row, 'n'),
      }));
    },
    async removeForAccount(email) {
      return count(await pool.query('DELETE FROM issued_assertions WHERE email = $1', [email]));
    },
    async removeOlderThan(cutoff) {
      return count(
        await pool.query('DELETE FROM issued_assertions WHERE issued_at < $1', [cutoff]),
      );
    },
  };
}

/** All stores over one pool; `close` ends the pool. */
export function createPostgresStores(pool: pg.Pool): Stores {
  let closed = false;
  return {
    accounts: createPostgresAccountStore(pool),
    sessions: createPostgresSessionStore(pool),
    associations: createPostgresAssociationStore(pool),
    usedAssertions: createPostgresUsedAssertionStore(pool),
    issuedLog: createPostgresIssuedAssertionLog(pool),
    consents: createPostgresConsentStore(pool),
    passkeys: createPostgresPasskeyStore(pool),
    ceremonies: createPostgresCeremonyStore(pool),
    async check() {
      try {
        await pool.query('SELECT 1');
        return [{ store: 'postgresql', ok: true }];
      } catch {
        return [{ store: 'postgresql', ok: false }];
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
