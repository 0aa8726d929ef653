// SQLite stores of passkeys and WebAuthn ceremony states (src/passkeys; the tables come with
// the passkeys migration of sqlite-database.ts).
import type { DatabaseSync } from 'node:sqlite';
import { num, type Row, str } from './columns.ts';
import type { CeremonyStore, PasskeyRecord, PasskeyStore } from './passkey-types.ts';

/** The most passkeys one account may hold (checked when registering one). */
export const MAX_PASSKEYS_PER_ACCOUNT = 20;

export function passkeyFromRow(row: Row): PasskeyRecord {
  const key = row.public_key;
  if (!(key instanceof Uint8Array)) throw new Error('column public_key is not bytes');
  const transports: unknown = JSON.parse(str(row, 'transports'));
  return {
    id: str(row, 'id'),
    email: str(row, 'email'),
    publicKey: new Uint8Array(key),
    counter: num(row, 'counter'),
    transports: Array.isArray(transports)
      ? transports.filter((t): t is string => typeof t === 'string')
      : [],
    createdAt: num(row, 'created_at'),
  };
}

const COLUMNS = 'id, email, public_key, counter, transports, created_at';

export function createSqlitePasskeyStore(db: DatabaseSync): PasskeyStore {
  const insert = db.prepare(
    `INSERT INTO passkeys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  );
  const find = db.prepare(`SELECT ${COLUMNS} FROM passkeys WHERE id = ?`);
  const list = db.prepare(
    `SELECT ${COLUMNS} FROM passkeys WHERE email = ? ORDER BY created_at, id LIMIT ?`,
  );
  const update = db.prepare('UPDATE passkeys SET counter = ? WHERE id = ? AND counter = ?');
  const remove = db.prepare('DELETE FROM passkeys WHERE email = ? AND id = ?');
  const removeForAccount = db.prepare('DELETE FROM passkeys WHERE email = ?');
  return {
    async insert(r) {
      const result = insert.run(
        r.id,
        r.email,
        r.publicKey,
        r.counter,
        JSON.stringify(r.transports),
        r.createdAt,
      );
      return Number(result.changes) > 0;
    },
    async find(id) {
      const row = find.get(id);
      return row ? passkeyFromRow(row) : undefined;
    },
    async listForAccount(email) {
      return list.all(email, MAX_PASSKEYS_PER_ACCOUNT).map(passkeyFromRow);
    },
    async updateCounter(id, from, to) {
      return Number(update.run(to, id, from).changes) > 0;
    },
    async remove(email, id) {
      return Number(remove.run(email, id).changes) > 0;
    },
    async removeForAccount(email) {
      return Number(removeForAccount.run(email).changes);
    },
  };
}

export function createSqliteCeremonyStore(db: DatabaseSync): CeremonyStore {
  const put = db.prepare(
    `INSERT INTO webauthn_ceremonies (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
  );
  const take = db.prepare(
    'DELETE FROM webauthn_ceremonies WHERE key = ? RETURNING value, expires_at',
  );
  const removeExpired = db.prepare('DELETE FROM webauthn_ceremonies WHERE expires_at <= ?');
  return {
    async put(key, value, expiresAt) {
      put.run(key, value, expiresAt);
    },
    async take(key, now) {
      const row = take.get(key);
      if (!row || num(row, 'expires_at') <= now) return undefined;
      return str(row, 'value');
    },
    async removeExpired(now) {
      return Number(removeExpired.run(now).changes);
    },
  };
}
