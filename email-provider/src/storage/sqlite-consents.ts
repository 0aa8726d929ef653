// SQLite store of the web flow's consent records, one per account and site origin
// (protocol-spec.md#web-flow; the table comes with migration 2).
import type { DatabaseSync } from 'node:sqlite';
import { num, type Row, str } from './columns.ts';
import type { ConsentRecord, ConsentStore } from './types.ts';

/** The most agreements the account page lists. */
const LIST_LIMIT = 200;

function toRecord(row: Row): ConsentRecord {
  return {
    email: str(row, 'email'),
    siteOrigin: str(row, 'site_origin'),
    grantedAt: num(row, 'granted_at'),
  };
}

export function createSqliteConsentStore(db: DatabaseSync): ConsentStore {
  const grant = db.prepare(
    `INSERT INTO consents (email, site_origin, granted_at) VALUES (?, ?, ?)
       ON CONFLICT (email, site_origin) DO UPDATE SET granted_at = excluded.granted_at`,
  );
  const has = db.prepare('SELECT 1 AS one FROM consents WHERE email = ? AND site_origin = ?');
  const list = db.prepare(
    `SELECT email, site_origin, granted_at FROM consents WHERE email = ?
       ORDER BY granted_at DESC, site_origin LIMIT ?`,
  );
  const revoke = db.prepare('DELETE FROM consents WHERE email = ? AND site_origin = ?');
  const removeForAccount = db.prepare('DELETE FROM consents WHERE email = ?');
  return {
    async grant(r) {
      grant.run(r.email, r.siteOrigin, r.grantedAt);
    },
    async has(email, siteOrigin) {
      return has.get(email, siteOrigin) !== undefined;
    },
    async list(email) {
      return list.all(email, LIST_LIMIT).map(toRecord);
    },
    async revoke(email, siteOrigin) {
      return Number(revoke.run(email, siteOrigin).changes) > 0;
    },
    async removeForAccount(email) {
      return Number(removeForAccount.run(email).changes);
    },
  };
}
