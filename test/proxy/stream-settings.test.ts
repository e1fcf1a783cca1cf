/**
 * Connection-manager, route and retry settings through `meshctl run` (the real binary) with raw HTTP/1.1 clients:
 * stream_idle_timeout and a route's idle_timeout, max_stream_duration (the connection manager's and a route's,
 * grpc_timeout_header_max), use_remote_address / xff_num_trusted_hops / skip_xff_append, the host rewrites
 * (header, path regex, auto_host_rewrite for DNS and static hosts), the previous_hosts retry predicate, and the
 * listener's per_connection_buffer_limit_bytes bounding what a retry can resend.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeTemp } from './helpers.js';
import { accessLogLines, spawnCli, type RunningCli } from './cli-helpers.js';
import { ownAddress } from '../../src/proxy/forwarded.js';
import { startDnsServer, type TestDnsServer } from '../discovery/dns-server.js';

let up: http.Server;
let upPort = 0;
let bad: http.Server;
let badPort = 0;
let dns: TestDnsServer;
const children: RunningCli[] = [];
const flakySeen = new Map<string, number>();
let badHits = 0;

before(async () => {
  up = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '/';
      if (path.startsWith('/hang')) return; // never answers
      if (path.startsWith('/stall')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        return; // never ends
      }
      if (path.startsWith('/drip')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const t = setInterval(() => res.write('.'), 100);
        res.on('close', () => clearInterval(t));
        return;
      }
      if (path.startsWith('/slow')) {
        setTimeout(() => res.end('slow done'), 700);
        return;
      }
      if (path.startsWith('/flaky')) {
        const id = String(req.headers['x-id']);
        const n = (flakySeen.get(id) ?? 0) + 1;
        flakySeen.set(id, n);
        res.writeHead(n === 1 ? 503 : 200);
        res.end(`${n}:${body.length}`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path, headers: req.headers, length: body.length }));
    });
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
  upPort = (up.address() as net.AddressInfo).port;
  bad = http.createServer((req, res) => {
    badHits++;
    req.resume();
    req.on('end', () => {
      res.writeHead(503);
      res.end('bad');
    });
  });
  await new Promise<void>((r) => bad.listen(0, '127.0.0.1', () => r()));
  badPort = (bad.address() as net.AddressInfo).port;
  dns = await startDnsServer();
  dns.a.set('backend.test', [{ address: '127.0.0.1' }]);
});

after(async () => {
  for (const ch of children) ch.kill();
  up.closeAllConnections();
  up.close();
  bad.closeAllConnections();
  bad.close();
  await dns.close();
});

function endpoint(port: number, hostname?: string): string {
  return `{ endpoint: { ${hostname ? `hostname: ${hostname}, ` : ''}address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } }`;
}

function proxyYaml(o: { listenerExtra?: string; hcmExtra: string; routes: string; clusters?: string }): string {
  return `
static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
${o.listenerExtra ?? ''}
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: main
${o.hcmExtra}
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
${o.routes}
  clusters:
    - name: up
      connect_timeout: 1s
      load_assignment: { cluster_name: up, endpoints: [{ lb_endpoints: [${endpoint(upPort)}] }] }
${o.clusters ?? ''}
`;
}

async function startProxy(yaml: string): Promise<{ port: number; admin: number; log: string }> {
  const file = writeTemp('stream.yaml', yaml);
  const log = join(mkdtempSync(join(tmpdir(), 'meshctl-stream-')), 'access.log');
  const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--access-log', log, '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on https?:\/\/127\.0\.0\.1:(\d+)/);
  const a = await cli.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/);
  return { port: Number(m[1]), admin: Number(a[1]), log };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** A request; rejects when the connection is reset or the response is cut short. */
function send(port: number, path: string, o: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer } = {}): Promise<Answer> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { host: 'svc.test', ...o.headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: Date.now() - t0 }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`aborted after ${Date.now() - t0} ms with ${JSON.stringify(body)}`)));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

