// Debian's Dovecot as a real IMAP server in tests: configured in a temp folder, listening on
// loopback ports the OS picked (implicit TLS and plain IMAP for STARTTLS), with a throwaway
// certificate and a passwd-file of the given users (hashed with `doveadm pw`). Runs in the
// foreground as a child of the test; stop() ends it and removes the folder.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from './daemon.ts';
import { freePort } from './ports.ts';

export const DOVECOT = '/usr/sbin/dovecot';
export const DOVEADM = '/usr/bin/doveadm';

export interface DovecotOptions {
  /** IMAP login name -> password. */
  users: Record<string, string>;
  certPem: string;
  keyPem: string;
}

export interface Dovecot {
  /** Implicit TLS (imaps). */
  imapsPort: number;
  /** Plain IMAP, STARTTLS offered (and required before LOGIN). */
  imapPort: number;
  /** Login attempts so far, as Dovecot logged them (auth_verbose): one line per attempt. */
  authLog(): Promise<string[]>;
  /** Whether Dovecot still runs. */
  running(): Promise<boolean>;
  stop(): Promise<void>;
}

/** What is missing to run Dovecot here, or false. */
export function dovecotMissing(): string | false {
  for (const file of [DOVECOT, DOVEADM]) {
    if (!existsSync(file)) return `${file} is missing: install Debian's dovecot-imapd`;
  }
  return false;
}

export async function startDovecot(options: DovecotOptions): Promise<Dovecot> {
  const missing = dovecotMissing();
  if (missing) throw new Error(missing);
  const dir = await mkdtemp(join(tmpdir(), 'bsso-dovecot-'));
  // Dovecot's auth process runs as nobody and reads the passwd-file from here.
  await chmod(dir, 0o755);
  const [imapsPort, imapPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'dovecot.conf');
  const log = join(dir, 'dovecot.log');
  await mkdir(join(dir, 'home'));
  await writeFile(join(dir, 'cert.pem'), options.certPem);
  await writeFile(join(dir, 'key.pem'), options.keyPem, { mode: 0o600 });
  const lines = Object.entries(options.users).map(([user, password]) => {
    const hash = execFileSync(
      DOVEADM,
      ['-o', 'stats_writer_socket_path=', 'pw', '-s', 'SHA512-CRYPT', '-p', password],
      {
        encoding: 'utf8',
      },
    ).trim();
    return `${user}:${hash}::::::`;
  });
  await writeFile(join(dir, 'users'), `${lines.join('\n')}\n`, { mode: 0o644 });
  await writeFile(
    conf,
    `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${log}
info_log_path = ${log}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = yes
auth_cache_size = 0
auth_failure_delay = 0
login_trusted_networks =
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
mail_location = mbox:~/mail:INBOX=~/inbox
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${imapsPort}
    ssl = yes
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/home/%u
}
`,
  );
  const daemon = await startDaemon(DOVECOT, ['-F', '-c', conf], {
    dir,
    ports: [imapsPort, imapPort],
    name: 'dovecot',
    diagnose: () => readFile(log, 'utf8'),
  });
  return {
    imapsPort,
    imapPort,
    async authLog() {
      const text = await readFile(log, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => / auth: passwd-file\(| auth: Info: passwd-file\(/.test(line));
    },
    running: () => daemon.running(imapsPort),
    stop: daemon.stop,
  };
}
