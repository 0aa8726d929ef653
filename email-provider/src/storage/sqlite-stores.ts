// SQLite implementations of the store contracts in types.ts (node:sqlite, synchronous under
// the hood; the async signatures keep the contracts open for networked stores).
import type { DatabaseSync } from 'node:sqlite';
import { num, type Row, str } from './columns.ts';
import { createSqliteConsentStore } from './sqlite-consents.ts';
import { createSqliteCeremonyStore, createSqlitePasskeyStore } from './sqlite-passkeys.ts';
import type {
  AccountRecord,
  AccountStore,
  AssociationRecord,
  AssociationStore,
  IssuedAssertionLog,
  SessionRecord,
  SessionStore,
  Stores,
  UsedAssertionStore,
} from './types.ts';

function bytes(row: Row, name: string): Uint8Array {
  const v = row[name];
  if (!(v instanceof Uint8Array)) throw new Error(`column ${name} is not a blob`);
  return new Uint8Array(v);
}

function changes(result: { changes: number | bigint }): number {
  return Number(result.changes);
}

function createSqliteAccountStore(db: DatabaseSync): AccountStore {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO accounts (email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?)',
  );
  const find = db.prepare('SELECT * FROM accounts WHERE email = ?');
  const update = db.prepare(
    'UPDATE accounts SET password_hash = ?, updated_at = ? WHERE email = ?',
  );
  const remove = db.prepare('DELETE FROM accounts WHERE email = ?');
  const list = db.prepare('SELECT email FROM accounts ORDER BY email');
  const toRecord = (row: Row): AccountRecord => ({
    email: str(row, 'email'),
    passwordHash: str(row, 'password_hash'),
    createdAt: num(row, 'created_at'),
    updatedAt: num(row, 'updated_at'),
  });
  return {
    async insert(r) {
      return changes(insert.run(r.email, r.passwordHash, r.createdAt, r.updatedAt)) === 1;
    },
    async find(email) {
      const row = find.get(email);
      return row ? toRecord(row) : undefined;
    },
    async updatePassword(email, hash, at) {
      return changes(update.run(hash, at, email)) === 1;
    },
    async remove(email) {
      return changes(remove.run(email)) === 1;
    },
    async list() {
      return list.all().map((row) => str(row, 'email'));
    },
  };
}

function createSqliteSessionStore(db: DatabaseSync): SessionStore {
  const insert = db.prepare(
    'INSERT INTO sessions (id_hash, email, created_at, last_seen_at) VALUES (?, ?, ?, ?)',
  );
  const find = db.prepare('SELECT * FROM sessions WHERE id_hash = ?');
  const touch = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?');
  const remove = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
  const listForAccount = db.prepare(
    'SELECT * FROM sessions WHERE email = ? ORDER BY last_seen_at DESC, id_hash',
  );
  const removeForAccount = db.prepare('DELETE FROM sessions WHERE email = ?');
  const removeExpired = db.prepare('DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?');
  const toRecord = (row: Row): SessionRecord => ({
    idHash: str(row, 'id_hash'),
    email: str(row, 'email'),
    createdAt: num(row, 'created_at'),
    lastSeenAt: num(row, 'last_seen_at'),
  });
  return {
    async insert(r) {
      insert.run(r.idHash, r.email, r.createdAt, r.lastSeenAt);
    },
    async find(idHash) {
      const row = find.get(idHash);
      return row ? toRecord(row) : undefined;
    },
    async listForAccount(email) {
      return listForAccount.all(email).map(toRecord);
    },
    async touch(idHash, at) {
      touch.run(at, idHash);
    },
    async remove(idHash) {
      remove.run(idHash);
    },
    async removeForAccount(email) {
      return changes(removeForAccount.run(email));
    },
    async removeExpired(idleCutoff, absoluteCutoff) {
      return changes(removeExpired.run(idleCutoff, absoluteCutoff));
    },
  };
}

