/**
 * The proxy core over real sockets with the real router and hand-built clusters: HTTP/1.1 keep-alive, pipelining and
 * chunked bodies, h2c prior knowledge, AUTO preface detection, TLS with ALPN, rewrites and headers, streaming, and
 * every local error answer with its counter.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy, type RunningProxy } from '../../src/proxy/index.js';
import { ownAddress } from '../../src/proxy/forwarded.js';
import { startEchoServer, type EchoServer } from '../../src/app/echo-server.js';
import { cluster, config, destroyAgent, get, h2get, makeCert, routeTo } from './helpers.js';
import { fakeClusterManagerFactory } from './fakes.js';
import type { Bootstrap } from '../../src/config/model.js';
import type { ClusterManager } from '../../src/upstream/types.js';
import type { FakeCluster } from './fakes.js';

let a: EchoServer;
let b: EchoServer;
let deadPort: number;
const running: RunningProxy[] = [];
let cm: ClusterManager | undefined;

async function start(cfg: Bootstrap, extra: Parameters<typeof startProxy>[1] = {}): Promise<RunningProxy> {
  const p = await startProxy(cfg, {
    clusterManagerFactory: fakeClusterManagerFactory((c) => (cm = c)),
    ...extra,
  });
  running.push(p);
  return p;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

before(async () => {
  a = await startEchoServer({ name: 'a' });
  b = await startEchoServer({ name: 'b' });
  deadPort = await freePort();
});

after(async () => {
  for (const p of running) await p.close(0);
  await a.close();
  await b.close();
  destroyAgent();
});

test('HTTP/1.1: forwards, rewrites, adds proxy headers, strips hop-by-hop, keeps the connection alive', async () => {
  const p = await start(
    config({
      useRemoteAddress: true,
      clusters: [cluster('echo', [a.port])],
      routes: [
        {
          match: { prefix: '/api/' },
          route: { cluster: 'echo', prefix_rewrite: '/v2/', host_rewrite_literal: 'backend.local' },
          request_headers_to_add: [{ header: { key: 'x-added', value: 'yes' } }],
          request_headers_to_remove: ['x-secret'],
          response_headers_to_add: [{ header: { key: 'x-resp', value: 'r' } }],
        },
      ],
    }),
  );
  const port = p.listeners[0]!.port;
  const r = await get(port, '/api/items?q=1', { 'x-secret': 's', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-request-id': 'rid-1' });
  assert.equal(r.status, 200);
  const echo = JSON.parse(r.body) as { path: string; headers: Record<string, string> };
  assert.equal(echo.path, '/v2/items?q=1');
  assert.equal(echo.headers.host, 'backend.local');
  assert.equal(echo.headers['x-envoy-original-path'], '/api/items?q=1');
  assert.equal(echo.headers['x-added'], 'yes');
  assert.equal(echo.headers['x-secret'], undefined);
  assert.equal(echo.headers['keep-alive'], undefined);
  assert.equal(echo.headers['x-forwarded-proto'], 'http');
  // Envoy appends its own address, not the peer's, for a loopback peer (ConnectionManagerUtility).
  assert.equal(echo.headers['x-forwarded-for'], ownAddress());
  assert.equal(echo.headers['x-envoy-internal'], undefined, 'no internal_address_config: no address is internal');
  // use_remote_address and an external client: an edge request, whose own id Envoy replaces.
  assert.match(echo.headers['x-request-id']!, /^[0-9a-f-]{36}$/);
  assert.notEqual(echo.headers['x-request-id'], 'rid-1');
  assert.equal(r.headers['x-resp'], 'r');
  assert.ok(r.headers['x-envoy-upstream-service-time'] !== undefined);
  assert.equal(r.headers.server, 'envoy');
  // A request without an id gets a generated UUID.
  const r2 = await get(port, '/api/x');
  assert.match((JSON.parse(r2.body) as { headers: Record<string, string> }).headers['x-request-id']!, /^[0-9a-f-]{36}$/);
  const snap = p.stats();
  assert.equal(snap.counters['cluster.echo.upstream_rq_200'], 2);
  assert.equal(snap.counters['http.ingress_http.downstream_rq_2xx'], 2);
});

test('HTTP/1.1: pipelined requests on one connection are answered in order', async () => {
  const p = await start(config({ clusters: [cluster('echo', [a.port])], routes: [routeTo('echo')] }));
  const port = p.listeners[0]!.port;
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  let data = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (data += d));
  sock.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await new Promise<void>((r) => sock.once('end', () => r()));
  sock.destroy();
  const paths = [...data.matchAll(/"path":"([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(paths, ['/one', '/two', '/three']);
});

test('HTTP/1.1: a chunked request body streams through and back', async () => {
  const p = await start(config({ clusters: [cluster('echo', [a.port])], routes: [routeTo('echo')] }));
  const port = p.listeners[0]!.port;
  const r = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
      sock.write('5\r\nhello\r\n');
      setTimeout(() => sock.write('6\r\n world\r\n0\r\n\r\n'), 20);
    });
    let d = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => (d += c));
    sock.on('end', () => resolve(d));
    sock.on('error', reject);
  });
  assert.match(r, /^HTTP\/1\.1 200/);
  assert.match(r, /transfer-encoding: chunked/i);
  assert.ok(r.includes('hello') && r.includes(' world'));
});

test('HTTP/2 prior knowledge (codec HTTP2) and AUTO preface detection', async () => {
  for (const codec of ['HTTP2', 'AUTO'] as const) {
    const p = await start(config({ codec, clusters: [cluster('echo', [a.port])], routes: [routeTo('echo')] }));
    const port = p.listeners[0]!.port;
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const r = await h2get(session, '/h2?x=1');
    session.close();
    assert.equal(r.status, 200, codec);
    const echo = JSON.parse(r.body) as { path: string; headers: Record<string, string> };
    assert.equal(echo.path, '/h2?x=1');
    assert.equal(echo.headers.host, `127.0.0.1:${port}`);
    assert.equal(p.stats().counters['http.ingress_http.downstream_cx_http2_total'], 1);
    if (codec === 'AUTO') {
      const r1 = await get(port, '/h1');
      assert.equal(r1.status, 200);
    }
  }
});

test('TLS: ALPN negotiates h2 and http/1.1, TLS 1.2 minimum', async (t) => {
  const cert = makeCert();
  if (cert === undefined) return t.skip('openssl not available');
  const cfg = config({ clusters: [cluster('echo', [a.port])], routes: [routeTo('echo')] });
  cfg.static_resources!.listeners![0]!.filter_chains![0]!.transport_socket = {
    name: 'tls',
    typed_config: {
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { filename: 'tls.crt' }, private_key: { filename: 'tls.key' } }],
      },
    },
  };
  const p = await start(cfg, { baseDir: cert.dir });
  const port = p.listeners[0]!.port;
  const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  const r = await h2get(session, '/tls');
  const proto = session.alpnProtocol;
  session.close();
  assert.equal(proto, 'h2');
  assert.equal(r.status, 200);
  assert.equal((JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-forwarded-proto'], 'https');
  const https = await import('node:https');
  const h1opts: import('node:https').RequestOptions & { ALPNProtocols: string[] } = {
    host: '127.0.0.1', port, path: '/h1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], agent: false,
  };
  const r1 = await new Promise<{ status: number; alpn: string | false }>((resolve, reject) => {
    const req = https.request(
      h1opts,
      (res) => {
        const alpn = (res.socket as import('node:tls').TLSSocket).alpnProtocol ?? false;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, alpn }));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(r1.status, 200);
  assert.equal(r1.alpn, 'http/1.1');
  // TLS 1.1 is refused.
  const tls = await import('node:tls');
  const refused = await new Promise<boolean>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    s.on('secureConnect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
  assert.equal(refused, true);
});

test('large bodies stream both ways', async () => {
  const p = await start(config({ clusters: [cluster('echo', [a.port])], routes: [routeTo('echo')] }));
  const port = p.listeners[0]!.port;
  const size = 32 * 1024 * 1024;
  const r = await get(port, `/bytes/${size}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.length, size);
  const up = Buffer.alloc(8 * 1024 * 1024, 0x62);
  const e = await get(port, '/echo', { 'content-type': 'application/octet-stream' }, 'POST', up);
  assert.equal(e.body.length, up.length);
});

test('local answers: 404 NR, 503 NC, 503 UH, 503 UF (or 502 as an option), 504 UT, 503 UO, direct response, redirect', async () => {
  const logs: string[] = [];
  const cfg = config({
    clusters: [
      cluster('echo', [a.port]),
      cluster('dead', [deadPort]),
      cluster('empty', []),
    ],
    routes: [
      { match: { prefix: '/direct' }, direct_response: { status: 418, body: { inline_string: 'teapot' } } },
      { match: { prefix: '/old' }, redirect: { path_redirect: '/new', response_code: 'FOUND' } },
      routeTo('nope', '/nocluster'),
      routeTo('empty', '/empty'),
      routeTo('dead', '/dead'),
      routeTo('echo', '/delay', { timeout: { seconds: 0, nanos: 200_000_000 } }),
      routeTo('echo', '/echo'),
    ],
  });
  cfg.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config!.route_config!.virtual_hosts![0]!.domains = ['known.host'];
  const p = await start(cfg, { accessLog: (l) => logs.push(l) });
  const port = p.listeners[0]!.port;
  const h = { host: 'known.host' };
  const nr = await get(port, '/x', { host: 'other.host' });
  assert.equal(nr.status, 404);
  assert.equal(nr.body, '');
  assert.equal((await get(port, '/nocluster', h)).status, 503);
  const uh = await get(port, '/empty', h);
  assert.equal(uh.status, 503);
  assert.equal(uh.body, 'no healthy upstream');
  const uf = await get(port, '/dead', h);
  assert.equal(uf.status, 503);
  assert.match(uf.body, /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure/);
  const ut = await get(port, '/delay/2000', h);
  assert.equal(ut.status, 504);
  assert.equal(ut.body, 'upstream request timeout');
  const d = await get(port, '/direct', h);
  assert.equal(d.status, 418);
  assert.equal(d.body, 'teapot');
  const rd = await get(port, '/old?a=1', h);
  assert.equal(rd.status, 302);
  assert.equal(rd.headers.location, 'http://known.host/new?a=1');
  (cm!.get('echo') as FakeCluster).limits.requests = 0;
  const uo = await get(port, '/echo', h);
  assert.equal(uo.status, 503);
  assert.equal(uo.headers['x-envoy-overloaded'], 'true');
  (cm!.get('echo') as FakeCluster).limits.requests = 1024;

  const s = p.stats().counters;
  assert.equal(s['http.ingress_http.no_route'], 1);
  assert.equal(s['http.ingress_http.no_cluster'], 1);
  assert.equal(s['cluster.empty.upstream_cx_none_healthy'], 1);
  assert.equal(s['cluster.dead.upstream_cx_connect_fail'], 1);
  assert.equal(s['cluster.dead.upstream_rq_503'], 1);
  assert.equal(s['cluster.echo.upstream_rq_timeout'], 1);
  assert.equal(s['cluster.echo.upstream_rq_504'], 1);
  assert.equal(s['cluster.echo.upstream_rq_pending_overflow'], 1);
  assert.equal(s['http.ingress_http.rq_direct_response'], 1);
  assert.equal(s['http.ingress_http.rq_redirect'], 1);
  const flags = logs.map((l) => (JSON.parse(l) as { response_flags: string }).response_flags);
  assert.deepEqual(flags.slice(0, 7), ['NR', 'NC', 'UH', 'UF', 'UT', '-', '-']);
  assert.equal(flags[7], 'UO');
  const entry = JSON.parse(logs[3]!) as Record<string, unknown>;
  for (const k of ['start_time', 'method', 'path', 'protocol', 'response_code', 'response_flags', 'bytes_received', 'bytes_sent', 'duration',
    'upstream_service_time', 'x_forwarded_for', 'user_agent', 'request_id', 'authority', 'upstream_host']) assert.ok(k in entry, k);
  assert.equal(entry.upstream_host, `127.0.0.1:${deadPort}`);

  // The variant: 502 for refused connections.
  const p2 = await start(cfg, { upstreamFailureMode: '502' });
  assert.equal((await get(p2.listeners[0]!.port, '/dead', h)).status, 502);
});

test('a direct_response body file is read when the config loads: changing it later changes nothing, a missing one refuses start and reload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-proxy-'));
  writeFileSync(join(dir, 'body.txt'), 'from the file');
  const withBody = (file: string): Bootstrap =>
    config({ routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { filename: file } } }] });
  const p = await start(withBody('body.txt'), { baseDir: dir });
  const port = p.listeners[0]!.port;
  writeFileSync(join(dir, 'body.txt'), 'changed afterwards');
  assert.equal((await get(port, '/')).body, 'from the file');
  await assert.rejects(p.reload(withBody('missing.txt')), (err: Error) => err.name === 'DataSourceError' && /direct response body .*missing\.txt/.test(err.message));
  assert.equal((await get(port, '/')).body, 'from the file', 'the refused reload left the running config alone');
  await assert.rejects(start(withBody('missing.txt'), { baseDir: dir }), /cannot read direct response body/);
});

test('retries: 5xx and connect failures retry on another host, counted, with attempts reported', async () => {
  const cfg = config({
    clusters: [cluster('mixed', [deadPort, a.port])],
    routes: [
      routeTo('mixed', '/', { retry_policy: { retry_on: 'connect-failure,5xx', num_retries: 2 } }),
    ],
  });
  const p = await start(cfg);
  const port = p.listeners[0]!.port;
  for (let i = 0; i < 6; i++) assert.equal((await get(port, `/r${i}`)).status, 200);
  const fc = cm!.get('mixed') as FakeCluster;
  const failures = fc.attempts.filter((x) => x.outcome.kind === 'connect-failure');
  assert.ok(failures.length >= 1);
  assert.equal(fc.attempts.filter((x) => x.outcome.kind === 'response').length, 6);
  assert.equal(p.stats().counters['cluster.mixed.upstream_rq_retry'], failures.length);
  // A 503 from the upstream is retried; when every try fails the last response goes out.
  const cfg2 = config({
    clusters: [cluster('bad', [a.port, b.port])],
    routes: [routeTo('bad', '/', { retry_policy: { retry_on: '5xx', num_retries: 1 } })],
  });
  const p2 = await start(cfg2);
  const r = await get(p2.listeners[0]!.port, '/status/503');
  assert.equal(r.status, 503);
  const hosts = (cm!.get('bad') as FakeCluster).attempts.map((x) => x.host);
  assert.equal(hosts.length, 2);
  assert.notEqual(hosts[0], hosts[1]);
  assert.equal(p2.stats().counters['cluster.bad.upstream_rq_retry_limit_exceeded'], 1);
});

test('admin: ready, stats, prometheus, clusters, config_dump, healthcheck', async () => {
  const p = await start(config({ clusters: [cluster('echo', [a.port])], routes: [routeTo('echo')] }));
  await get(p.listeners[0]!.port, '/');
  const ad = p.admin!;
  assert.equal(ad.address, '127.0.0.1');
  const ready = await get(ad.port, '/ready');
  assert.equal(ready.status, 200);
  assert.equal(ready.body.trim(), 'LIVE');
  const stats = await get(ad.port, '/stats');
  assert.match(stats.body, /^cluster\.echo\.upstream_rq_total: 1$/m);
  // prom-client is loaded on the first scrape only; the content type the admin announces is still prom-client's.
  const prom = await get(ad.port, '/stats/prometheus');
  assert.equal(prom.status, 200);
  assert.equal(prom.headers['content-type'], (await import('prom-client')).default.Registry.PROMETHEUS_CONTENT_TYPE);
  assert.match(prom.body, /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="echo"\} 1$/m);
  const clusters = await get(ad.port, '/clusters');
  assert.match(clusters.body, new RegExp(`^echo::127\\.0\\.0\\.1:${a.port}::rq_total::1$`, 'm'));
  const dump = JSON.parse((await get(ad.port, '/config_dump')).body) as { configs: { bootstrap: Bootstrap }[] };
  assert.equal(dump.configs[0]!.bootstrap.static_resources!.clusters![0]!.name, 'echo');
  assert.equal((await get(ad.port, '/healthcheck/fail')).status, 400);
  assert.equal((await get(ad.port, '/healthcheck/fail', {}, 'POST')).status, 200);
});

test('the health_check filter answers its path itself, 503 with the immediate-fail header after POST /healthcheck/fail', async () => {
  const cfg = config({ clusters: [cluster('echo', [a.port])], routes: [routeTo('echo')] });
  cfg.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config!.http_filters = [
    { name: 'envoy.filters.http.health_check', typed_config: { pass_through_mode: false, headers: [{ name: ':path', string_match: { exact: '/healthz' } }] } },
    { name: 'envoy.filters.http.router' },
  ];
  const p = await start(cfg);
  const port = p.listeners[0]!.port;
  const ok = await get(port, '/healthz');
  assert.equal(ok.status, 200);
  assert.equal(ok.body, '');
  assert.equal((await get(p.admin!.port, '/healthcheck/fail', {}, 'POST')).status, 200);
  const failing = await get(port, '/healthz');
  assert.equal(failing.status, 503);
  assert.equal(failing.headers['x-envoy-immediate-health-check-fail'], 'true');
  // Other paths still proxy.
  assert.equal((await get(port, '/other')).status, 200);
  assert.equal((await get(p.admin!.port, '/healthcheck/ok', {}, 'POST')).status, 200);
  assert.equal((await get(port, '/healthz')).status, 200);
});

test('per-try timeout retries on the next host; the route timeout covers all tries', async () => {
  const cfg = config({
    clusters: [cluster('two', [a.port, b.port])],
    routes: [
      routeTo('two', '/delay', {
        timeout: { seconds: 0, nanos: 900_000_000 },
        retry_policy: { retry_on: '5xx', num_retries: 3, per_try_timeout: { seconds: 0, nanos: 100_000_000 } },
      }),
    ],
  });
  const p = await start(cfg);
  const r = await get(p.listeners[0]!.port, '/delay/300');
  assert.equal(r.status, 504);
  assert.equal(r.body, 'upstream request timeout');
  const s = p.stats().counters;
  assert.ok((s['cluster.two.upstream_rq_per_try_timeout'] ?? 0) >= 3, JSON.stringify(s));
  const hosts = (cm!.get('two') as FakeCluster).attempts.map((x) => x.host);
  assert.ok(hosts.length >= 2 && hosts[0] !== hosts[1]);
});
