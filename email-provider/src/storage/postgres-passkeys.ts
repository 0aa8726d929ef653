// PostgreSQL stores of passkeys and WebAuthn ceremony states (src/passkeys; the tables come
// with the passkeys migration of postgres-database.ts).
import type pg from 'pg';
import { num, type Row, str } from './columns.ts';
import type { CeremonyStore, PasskeyStore } from './passkey-types.ts';
import { passkeyFromRow as fromRow, MAX_PASSKEYS_PER_ACCOUNT } from './sqlite-passkeys.ts';

const COLUMNS = 'id, email, public_key, counter, transports, created_at';

export function createPostgresPasskeyStore(pool: pg.Pool): PasskeyStore {
  return {
    async insert(r) {
      const result = await pool.query(
        `INSERT INTO passkeys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO NOTHING`,
        [
          r.id,
          r.email,
          Buffer.from(r.publicKey),
          r.counter,
          JSON.stringify(r.transports),
          r.createdAt,
        ],
      );
      return (result.rowCount ?? 0) > 0;
    },
    async find(id) {
      const { rows } = await pool.query(`SELECT ${COLUMNS} FROM passkeys WHERE id = $1`, [id]);
      const row = rows[0] as Row | undefined;
      return row ? fromRow(row) : undefined;
    },
    async listForAccount(email) {
      const { rows } = await pool.query(
        `SELECT ${COLUMNS} FROM passkeys WHERE email = $1 ORDER BY created_at, id LIMIT $2`,
        [email, MAX_PASSKEYS_PER_ACCOUNT],
      );
      return rows.map((row: Row) => fromRow(row));
    },
    async updateCounter(id, from, to) {
      const result = await pool.query(
        'UPDATE passkeys SET counter = $1 WHERE id = $2 AND counter = $3',
        [to, id, from],
      );
      return (result.rowCount ?? 0) > 0;
    },
    async remove(email, id) {
      const result = await pool.query('DELETE FROM passkeys WHERE email = $1 AND id = $2', [
        email,
        id,
      ]);
      return (result.rowCount ?? 0) > 0;
    },
    async removeForAccount(email) {
      const result = await pool.query('DELETE FROM passkeys WHERE email = $1', [email]);
      return result.rowCount ?? 0;
    },
  };
}

export function createPostgresCeremonyStore(pool: pg.Pool): CeremonyStore {
  return {
    async put(key, value, expiresAt) {
      await pool.query(
        `INSERT INTO webauthn_ceremonies (key, value, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
        [key, value, expiresAt],
      );
    },
    async take(key, now) {
      const { rows } = await pool.query(
        'DELETE FROM webauthn_ceremonies WHERE key = $1 RETURNING value, expires_at',
        [key],
      );
      const row = rows[0] as Row | undefined;
      if (!row || num(row, 'expires_at') <= now) return undefined;
      return str(row, 'value');
    },
    async removeExpired(now) {
      const result = await pool.query('DELETE FROM webauthn_ceremonies WHERE expires_at <= $1', [
        now,
      ]);
      return result.rowCount ?? 0;
    },
  };
}
