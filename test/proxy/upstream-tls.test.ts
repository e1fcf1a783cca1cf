/**
 * TLS to upstreams (a cluster's transport_socket with an UpstreamTlsContext) over real sockets on 127.0.0.1: the
 * chain verified against trusted_ca, match_subject_alt_names, SNI, a client certificate for mutual TLS, HTTP/2 by
 * ALPN, Envoy's "no validation context, no verification", active health checks over TLS, and a failed handshake
 * answered 503 and counted as a connection failure.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { startProxy, type RunningProxy } from '../../src/proxy/index.js';
import { upstreamTlsOptions } from '../../src/upstream/upstream-tls.js';
import type { Cluster, TlsContext } from '../../src/config/model.js';
import { cluster, config, destroyAgent, get, routeTo } from './helpers.js';

interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A self-signed certificate that did not sign the server's. */
  strangerCa: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** A CA, a server certificate for upstream.test / 127.0.0.1 and a client certificate, both signed by it. */
function makePki(): Pki | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-upstream-tls-'));
  try {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=meshctl test CA'], dir);
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'stranger.key', '-out', 'stranger.crt', '-days', '1', '-subj', '/CN=stranger'], dir);
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:upstream.test,IP:127.0.0.1\n');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=upstream.test'], dir);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'server.ext'], dir);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=meshctl-proxy'], dir);
    openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1'], dir);
  } catch {
    return undefined;
  }
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    strangerCa: join(dir, 'stranger.crt'),
  };
}

interface Seen {
  path: string;
  sni: string | false;
  alpn: string | false;
  httpVersion: string;
  clientCn: string | undefined;
  userAgent: string | undefined;
}

const pki = makePki();
let h1: https.Server;
let h2: http2.Http2SecureServer;
const seen: Seen[] = [];
let proxy: RunningProxy | undefined;

function record(req: { url?: string; httpVersion: string; headers: Record<string, unknown>; socket: unknown }): Seen {
  const sock = req.socket as TLSSocket;
  const peer = sock.getPeerCertificate();
  const s: Seen = {
    path: req.url ?? '',
    sni: sock.servername ?? false,
    alpn: sock.alpnProtocol ?? false,
    httpVersion: req.httpVersion,
    clientCn: peer && typeof peer.subject === 'object' ? String(peer.subject.CN) : undefined,
    userAgent: req.headers['user-agent'] as string | undefined,
  };
  seen.push(s);
  return s;
}

before(async () => {
  if (pki === undefined) return;
  const tlsOpts = { key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert) };
  // Mutual TLS: the HTTP/1.1 upstream asks for a client certificate signed by the CA and refuses anything else.
  h1 = https.createServer({ ...tlsOpts, ca: readFileSync(pki.ca), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const s = record(req);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(s));
  });
  h2 = http2.createSecureServer({ ...tlsOpts, allowHTTP1: false }, (req, res) => {
    const s = record(req);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(s));
  });
  await new Promise<void>((r) => h1.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', () => r()));
});

after(async () => {
  await proxy?.close(0);
  if (pki === undefined) return;
  h1.closeAllConnections();
  await new Promise((r) => h1.close(r));
  await new Promise((r) => h2.close(r));
  destroyAgent();
});

function tlsCluster(name: string, port: number, ctx: TlsContext, extra: Partial<Cluster> = {}): Cluster {
  return cluster(name, [port], { transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: ctx }, ...extra });
}

