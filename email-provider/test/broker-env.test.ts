// Broker mode from the environment (BSSO_BROKER=1 and its variables): read once, validated,
// secrets from files; a bad or missing variable stops the start with a message naming it.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readBrokerEnv } from '../src/broker/env.ts';
import { readServerSettings } from '../src/env.ts';
import { removeDir, tempDir } from './helpers.ts';

describe('broker settings from the environment', () => {
  let dir: string;
  let base: Record<string, string>;
  before(async () => {
    dir = await tempDir();
    await writeFile(join(dir, 'smtp-pass'), 'smtp secret\nignored\n');
    await writeFile(join(dir, 'gmail-secret'), 'client secret\n');
    base = {
      BSSO_BROKER: '1',
      BSSO_BROKER_SMTP_HOST: 'smtp.example',
      BSSO_BROKER_MAIL_FROM: 'Sign-in <no-reply@broker.example>',
    };
  });
  after(() => removeDir(dir));

  it('is off unless BSSO_BROKER=1', () => {
    assert.equal(readBrokerEnv({}), undefined);
    assert.equal(readBrokerEnv({ BSSO_BROKER: '0' }), undefined);
    assert.throws(() => readBrokerEnv({ BSSO_BROKER: 'yes' }), /BSSO_BROKER/);
  });

  it('reads SMTP, auth from a file, From and bridges', () => {
    const options = readBrokerEnv({
      ...base,
      BSSO_BROKER_SMTP_PORT: '2525',
      BSSO_BROKER_SMTP_USER: 'broker',
      BSSO_BROKER_SMTP_PASS_FILE: join(dir, 'smtp-pass'),
      BSSO_BROKER_BRIDGES: 'gmail.com=https://accounts.google.com',
      BSSO_BROKER_BRIDGE_GMAIL_COM_CLIENT_ID: 'client',
      BSSO_BROKER_BRIDGE_GMAIL_COM_CLIENT_SECRET_FILE: join(dir, 'gmail-secret'),
    });
    assert.deepEqual(options, {
      smtp: {
        host: 'smtp.example',
        port: 2525,
        secure: false,
        auth: { user: 'broker', pass: 'smtp secret' },
      },
      from: 'Sign-in <no-reply@broker.example>',
      bridges: {
        'gmail.com': {
          issuer: 'https://accounts.google.com',
          clientId: 'client',
          clientSecret: 'client secret',
        },
      },
    });
  });

  it('names the variable that is missing or bad', () => {
    for (const [env, name] of [
      [{ ...base, BSSO_BROKER_SMTP_HOST: '' }, /BSSO_BROKER_SMTP_HOST/],
      [{ ...base, BSSO_BROKER_MAIL_FROM: '' }, /BSSO_BROKER_MAIL_FROM/],
      [{ ...base, BSSO_BROKER_SMTP_PORT: '99999' }, /BSSO_BROKER_SMTP_PORT/],
      [{ ...base, BSSO_BROKER_SMTP_USER: 'broker' }, /BSSO_BROKER_SMTP_PASS_FILE/],
      [{ ...base, BSSO_BROKER_SMTP_PASS_FILE: join(dir, 'missing') }, /cannot read/],
      [{ ...base, BSSO_BROKER_BRIDGES: 'gmail.com' }, /BSSO_BROKER_BRIDGES/],
      [
        { ...base, BSSO_BROKER_BRIDGES: 'gmail.com=https://accounts.google.com' },
        /BSSO_BROKER_BRIDGE_GMAIL_COM_CLIENT_ID/,
      ],
    ] as const) {
      assert.throws(() => readBrokerEnv(env), name);
    }
  });

  it('reaches the provider options through readServerSettings', () => {
    const settings = readServerSettings({
      ...base,
      BSSO_ISSUER: 'https://broker.example',
      BSSO_DOMAINS: 'broker.example',
      BSSO_DATA_DIR: dir,
      BSSO_DEVELOPMENT_HTTP: '1',
    });
    assert.equal(settings.provider.broker?.smtp.host, 'smtp.example');
  });
});
