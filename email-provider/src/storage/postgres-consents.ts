// PostgreSQL store of the web flow's consent records, one per account and site origin
// (protocol-spec.md#web-flow; the table comes with migration 2).
import type pg from 'pg';
import { num, type Row, str } from './columns.ts';
import type { ConsentStore } from './types.ts';

/** The most agreements the account page lists. */
const LIST_LIMIT = 200;

export function createPostgresConsentStore(pool: pg.Pool): ConsentStore {
  return {
    async grant(r) {
      await pool.query(
        `INSERT INTO consents (email, site_origin, granted_at) VALUES ($1, $2, $3)
           ON CONFLICT (email, site_origin) DO UPDATE SET granted_at = EXCLUDED.granted_at`,
        [r.email, r.siteOrigin, r.grantedAt],
      );
    },
    async has(email, siteOrigin) {
      const { rowCount } = await pool.query(
        'SELECT 1 FROM consents WHERE email = $1 AND site_origin = $2',
        [email, siteOrigin],
      );
      return (rowCount ?? 0) > 0;
    },
    async list(email) {
      const { rows } = await pool.query(
        `SELECT email, site_origin, granted_at FROM consents WHERE email = $1
           ORDER BY granted_at DESC, site_origin LIMIT $2`,
        [email, LIST_LIMIT],
      );
      return rows.map((row: Row) => ({
        email: str(row, 'email'),
        siteOrigin: str(row, 'site_origin'),
        grantedAt: num(row, 'granted_at'),
      }));
    },
    async revoke(email, siteOrigin) {
      const result = await pool.query(
        'DELETE FROM consents WHERE email = $1 AND site_origin = $2',
        [email, siteOrigin],
      );
      return (result.rowCount ?? 0) > 0;
    },
    async removeForAccount(email) {
      const result = await pool.query('DELETE FROM consents WHERE email = $1', [email]);
      return result.rowCount ?? 0;
    },
  };
}