test('upstream TLS: verified chain, SAN match, SNI, client certificate, HTTP/2 by ALPN, health checks over TLS, handshake failures', async (t) => {
  if (pki === undefined) return t.skip('openssl not available');
  const h1Port = (h1.address() as AddressInfo).port;
  const h2Port = (h2.address() as AddressInfo).port;
  const verified: TlsContext = {
    sni: 'upstream.test',
    common_tls_context: {
      tls_certificates: [{ certificate_chain: { filename: 'client.crt' }, private_key: { filename: 'client.key' } }],
      validation_context: { trusted_ca: { filename: 'ca.crt' }, match_subject_alt_names: [{ exact: 'upstream.test' }] },
    },
  };
  const cfg = config({
    clusters: [
      tlsCluster('mtls', h1Port, verified, {
        health_checks: [
          {
            timeout: { seconds: 1, nanos: 0 },
            interval: { seconds: 0, nanos: 50e6 },
            no_traffic_interval: { seconds: 0, nanos: 50e6 },
            unhealthy_threshold: 2,
            healthy_threshold: 1,
            http_health_check: { path: '/healthz' },
          },
        ],
      }),
      // No validation context: Envoy does not verify the upstream certificate at all.
      tlsCluster('h2', h2Port, { common_tls_context: {} }, { http2_protocol_options: {} }),
      tlsCluster('untrusted', h1Port, { common_tls_context: { validation_context: { trusted_ca: { filename: 'stranger.crt' } } } }),
      tlsCluster('wrong-name', h2Port, { common_tls_context: { validation_context: { trusted_ca: { filename: 'ca.crt' }, match_subject_alt_names: [{ exact: 'other.test' }] } } }, { http2_protocol_options: {} }),
      // match_subject_alt_names holds StringMatchers: any one matching any name passes.
      tlsCluster('matched-name', h2Port, { common_tls_context: { validation_context: { trusted_ca: { filename: 'ca.crt' }, match_subject_alt_names: [{ exact: 'other.test' }, { suffix: '.TEST', ignore_case: true }] } } }, { http2_protocol_options: {} }),
      // Plaintext to a TLS port: what meshctl did before it read the cluster's transport_socket.
      cluster('plain', [h1Port]),
    ],
    routes: [routeTo('mtls', '/mtls'), routeTo('h2', '/h2'), routeTo('untrusted', '/untrusted'), routeTo('wrong-name', '/wrong-name'), routeTo('matched-name', '/matched-name'), routeTo('plain', '/plain')],
  });
  proxy = await startProxy(cfg, { baseDir: pki.dir });
  const port = proxy.listeners[0]!.port;

  const r1 = await get(port, '/mtls/x');
  assert.equal(r1.status, 200, r1.body);
  const s1 = JSON.parse(r1.body) as Seen;
  assert.equal(s1.sni, 'upstream.test');
  assert.equal(s1.alpn, 'http/1.1');
  assert.equal(s1.clientCn, 'meshctl-proxy', 'the client certificate reaches the upstream');
  assert.ok(
    seen.some((s) => s.path === '/healthz' && s.userAgent === 'Envoy/HC' && s.clientCn === 'meshctl-proxy'),
    'active health checks reach the TLS upstream over TLS with the client certificate',
  );

  const r2 = await get(port, '/h2/y');
  assert.equal(r2.status, 200, r2.body);
  const s2 = JSON.parse(r2.body) as Seen;
  assert.equal(s2.httpVersion, '2.0');
  assert.equal(s2.alpn, 'h2');
  assert.equal(s2.sni, false, 'no sni configured: none sent (the host is an IP address)');

  const r3 = await get(port, '/matched-name/z');
  assert.equal(r3.status, 200, r3.body);

  for (const path of ['/untrusted', '/wrong-name']) {
    const r = await get(port, path);
    assert.equal(r.status, 503, `${path}: ${r.body}`);
    assert.match(r.body, /upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure/);
  }
  const plain = await get(port, '/plain');
  assert.ok(plain.status >= 500, 'plaintext to a TLS port fails');

  const counters = proxy.stats().counters;
  assert.ok((counters['cluster.untrusted.upstream_cx_connect_fail'] ?? 0) >= 1, 'an untrusted certificate is a connection failure');
  assert.ok((counters['cluster.wrong-name.upstream_cx_connect_fail'] ?? 0) >= 1, 'a subject alt name mismatch is a connection failure');
  assert.equal(counters['cluster.mtls.upstream_cx_connect_fail'] ?? 0, 0);
});

test('a reload whose upstream CA file cannot be read is refused before anything changes; the old config keeps serving', async (t) => {
  if (pki === undefined) return t.skip('openssl not available');
  const h1Port = (h1.address() as AddressInfo).port;
  const verified: TlsContext = {
    common_tls_context: {
      tls_certificates: [{ certificate_chain: { filename: 'client.crt' }, private_key: { filename: 'client.key' } }],
      validation_context: { trusted_ca: { filename: 'ca.crt' } },
    },
  };
  const p = await startProxy(config({ clusters: [tlsCluster('api', h1Port, verified)], routes: [routeTo('api')] }), { baseDir: pki.dir });
  try {
    const port = p.listeners[0]!.port;
    assert.equal((await get(port, '/before')).status, 200);
    const broken = config({
      clusters: [tlsCluster('api', h1Port, { common_tls_context: { ...verified.common_tls_context, validation_context: { trusted_ca: { filename: 'missing-ca.crt' } } } })],
      routes: [routeTo('api')],
    });
    await assert.rejects(p.reload(broken), /cluster api: cannot read trusted CA .*missing-ca\.crt/);
    const after = await get(port, '/after');
    assert.equal(after.status, 200, after.body);
    assert.equal(p.config().static_resources?.clusters?.[0]?.transport_socket?.typed_config?.common_tls_context?.validation_context?.trusted_ca?.filename, 'ca.crt');
  } finally {
    await p.close(0);
  }
});

test("upstream TLS options follow Envoy's defaults: TLS 1.2 to 1.3, no verification without a validation context", () => {
  const plain = upstreamTlsOptions({ common_tls_context: {} }, '/');
  assert.equal(plain.minVersion, 'TLSv1.2');
  assert.equal(plain.maxVersion, 'TLSv1.3');
  assert.equal(plain.rejectUnauthorized, false);
  assert.equal(plain.servername, undefined, 'no SNI unless configured');
  const pinned = upstreamTlsOptions(
    {
      sni: 'api.test',
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_3' },
        validation_context: { trusted_ca: { inline_string: 'not checked here' } },
      },
    },
    '/',
  );
  assert.equal(pinned.minVersion, 'TLSv1.3');
  assert.equal(pinned.rejectUnauthorized, true);
  assert.equal(pinned.servername, 'api.test');
});

test('a malformed client key refuses to start (every TLS context is built before the proxy starts)', async (t) => {
  if (pki === undefined) return t.skip('openssl not available');
  writeFileSync(join(pki.dir, 'garbage.pem'), 'not a PEM file\n');
  const cfg = config({
    clusters: [
      tlsCluster('api', 1, { common_tls_context: { tls_certificates: [{ certificate_chain: { filename: 'garbage.pem' }, private_key: { filename: 'garbage.pem' } }] } }),
    ],
    routes: [routeTo('api')],
  });
  await assert.rejects(startProxy(cfg, { baseDir: pki.dir }), (err: Error) => err.name === 'TlsConfigError' && /^cluster api: /.test(err.message));
});