async function stats(admin: number): Promise<string> {
  return (await send(admin, '/stats')).body;
}

function echoed(a: Answer): { path: string; headers: Record<string, string>; length: number } {
  return JSON.parse(a.body) as { path: string; headers: Record<string, string>; length: number };
}

test('stream_idle_timeout: 504 for a whole request with no answer, 408 for a request still arriving, a reset once the response began; a route idle_timeout replaces it', async () => {
  const p = await startProxy(
    proxyYaml({
      hcmExtra: '                stream_idle_timeout: 0.4s',
      routes: `                        - match: { prefix: "/off" }
                          route: { cluster: up, timeout: 0s, idle_timeout: 0s, prefix_rewrite: /slow }
                        - match: { prefix: "/short" }
                          route: { cluster: up, timeout: 0s, idle_timeout: 0.15s, prefix_rewrite: /slow }
                        - match: { prefix: "/" }
                          route: { cluster: up, timeout: 0s }`,
    }),
  );
  const hang = await send(p.port, '/hang');
  assert.equal(hang.status, 504);
  assert.equal(hang.body, 'stream timeout');
  assert.ok(hang.ms >= 390 && hang.ms < 2500, `answered after ${hang.ms} ms`);

  // A body that stops arriving: 408, and the connection closes.
  const sock = net.connect(p.port, '127.0.0.1');
  sock.on('error', () => undefined);
  let got = '';
  sock.setEncoding('latin1').on('data', (d: string) => (got += d));
  sock.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer; got:\n${got}`)), 5000);
    sock.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  assert.match(got, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(got, /\r\n\r\nstream timeout$/);

  // Response headers and some body, then silence: the downstream is reset.
  await assert.rejects(send(p.port, '/stall'), /aborted|socket hang up|ECONNRESET/);
  // Activity keeps a stream alive: a body dripping every 100 ms outlives the 400 ms idle timeout until we stop.
  const drip = await new Promise<number>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: p.port, path: '/drip', agent: false }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => {
        n += d.length;
        if (n >= 10) {
          resolve(n);
          res.destroy();
        }
      });
      res.on('aborted', () => reject(new Error(`cut after ${n} bytes`)));
    }).on('error', reject);
  });
  assert.ok(drip >= 10);

  // The route's idle_timeout: 0 disables it (the 700 ms upstream answers), 150 ms cuts in first.
  const off = await send(p.port, '/off');
  assert.equal(off.status, 200);
  assert.equal(off.body, 'slow done');
  const short = await send(p.port, '/short');
  assert.equal(short.status, 504);
  assert.ok(short.ms >= 140 && short.ms < 650, `answered after ${short.ms} ms`);

  assert.match(await stats(p.admin), /http\.main\.downstream_rq_idle_timeout: 4\b/);
  const lines = await accessLogLines(p.log, 7);
  assert.equal(lines.filter((l) => l.response_flags.split(',').includes('SI')).length, 4, JSON.stringify(lines));
});

test('max_stream_duration: the connection manager bounds every stream (504 before a response, reset after); a route replaces or disables it; grpc_timeout_header_max reads grpc-timeout', async () => {
  const p = await startProxy(
    proxyYaml({
      hcmExtra: '                common_http_protocol_options: { max_stream_duration: 0.35s }',
      routes: `                        - match: { prefix: "/nolimit" }
                          route: { cluster: up, prefix_rewrite: /slow, max_stream_duration: { max_stream_duration: 0s } }
                        - match: { prefix: "/grpc" }
                          route: { cluster: up, prefix_rewrite: /hang, max_stream_duration: { grpc_timeout_header_max: 0s } }
                        - match: { prefix: "/" }
                          route: { cluster: up, timeout: 0s }`,
    }),
  );
  const hang = await send(p.port, '/hang');
  assert.equal(hang.status, 504);
  assert.equal(hang.body, 'downstream duration timeout');
  assert.ok(hang.ms >= 340 && hang.ms < 2500, `answered after ${hang.ms} ms`);
  // Dripping (never idle) is still cut at the duration.
  const t0 = Date.now();
  await assert.rejects(send(p.port, '/drip'), /aborted|socket hang up|ECONNRESET/);
  assert.ok(Date.now() - t0 >= 340, 'cut at the duration, not before');
  const ok = await send(p.port, '/nolimit');
  assert.equal(ok.status, 200, 'max_stream_duration: 0s on the route lifts the connection manager limit');
  // grpc-timeout bounds the stream (and replaces the connection manager limit); without one the route's own (none
  // given) falls back to the connection manager's.
  const g = await send(p.port, '/grpc', { headers: { 'grpc-timeout': '150m' } });
  assert.equal(g.status, 504);
  assert.ok(g.ms >= 140 && g.ms < 340, `answered after ${g.ms} ms`);
  const g2 = await send(p.port, '/grpc');
  assert.ok(g2.ms >= 340, `answered after ${g2.ms} ms`);
  const lines = await accessLogLines(p.log, 5);
  assert.ok(lines.filter((l) => l.response_flags === 'DT').length >= 3, JSON.stringify(lines));
});

test('use_remote_address with xff_num_trusted_hops: the trusted client address, x-envoy-external-address, internal requests (internal_address_config); skip_xff_append; without use_remote_address x-forwarded-for is left alone', async () => {
  const routes = `                        - match: { prefix: "/" }
                          route: { cluster: up }`;
  const edge = await startProxy(
    proxyYaml({ hcmExtra: '                use_remote_address: true\n                xff_num_trusted_hops: 1\n                internal_address_config: {}', routes }),
  );
  const ext = echoed(await send(edge.port, '/echo', { headers: { 'x-forwarded-for': '198.51.100.9, 203.0.113.7', 'x-envoy-internal': 'true' } }));
  assert.equal(ext.headers['x-forwarded-for'], `198.51.100.9, 203.0.113.7, ${ownAddress()}`);
  assert.equal(ext.headers['x-envoy-external-address'], '203.0.113.7', 'the trusted hop vouches for the last address');
  assert.equal(ext.headers['x-envoy-internal'], undefined, 'a client cannot claim to be internal');
  const rid = echoed(await send(edge.port, '/echo', { headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'from-outside' } }));
  assert.match(rid.headers['x-request-id']!, /^[0-9a-f-]{36}$/, 'an edge request gets a new x-request-id');
  assert.equal(echoed(await send(edge.port, '/echo', { headers: { 'x-request-id': 'from-inside' } })).headers['x-request-id'], 'from-inside');
  const local = echoed(await send(edge.port, '/echo'));
  assert.equal(local.headers['x-envoy-internal'], 'true', 'a loopback client without x-forwarded-for is internal');
  assert.equal(local.headers['x-envoy-external-address'], undefined);
  assert.equal(local.headers['x-forwarded-for'], ownAddress());

  const skip = await startProxy(
    proxyYaml({ hcmExtra: '                use_remote_address: true\n                skip_xff_append: true\n                preserve_external_request_id: true', routes }),
  );
  const s = echoed(await send(skip.port, '/echo', { headers: { 'x-forwarded-for': '203.0.113.7' } }));
  assert.equal(s.headers['x-forwarded-for'], '203.0.113.7');
  assert.equal(s.headers['x-envoy-external-address'], '127.0.0.1', 'no trusted hop: the peer is the client');
  const kept = echoed(await send(skip.port, '/echo', { headers: { 'x-request-id': 'from-outside' } }));
  assert.equal(kept.headers['x-request-id'], 'from-outside', 'preserve_external_request_id');
  const loop = echoed(await send(skip.port, '/echo'));
  assert.equal(loop.headers['x-envoy-internal'], undefined, 'without internal_address_config no address is internal, loopback neither');
  assert.equal(loop.headers['x-envoy-external-address'], '127.0.0.1');

  const inner = await startProxy(
    proxyYaml({ hcmExtra: '                internal_address_config: { cidr_ranges: [{ address_prefix: 10.1.0.0, prefix_len: 16 }] }', routes }),
  );
  const i = echoed(await send(inner.port, '/echo', { headers: { 'x-forwarded-for': '10.1.2.3', 'x-forwarded-proto': 'https' } }));
  assert.equal(i.headers['x-forwarded-for'], '10.1.2.3');
  assert.equal(i.headers['x-envoy-internal'], 'true', 'one x-forwarded-for address, in cidr_ranges: internal');
  assert.equal(i.headers['x-forwarded-proto'], 'https', 'kept from the trusted previous hop');
  const outside = echoed(await send(inner.port, '/echo', { headers: { 'x-forwarded-for': '10.2.0.1' } }));
  assert.equal(outside.headers['x-envoy-internal'], undefined, 'RFC 1918 but outside cidr_ranges: external');
  const e = echoed(await send(inner.port, '/echo', { headers: { 'x-forwarded-for': '203.0.113.7', 'x-envoy-internal': 'true' } }));
  assert.equal(e.headers['x-envoy-internal'], undefined);
  assert.equal(e.headers['x-envoy-external-address'], undefined, 'only an edge proxy (use_remote_address) sets it');
});

test('host rewrites: host_rewrite_header, host_rewrite_path_regex, auto_host_rewrite (a DNS host by its name, a static host by endpoint.hostname, none without one)', async () => {
  const p = await startProxy(
    proxyYaml({
      hcmExtra: '',
      routes: `                        - match: { prefix: "/hdr" }
                          route: { cluster: up, host_rewrite_header: x-target-host }
                        - match: { prefix: "/re/" }
                          route: { cluster: up, host_rewrite_path_regex: { pattern: { regex: "^/re/([^/]+)/.*$" }, substitution: "\\\\1.example" } }
                        - match: { prefix: "/dns" }
                          route: { cluster: dns, auto_host_rewrite: true }
                        - match: { prefix: "/named" }
                          route: { cluster: named, auto_host_rewrite: true }
                        - match: { prefix: "/plain" }
                          route: { cluster: up, auto_host_rewrite: true }`,
      clusters: `    - name: dns
      type: STRICT_DNS
      connect_timeout: 1s
      dns_lookup_family: V4_ONLY
      dns_resolvers: [{ socket_address: { address: 127.0.0.1, port_value: ${dns.port} } }]
      load_assignment: { cluster_name: dns, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: backend.test, port_value: ${upPort} } } } }] }] }
    - name: named
      connect_timeout: 1s
      load_assignment: { cluster_name: named, endpoints: [{ lb_endpoints: [${endpoint(upPort, 'named.backend')}] }] }`,
    }),
  );
  const h = echoed(await send(p.port, '/hdr', { headers: { 'x-target-host': 'from.header' } }));
  assert.equal(h.headers.host, 'from.header');
  assert.equal(h.headers['x-envoy-original-host'], 'svc.test');
  assert.equal(echoed(await send(p.port, '/hdr')).headers.host, 'svc.test', 'no such header: the Host stays');
  assert.equal(echoed(await send(p.port, '/re/tenant7/items?q=1')).headers.host, 'tenant7.example');
  let dnsAnswer: Answer | undefined;
  for (let i = 0; i < 50; i++) {
    dnsAnswer = await send(p.port, '/dns');
    if (dnsAnswer.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(dnsAnswer?.status, 200, dnsAnswer?.body);
  assert.equal(echoed(dnsAnswer!).headers.host, 'backend.test');
  const named = echoed(await send(p.port, '/named'));
  assert.equal(named.headers.host, 'named.backend');
  assert.equal(named.headers['x-envoy-original-host'], 'svc.test');
  const plain = echoed(await send(p.port, '/plain'));
  assert.equal(plain.headers.host, 'svc.test', 'a static IP host has no hostname: the Host stays');
  assert.equal(plain.headers['x-envoy-original-host'], undefined);
});

test('retry_host_predicate previous_hosts: with two hosts, one failing, a retry always lands on the other; without it a retry can pick the failing host again', async () => {
  const routes = (predicate: string): string => `                        - match: { prefix: "/" }
                          route:
                            cluster: pair
                            retry_policy:
                              retry_on: 5xx
                              num_retries: 1
                              retry_back_off: { base_interval: 0.001s }
