/**
 * Connection-manager and virtual-host settings through `meshctl run` (the real binary) with raw HTTP/1.1 clients:
 * always_set_request_id_in_response, require_tls, request_timeout.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { writeTemp } from './helpers.js';
import { oneListenerYaml, spawnCli, type RunningCli } from './cli-helpers.js';

let upstream: http.Server;
let upstreamPort = 0;
const seenIds: string[] = [];
const children: RunningCli[] = [];

before(async () => {
  upstream = http.createServer((req, res) => {
    seenIds.push(String(req.headers['x-request-id']));
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstream.address() as net.AddressInfo).port;
});

after(() => {
  for (const ch of children) ch.kill();
  upstream.closeAllConnections();
  upstream.close();
});

function config(hcmExtra: string, vhostExtra = ''): string {
  return oneListenerYaml({
    hcmExtra,
    vhostExtra,
    routes: `                        - match: { prefix: "/up" }
                          route: { cluster: up }
                        - match: { prefix: "/local" }
                          direct_response: { status: 200, body: { inline_string: local } }`,
    clusters: { up: upstreamPort },
  });
}

async function startProxy(yaml: string): Promise<{ port: number; admin: number }> {
  const file = writeTemp('hcm.yaml', yaml);
  const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on https?:\/\/127\.0\.0\.1:(\d+)/);
  const a = await cli.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/);
  return { port: Number(m[1]), admin: Number(a[1]) };
}

function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host: 'svc.test:8080', ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

test('always_set_request_id_in_response: the id the upstream got comes back, and local replies carry one', async () => {
  const off = await startProxy(config(''));
  const plain = await get(off.port, '/up');
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['x-request-id'], undefined, 'off by default');
  const { port } = await startProxy(config('                always_set_request_id_in_response: true'));
  const r = await get(port, '/up');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(r.headers['x-request-id'], seenIds[seenIds.length - 1]);
  const mine = await get(port, '/up', { 'x-request-id': 'client-chosen' });
  assert.equal(mine.headers['x-request-id'], 'client-chosen');
  const local = await get(port, '/nowhere');
  assert.equal(local.status, 404);
  assert.match(String(local.headers['x-request-id']), /^[0-9a-f-]{36}$/);
});

test('require_tls: ALL redirects plain HTTP to https (301, same host and path); EXTERNAL_ONLY lets internal requests by', async () => {
  const all = await startProxy(config('', '                      require_tls: ALL'));
  const r = await get(all.port, '/local/x?y=1');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, 'https://svc.test:8080/local/x?y=1');
  // Before any route is matched: a path no route takes is redirected too (not 404).
  assert.equal((await get(all.port, '/nowhere')).status, 301);
  const ext = await startProxy(config('                internal_address_config: {}', '                      require_tls: EXTERNAL_ONLY'));
  assert.equal((await get(ext.port, '/local')).status, 301);
  // Internal as Envoy decides it, not as the client claims: a single internal x-forwarded-for address.
  assert.equal((await get(ext.port, '/local', { 'x-envoy-internal': 'true' })).status, 301);
  const internal = await get(ext.port, '/local', { 'x-forwarded-for': '10.1.2.3' });
  assert.equal(internal.status, 200);
  assert.equal(internal.body, 'local');
});

test('request_timeout: a request body that does not arrive in time gets 408 "request timeout" and is counted', async () => {
  const { port, admin } = await startProxy(config('                request_timeout: 0.3s'));
  // A whole request is unaffected.
  assert.equal((await get(port, '/up')).status, 200);
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  let got = '';
  sock.setEncoding('latin1').on('data', (d: string) => (got += d));
  const t0 = Date.now();
  sock.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer; got:\n${got}`)), 5000);
    sock.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  const elapsed = Date.now() - t0;
  assert.match(got, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(got, /\r\n\r\nrequest timeout$/);
  assert.ok(elapsed >= 250 && elapsed < 3000, `answered after ${elapsed} ms`);
  const stats = await new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: admin, path: '/stats', agent: false }, (res) => {
      let b = '';
      res.setEncoding('utf8').on('data', (d: string) => (b += d));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
  assert.match(stats, /http\.main\.downstream_rq_timeout: 1\b/);
});
