// Debian's OpenLDAP slapd as a real directory in tests: a temp slapd.conf (mdb, the
// inetorgperson schema, TLS from a throwaway certificate) listening on loopback ports the OS
// picked (ldap:// for STARTTLS, ldaps://), entries loaded with ldapadd. Runs in the
// foreground as a child of the test with the stats log on stderr, so a test can count binds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from './daemon.ts';
import { freePort } from './ports.ts';

export const SLAPD = '/usr/sbin/slapd';
export const LDAPADD = '/usr/bin/ldapadd';

export interface SlapdOptions {
  /** e.g. 'dc=mail,dc=test' */
  suffix: string;
  rootPassword: string;
  /** LDIF of the entries (the suffix entry included). */
  ldif: string;
  certPem: string;
  keyPem: string;
}

export interface Slapd {
  rootDn: string;
  /** ldap:// (STARTTLS offered). */
  ldapPort: number;
  ldapsPort: number;
  /** The DNs of the BIND operations so far, in order ('' for an anonymous bind). */
  binds(): string[];
  running(): Promise<boolean>;
  stop(): Promise<void>;
}

/** What is missing to run slapd here, or false. */
export function slapdMissing(): string | false {
  for (const file of [SLAPD, LDAPADD]) {
    if (!existsSync(file)) return `${file} is missing: install Debian's slapd and ldap-utils`;
  }
  return false;
}

export async function startSlapd(options: SlapdOptions): Promise<Slapd> {
  const missing = slapdMissing();
  if (missing) throw new Error(missing);
  const dir = await mkdtemp(join(tmpdir(), 'bsso-slapd-'));
  await mkdir(join(dir, 'db'));
  const [ldapPort, ldapsPort] = [await freePort(), await freePort()];
  const rootDn = `cn=admin,${options.suffix}`;
  await writeFile(join(dir, 'cert.pem'), options.certPem);
  await writeFile(join(dir, 'key.pem'), options.keyPem, { mode: 0o600 });
  const conf = join(dir, 'slapd.conf');
  await writeFile(
    conf,
    `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile ${dir}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
# Like many directories in the field: a simple bind with a DN and an empty password is an
# unauthenticated bind that succeeds, so the code under test has to refuse empty passwords.
allow bind_anon_dn
TLSCertificateFile ${dir}/cert.pem
TLSCertificateKeyFile ${dir}/key.pem
database mdb
maxsize 10485760
suffix "${options.suffix}"
rootdn "${rootDn}"
rootpw "${options.rootPassword}"
directory ${dir}/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by anonymous auth
`,
  );
  // The stats log goes to stderr, where binds are counted.
  const daemon = await startDaemon(
    SLAPD,
    [
      '-d',
      'stats',
      '-h',
      `ldap://127.0.0.1:${ldapPort}/ ldaps://127.0.0.1:${ldapsPort}/`,
      '-f',
      conf,
      '-u',
      'root',
    ],
    { dir, ports: [ldapPort, ldapsPort], name: 'slapd' },
  );
  const added = spawnSync(
    LDAPADD,
    ['-x', '-H', `ldap://127.0.0.1:${ldapPort}/`, '-D', rootDn, '-w', options.rootPassword],
    { input: options.ldif, encoding: 'utf8' },
  );
  if (added.status !== 0) {
    await daemon.stop();
    throw new Error(`slapd: ldapadd failed: ${added.stderr}\n${daemon.stderr().slice(-2000)}`);
  }
  const log = daemon.stderr;
  const bindsBefore = [...log().matchAll(/ BIND dn="([^"]*)" method=/g)].length;
  return {
    rootDn,
    ldapPort,
    ldapsPort,
    binds: () =>
      [...log().matchAll(/ BIND dn="([^"]*)" method=/g)].slice(bindsBefore).map((m) => m[1] ?? ''),
    running: () => daemon.running(ldapPort),
    stop: daemon.stop,
  };
}
