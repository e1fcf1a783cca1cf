/** Test certificates made with the openssl CLI: valid, expiring soon, expired, and a key that matches none. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    // Not a reason to skip: without these certificates the corpus and --check-files go untested. .ci/run installs it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('openssl not found: the validate tests make their certificates with it (Debian package openssl)');
    throw err;
  }
}

function selfSigned(dir: string, name: string, days: number): void {
  run(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', String(days)]);
}

/** A certificate valid only between two past dates (openssl 3.0's `req` cannot backdate; `ca` can). */
function expired(dir: string, name: string): void {
  run(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(join(dir, 'ca.cnf'), '[ca]\ndefault_ca=d\n[d]\ndatabase=./index.txt\nnew_certs_dir=.\nserial=./serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n');
  run(dir, ['ca', '-batch', '-notext', '-config', 'ca.cnf', '-selfsign', '-keyfile', `${name}.key`, '-in', `${name}.csr`, '-startdate', '20200101000000Z', '-enddate', '20210101000000Z', '-out', `${name}.crt`]);
}

/**
 * A fresh directory holding: good.crt/good.key (a year), expiring.crt/key (5 days), expired.crt/key (2020),
 * other.key (matches no certificate) and garbage.pem (not PEM).
 */
export function makeCertDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-certs-'));
  selfSigned(dir, 'good', 365);
  selfSigned(dir, 'expiring', 5);
  selfSigned(dir, 'other', 365);
  expired(dir, 'expired');
  writeFileSync(join(dir, 'garbage.pem'), 'this is not a certificate\n');
  return dir;
}
