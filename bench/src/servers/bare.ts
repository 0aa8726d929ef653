// The baselines of the throughput benchmarks: bare Express endpoints doing only what any
// site or provider does around BSSO (read the form or JSON, issue or look up a session).
import { createHash, randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import express, { type Express } from 'express';

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** POST /login: reads the form, issues a session cookie, redirects. No verification. */
export function createBareSite(): Express {
  const app = express();
  app.disable('x-powered-by');
  const sessions = new Map<string, { email: string; expiresAt: number }>();
  app.post('/login', express.urlencoded({ extended: false, limit: '8kb' }), (req, res) => {
    if (typeof req.body?.assertion !== 'string') {
      res.status(400).json({ error: 'invalid_request' });
      return;
    }
    const id = randomBytes(32).toString('base64url');
    sessions.set(id, { email: 'alice@mail.test', expiresAt: Date.now() + 8 * 3600_000 });
    res.append('Set-Cookie', `__Host-session=${id}; Path=/; Secure; HttpOnly; SameSite=Lax`);
    res.set('Cache-Control', 'no-store').redirect(303, '/');
  });
  return app;
}

export const BARE_SESSION_COOKIE = 'sid';

/**
 * POST /bare: reads the JSON body and looks the session up, hashed, in SQLite (the provider's
 * own store engine), then answers the address. Nothing else.
 */
export function createBareProvider(dbPath: string): {
  app: Express;
  addSession(id: string, email: string): void;
} {
  const db = new DatabaseSync(dbPath);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS sessions (id_hash TEXT PRIMARY KEY, email TEXT NOT NULL) STRICT',
  );
  const find = db.prepare('SELECT email FROM sessions WHERE id_hash = ?');
  const insert = db.prepare('INSERT INTO sessions (id_hash, email) VALUES (?, ?)');
  const hash = (id: string) => createHash('sha256').update(id).digest('base64url');
  const app = express();
  app.disable('x-powered-by');
  app.post('/bare', express.json({ limit: '8kb' }), (req, res) => {
    const id = cookie(req.headers.cookie, BARE_SESSION_COOKIE);
    const row = id ? find.get(hash(id)) : undefined;
    if (!row || typeof req.body?.email !== 'string') {
      res.status(401).json({ error: 'login_required' });
      return;
    }
    res.set('Cache-Control', 'no-store').json({ email: row.email });
  });
  return { app, addSession: (id, email) => insert.run(hash(id), email) };
}