function createSqliteAssociationStore(db: DatabaseSync): AssociationStore {
  const insert = db.prepare(
    'INSERT INTO associations (handle, secret, site, created_at, expires_at, invalidated) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const find = db.prepare('SELECT * FROM associations WHERE handle = ?');
  const invalidate = db.prepare(
    'UPDATE associations SET invalidated = 1 WHERE handle = ? AND invalidated = 0',
  );
  const removeExpired = db.prepare('DELETE FROM associations WHERE expires_at <= ?');
  return {
    async insert(r) {
      insert.run(r.handle, r.secret, r.site, r.createdAt, r.expiresAt, r.invalidated ? 1 : 0);
    },
    async find(handle) {
      const row = find.get(handle);
      if (!row) return undefined;
      const record: AssociationRecord = {
        handle: str(row, 'handle'),
        secret: bytes(row, 'secret'),
        site: str(row, 'site'),
        createdAt: num(row, 'created_at'),
        expiresAt: num(row, 'expires_at'),
        invalidated: num(row, 'invalidated') !== 0,
      };
      return record;
    },
    async invalidate(handle) {
      return changes(invalidate.run(handle)) === 1;
    },
    async removeExpired(now) {
      return changes(removeExpired.run(now));
    },
  };
}

function createSqliteUsedAssertionStore(db: DatabaseSync): UsedAssertionStore {
  // The primary key makes the insert the atomic test-and-set.
  const mark = db.prepare('INSERT OR IGNORE INTO used_assertions (jti, keep_until) VALUES (?, ?)');
  const removeExpired = db.prepare('DELETE FROM used_assertions WHERE keep_until <= ?');
  return {
    async markUsed(jti, keepUntil) {
      return changes(mark.run(jti, keepUntil)) === 1;
    },
    async removeExpired(now) {
      return changes(removeExpired.run(now));
    },
  };
}

function createSqliteIssuedAssertionLog(db: DatabaseSync): IssuedAssertionLog {
  const record = db.prepare(
    'INSERT INTO issued_assertions (email, site_origin, issued_at) VALUES (?, ?, ?)',
  );
  const recent = db.prepare(
    `SELECT site_origin, MAX(issued_at) AS last_issued_at, COUNT(*) AS n
       FROM issued_assertions WHERE email = ? AND issued_at >= ?
       GROUP BY site_origin ORDER BY last_issued_at DESC LIMIT ?`,
  );
  const removeForAccount = db.prepare('DELETE FROM issued_assertions WHERE email = ?');
  const removeOlder = db.prepare('DELETE FROM issued_assertions WHERE issued_at < ?');
  return {
    async record(e) {
      record.run(e.email, e.siteOrigin, e.issuedAt);
    },
    async recordMany(entries) {
      if (entries.length === 0) return;
      db.exec('BEGIN IMMEDIATE');
      try {
        for (const e of entries) record.run(e.email, e.siteOrigin, e.issuedAt);
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    },
    async recentSites(email, since, limit) {
      return recent.all(email, since, limit).map((row) => ({
        siteOrigin: str(row, 'site_origin'),
        lastIssuedAt: num(row, 'last_issued_at'),
        count: num(row, 'n'),
      }));
    },
    async removeForAccount(email) {
      return changes(removeForAccount.run(email));
    },
    async removeOlderThan(cutoff) {
      return changes(removeOlder.run(cutoff));
    },
  };
}

/** All stores over one SQLite database; `close` closes the database. */
export function createSqliteStores(db: DatabaseSync): Stores {
  return {
    accounts: createSqliteAccountStore(db),
    sessions: createSqliteSessionStore(db),
    associations: createSqliteAssociationStore(db),
    usedAssertions: createSqliteUsedAssertionStore(db),
    issuedLog: createSqliteIssuedAssertionLog(db),
    consents: createSqliteConsentStore(db),
    passkeys: createSqlitePasskeyStore(db),
    ceremonies: createSqliteCeremonyStore(db),
    async check() {
      try {
        db.prepare('SELECT 1').get();
        return [{ store: 'sqlite', ok: true }];
      } catch {
        return [{ store: 'sqlite', ok: false }];
      }
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
