// Broker mode from the environment (main.ts passes process.env once; see ../env.ts):
// BSSO_BROKER=1 turns it on, with
//   BSSO_BROKER_SMTP_HOST (required), BSSO_BROKER_SMTP_PORT (default 587),
//   BSSO_BROKER_SMTP_SECURE=1 (TLS from the first byte, port 465; default STARTTLS, required),
//   BSSO_BROKER_SMTP_USER + BSSO_BROKER_SMTP_PASS_FILE (first line), BSSO_BROKER_SMTP_CA_FILE,
//   BSSO_BROKER_MAIL_FROM (required, e.g. 'Sign-in <no-reply@broker.example>'),
//   BSSO_BROKER_DKIM_DOMAIN + BSSO_BROKER_DKIM_SELECTOR + BSSO_BROKER_DKIM_KEY_FILE (optional),
//   BSSO_BROKER_BRIDGES=gmail.com=https://accounts.google.com,... (optional) with, per bridged
//   domain D (upper case, dots and dashes as _), BSSO_BROKER_BRIDGE_<D>_CLIENT_ID and
//   BSSO_BROKER_BRIDGE_<D>_CLIENT_SECRET_FILE, and BSSO_BROKER_BRIDGE_<D>_CA_FILE optionally.
import { readFileSync } from 'node:fs';
import type { BridgeOptions } from './bridges.ts';
import type { BrokerOptions } from './options.ts';

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function required(env: Env, name: string): string {
  const v = value(env, name);
  if (v === undefined) throw new Error(`${name} is required with BSSO_BROKER=1.`);
  return v;
}

function file(name: string, path: string, firstLineOnly: boolean): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${name}: cannot read ${path}.`);
  }
  const out = firstLineOnly ? (text.split(/\r?\n/)[0] ?? '') : text;
  if (out.trim() === '') throw new Error(`${name}: ${path} is empty.`);
  return out;
}

function optionalFile(env: Env, name: string, firstLineOnly = false): string | undefined {
  const path = value(env, name);
  return path === undefined ? undefined : file(name, path, firstLineOnly);
}

/** The variable name part of a bridged domain: gmail.com -> GMAIL_COM. */
export function bridgeEnvName(domain: string): string {
  return domain.toUpperCase().replace(/[.-]/g, '_');
}

export function readBrokerEnv(env: Env): BrokerOptions | undefined {
  const on = env.BSSO_BROKER;
  if (on === undefined || on === '' || on === '0' || on === 'false') return undefined;
  if (on !== '1' && on !== 'true') throw new Error('BSSO_BROKER must be 1/true or 0/false.');
  const port = Number(value(env, 'BSSO_BROKER_SMTP_PORT') ?? '587');
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error('BSSO_BROKER_SMTP_PORT must be a port number.');
  }
  const user = value(env, 'BSSO_BROKER_SMTP_USER');
  const pass = optionalFile(env, 'BSSO_BROKER_SMTP_PASS_FILE', true);
  if ((user === undefined) !== (pass === undefined)) {
    throw new Error('Set both BSSO_BROKER_SMTP_USER and BSSO_BROKER_SMTP_PASS_FILE, or neither.');
  }
  const ca = optionalFile(env, 'BSSO_BROKER_SMTP_CA_FILE');
  const dkimDomain = value(env, 'BSSO_BROKER_DKIM_DOMAIN');
  const options: BrokerOptions = {
    smtp: {
      host: required(env, 'BSSO_BROKER_SMTP_HOST'),
      port,
      secure: value(env, 'BSSO_BROKER_SMTP_SECURE') === '1',
      ...(user !== undefined && pass !== undefined ? { auth: { user, pass } } : {}),
      ...(ca === undefined ? {} : { ca }),
      ...(dkimDomain === undefined
        ? {}
        : {
            dkim: {
              domainName: dkimDomain,
              keySelector: required(env, 'BSSO_BROKER_DKIM_SELECTOR'),
              privateKey: file(
                'BSSO_BROKER_DKIM_KEY_FILE',
                required(env, 'BSSO_BROKER_DKIM_KEY_FILE'),
                false,
              ),
            },
          }),
    },
    from: required(env, 'BSSO_BROKER_MAIL_FROM'),
  };
  const bridges: Record<string, BridgeOptions> = {};
  for (const entry of (value(env, 'BSSO_BROKER_BRIDGES') ?? '').split(',')) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const domain = entry.slice(0, eq).trim().toLowerCase();
    const issuer = entry.slice(eq + 1).trim();
    if (eq < 0 || domain === '' || issuer === '') {
      throw new Error(`BSSO_BROKER_BRIDGES: '${entry.trim()}' is not domain=issuer.`);
    }
    const prefix = `BSSO_BROKER_BRIDGE_${bridgeEnvName(domain)}`;
    const bridgeCa = optionalFile(env, `${prefix}_CA_FILE`);
    bridges[domain] = {
      issuer,
      clientId: required(env, `${prefix}_CLIENT_ID`),
      clientSecret: file(
        `${prefix}_CLIENT_SECRET_FILE`,
        required(env, `${prefix}_CLIENT_SECRET_FILE`),
        true,
      ),
      ...(bridgeCa === undefined ? {} : { ca: bridgeCa }),
    };
  }
  if (Object.keys(bridges).length > 0) options.bridges = bridges;
  return options;
}
