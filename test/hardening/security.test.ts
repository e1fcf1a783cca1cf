/**
 * Security defaults: the admin server stays on loopback unless told otherwise (and validate says so when a config
 * exposes it), TLS 1.2 is the floor, and private key material shows up in neither /config_dump nor any log line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import tls from 'node:tls';
import { parseConfig } from '../../src/config/index.js';
import { startProxy } from '../../src/proxy/index.js';
import { runCli } from '../helpers/cli.js';
import { get, startEchoUpstream } from './http-helpers.js';
import { makeCert } from '../proxy/helpers.js';
import { tlsConfigYaml, writeIn } from './tools.js';

let echo: Awaited<ReturnType<typeof startEchoUpstream>>;
let cert: ReturnType<typeof makeCert>;

before(async () => {
  echo = await startEchoUpstream();
  cert = makeCert();
});
after(async () => {
  await echo?.close();
  if (cert) rmSync(cert.dir, { recursive: true, force: true });
});

function parse(yaml: string, name = 'sec.yaml'): NonNullable<ReturnType<typeof parseConfig>['config']> {
  const r = parseConfig(yaml, name);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 0, errors.map((d) => `${d.span.line}:${d.span.column} ${d.message}`).join('; '));
  return r.config!;
}

/** The base64 body lines of a PEM key: what must never leave the process. */
function keyLines(pem: string): string[] {
  return pem.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l.trim()));
}

test('the admin server binds 127.0.0.1 when the config gives a port but no address', async () => {
  const cfg = parse(`admin:\n  address: { socket_address: { port_value: 0 } }\nstatic_resources: {}\n`);
  const p = await startProxy(cfg, { accessLog: null, log: () => undefined });
  try {
    assert.equal(p.admin?.address, '127.0.0.1');
    const r = await fetch(`http://127.0.0.1:${p.admin!.port}/ready`);
    assert.equal(r.status, 200);
  } finally {
    await p.close(100);
  }
});

test(
  'validate warns when the admin server listens on every interface (0.0.0.0 or ::)',
  async () => {
    for (const addr of ['0.0.0.0', '"::"']) {
      const p = writeIn(cert?.dir ?? '/tmp', `admin-${addr.replace(/\W/g, '')}.yaml`, `admin:\n  address: { socket_address: { address: ${addr}, port_value: 9901 } }\n`);
      const r = await runCli(['validate', '--format', 'json', p]);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout;
      assert.match(out, /"severity":\s*"warning"/, `${addr}: ${out}`);
      assert.match(out, /admin/i);
    }
  },
);

test('a loopback admin address is not warned about', async () => {
  const p = writeIn(cert?.dir ?? '/tmp', 'admin-local.yaml', `admin:\n  address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }\n`);
  const r = await runCli(['validate', '--format', 'json', p]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.doesNotMatch(r.stdout, /admin[^"]*(exposed|every interface|0\.0\.0\.0)/i);
});

function handshake(port: number, opts: tls.ConnectionOptions): Promise<{ ok: boolean; protocol?: string | null; error?: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const protocol = s.getProtocol();
      s.destroy();
      resolve({ ok: true, protocol });
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: `${e.code ?? ''} ${e.message}` }));
    s.setTimeout(5000, () => {
      s.destroy();
      resolve({ ok: false, error: 'timeout' });
    });
  });
}

test('TLS 1.2 is the minimum: a TLS 1.1 client is refused, TLS 1.2 and 1.3 are accepted', async (t) => {
  if (!cert) return t.skip('openssl is missing: no certificate');
  // Prove first that this client can speak TLS 1.1 at all (OpenSSL 3 disables it at the default security level).
  const control = tls.createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key), minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', () => r()));
  const old: tls.ConnectionOptions = { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
  const can = await handshake((control.address() as { port: number }).port, old);
  control.close();
  if (!can.ok) return t.skip(`this OpenSSL cannot make a TLS 1.1 handshake at all (${can.error}); nothing to refuse`);
  assert.equal(can.protocol, 'TLSv1.1');

  const p = await startProxy(parse(tlsConfigYaml(echo.port, cert.cert, cert.key)), { accessLog: null, log: () => undefined });
  try {
    const port = p.listeners.find((l) => l.name === 'tls')!.port;
    const refused = await handshake(port, old);
    assert.equal(refused.ok, false, `a TLS 1.1 handshake succeeded (${refused.protocol})`);
    const v12 = await handshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.equal(v12.protocol, 'TLSv1.2', v12.error);
    const v13 = await handshake(port, { minVersion: 'TLSv1.3' });
    assert.equal(v13.protocol, 'TLSv1.3', v13.error);
  } finally {
    await p.close(100);
  }
});

test('/config_dump redacts inline private keys and key files are never dumped; no key material in any log line', async (t) => {
  if (!cert) return t.skip('openssl is missing: no certificate');
  const keyPem = readFileSync(cert.key, 'utf8');
  const certPem = readFileSync(cert.cert, 'utf8');
  const secret = keyLines(keyPem);
  assert.ok(secret.length > 5, 'the generated key has body lines');
  // One listener with the key inline, one with it in a file.
  const inline = tlsConfigYaml(echo.port, cert.cert, cert.key).replace(
    /private_key: \{ filename: [^}]+\}/,
    `private_key: { inline_string: ${JSON.stringify(keyPem)} }`,
  ).replace(/certificate_chain: \{ filename: [^}]+\}/, `certificate_chain: { inline_string: ${JSON.stringify(certPem)} }`);
  assert.match(inline, /inline_string/);
  const logs: string[] = [];
  const p = await startProxy(parse(inline), { accessLog: (l) => logs.push(l), log: (l) => logs.push(l) });
  try {
    const port = p.listeners.find((l) => l.name === 'tls')!.port;
    const plain = p.listeners.find((l) => l.name === 'plain')!.port;
    const hs = await handshake(port, {});
    assert.ok(hs.ok, `TLS with an inline key: ${hs.error}`);
    assert.equal((await get(plain, '/x')).status, 200);
    const dump = await (await fetch(`http://127.0.0.1:${p.admin!.port}/config_dump`)).text();
    assert.ok(dump.length > 100, 'config_dump is empty');
    for (const line of secret) assert.ok(!dump.includes(line), 'a line of the private key is in /config_dump');
    assert.doesNotMatch(dump, /PRIVATE KEY/);
    // The certificate is public and may stay; the dump must still say where the key came from.
    assert.match(dump, /private_key/);
    await p.reload(parse(inline));
  } finally {
    await p.close(100);
  }
  const all = logs.join('\n');
  for (const line of secret) assert.ok(!all.includes(line), 'a line of the private key is in the logs');
  assert.doesNotMatch(all, /PRIVATE KEY/);
});

test('meshctl validate never echoes an inline private key in a code frame', async (t) => {
  if (!cert) return t.skip('openssl is missing: no certificate');
  const keyPem = readFileSync(cert.key, 'utf8');
  // An error on the key's own field: the code frame shows the offending line.
  const yaml = tlsConfigYaml(echo.port, cert.cert, cert.key).replace(
    /private_key: \{ filename: [^}]+\}/,
    `private_key: { inline_string: ${JSON.stringify(keyPem)}, no_such_field: 1 }`,
  );
  const p = writeIn(cert.dir, 'inline-key.yaml', yaml);
  const r = await runCli(['validate', p]);
  const all = r.stdout + r.stderr;
  for (const line of keyLines(keyPem)) assert.ok(!all.includes(line), `a line of the private key is in validate's output:\n${all.slice(0, 3000)}`);
});