${predicate}`;
  const pair = `    - name: pair
      connect_timeout: 1s
      lb_policy: RANDOM
      load_assignment: { cluster_name: pair, endpoints: [{ lb_endpoints: [${endpoint(badPort)}, ${endpoint(upPort)}] }] }`;
  const withPredicate = await startProxy(
    proxyYaml({
      hcmExtra: '',
      routes: routes(`                              retry_host_predicate: [{ name: envoy.retry_host_predicates.previous_hosts }]
                              host_selection_retry_max_attempts: 30`),
      clusters: pair,
    }),
  );
  badHits = 0;
  for (let i = 0; i < 40; i++) assert.equal((await send(withPredicate.port, `/echo/${i}`)).status, 200, `request ${i}`);
  assert.ok(badHits > 5, `the random balancer sent ${badHits} first tries to the failing host`);
  const plain = await startProxy(proxyYaml({ hcmExtra: '', routes: routes(''), clusters: pair }));
  let failed = 0;
  for (let i = 0; i < 40; i++) if ((await send(plain.port, `/echo/${i}`)).status === 503) failed++;
  assert.ok(failed > 0, 'without the predicate some retries went back to the failing host');
  assert.match(await stats(withPredicate.admin), /cluster\.pair\.upstream_rq_retry: \d+/);
});

test('per_connection_buffer_limit_bytes: a request body within the limit is resent on a retry; a larger one streams, and its retry is abandoned', async () => {
  const p = await startProxy(
    proxyYaml({
      listenerExtra: '      per_connection_buffer_limit_bytes: 1024',
      hcmExtra: '',
      routes: `                        - match: { prefix: "/" }
                          route: { cluster: up, retry_policy: { retry_on: 5xx, num_retries: 1, retry_back_off: { base_interval: 0.001s } } }`,
    }),
  );
  const small = await send(p.port, '/flaky', { method: 'POST', headers: { 'x-id': 'small' }, body: Buffer.alloc(900, 1) });
  assert.equal(small.status, 200);
  assert.equal(small.body, '2:900', 'the retry carried the whole body again');
  const large = await send(p.port, '/flaky', { method: 'POST', headers: { 'x-id': 'large' }, body: Buffer.alloc(4096, 1) });
  assert.equal(large.status, 503, 'no retry: the body outgrew the buffer');
  assert.equal(large.body, '1:4096', 'the first try got the whole body, streamed');
  assert.match(await stats(p.admin), /cluster\.up\.upstream_rq_retry_or_shadow_abandoned: 1\b/);
});

test('common_http_protocol_options.idle_timeout: an idle HTTP/1.1 keep-alive connection is closed, an idle HTTP/2 connection gets GOAWAY; counted', async () => {
  const p = await startProxy(
    proxyYaml({
      hcmExtra: '                common_http_protocol_options: { idle_timeout: 0.3s }',
      routes: `                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    }),
  );
  const sock = net.connect(p.port, '127.0.0.1');
  sock.on('error', () => undefined);
  let got = '';
  sock.setEncoding('latin1').on('data', (d: string) => (got += d));
  const t0 = Date.now();
  sock.write('GET /echo HTTP/1.1\r\nHost: x\r\n\r\n');
  const closedAfter = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`still open; got:\n${got}`)), 5000);
    sock.on('close', () => {
      clearTimeout(t);
      resolve(Date.now() - t0);
    });
  });
  assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(closedAfter >= 290, `closed after ${closedAfter} ms`);

  const session = http2.connect(`http://127.0.0.1:${p.port}`);
  session.on('error', () => undefined);
  const status = await new Promise<number>((resolve, reject) => {
    const s = session.request({ ':path': '/echo' });
    s.on('response', (h) => resolve(Number(h[':status'])));
    s.on('error', reject);
    s.resume();
  });
  assert.equal(status, 200);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no GOAWAY on an idle HTTP/2 connection')), 5000);
    session.once('goaway', () => {
      clearTimeout(t);
      resolve();
    });
  });
  session.destroy();
  assert.match(await stats(p.admin), /http\.main\.downstream_cx_idle_timeout: 2\b/);
});

test('drain_timeout: on SIGTERM an HTTP/2 client gets the shutdown notice at once and the final GOAWAY drain_timeout later; its stream in flight completes', async (t) => {
  // nghttp, not node's client: node answers a GOAWAY with its own, and node's server then closes at once.
  if (spawnSync('nghttp', ['--version']).error !== undefined) return t.skip('nghttp (nghttp2-client) is not installed');
  const file = writeTemp(
    'drain.yaml',
    proxyYaml({
      hcmExtra: '                drain_timeout: 0.3s',
      routes: `                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    }),
  );
  const cli = spawnCli(['run', file, '--no-access-log', '--no-watch', '--drain-timeout', '10s']);
  children.push(cli);
  const port = Number((await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
  // A 700 ms request in flight while the proxy is told to stop (nghttp leaves once it completes).
  const client = spawn('nghttp', ['-v', `http://127.0.0.1:${port}/slow`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  client.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => client.once('exit', (code) => r(code)));
  for (let i = 0; i < 100 && !out.includes('send HEADERS frame'); i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  cli.child.kill('SIGTERM');
  assert.equal(await exited, 0, out);
  assert.equal(await cli.exit(), 0);
  assert.match(out, /slow done/, 'the stream in flight completed');
  const goaways = [...out.matchAll(/\[\s*([\d.]+)\] recv GOAWAY frame [^\n]*\n\s*\(last_stream_id=(\d+)/g)].map((m) => ({ at: Number(m[1]), last: Number(m[2]) }));
  assert.ok(goaways.length >= 2, out);
  assert.equal(goaways[0]!.last, 2 ** 31 - 1, 'the shutdown notice');
  const stream = Number(/send HEADERS frame <[^>]*stream_id=(\d+)>/.exec(out)?.[1]);
  assert.equal(goaways[1]!.last, stream, 'the final GOAWAY names the last stream received');
  const gap = goaways[1]!.at - goaways[0]!.at;
  assert.ok(gap >= 0.28 && gap < 0.55, `final GOAWAY ${gap} s after the notice`);
});

/** Writes `raw` on a new connection and returns all it reads until the proxy closes it. */
async function rawExchange(port: number, raw: string): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  let got = '';
  sock.setEncoding('latin1').on('data', (d: string) => (got += d));
  sock.write(raw);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`still open; got:\n${got}`)), 5000);
    sock.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  return got;
}

test('http_protocol_options: HTTP/1.0 gets 426 Upgrade Required unless accept_http_10; default_host_for_http_10 gives a Host-less one its Host', async () => {
  const routes = `                        - match: { prefix: "/" }
                          route: { cluster: up }`;
  const strict = await startProxy(proxyYaml({ hcmExtra: '', routes }));
  const refused = await rawExchange(strict.port, 'GET /echo HTTP/1.0\r\nHost: x\r\n\r\n');
  assert.match(refused, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  assert.match(refused, /\r\n\r\nUpgrade Required$/);
  const lines = await accessLogLines(strict.log, 1);
  assert.equal(lines[0]?.response_flags, 'DPE');
  const lenient = await startProxy(
    proxyYaml({ hcmExtra: '                http_protocol_options: { accept_http_10: true, default_host_for_http_10: legacy.host }', routes }),
  );
  const served = await rawExchange(lenient.port, 'GET /echo HTTP/1.0\r\n\r\n');
  assert.match(served, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(served, /"host":"legacy\.host"/);
});
