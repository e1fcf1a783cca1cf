/**
 * HTTP/1.1 semantics through `meshctl run` (the real binary) with clients no one here wrote (curl) and raw
 * sockets: Expect: 100-continue, upgrades (WebSocket) per upgrade_configs, CONNECT.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { writeTemp } from './helpers.js';
import { Raw } from './raw-client.js';
import { accessLogLines, oneListenerYaml, spawnCli, type RunningCli } from './cli-helpers.js';

/** What the upstream saw of each request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

let upstream: http.Server;
let upstreamPort = 0;
/** A plain TCP server for CONNECT tunnels: echoes each chunk in angle brackets. */
let tcpEcho: net.Server;
let tcpEchoPort = 0;
const seen: Seen[] = [];
const children: RunningCli[] = [];

before(async () => {
  upstream = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const hash = createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      hash.update(c);
    });
    req.on('end', () => {
      const body = JSON.stringify({ bytes: n, sha256: hash.digest('hex') });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  // A WebSocket handshake by hand (RFC 6455 §4.2.2), then every byte echoed back upper-cased.
  upstream.on('upgrade', (req: http.IncomingMessage, sock: net.Socket, head: Buffer) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const echo = (d: Buffer): void => void sock.write(d.toString('latin1').toUpperCase());
    if (head.length > 0) echo(head);
    sock.on('data', echo);
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstream.address() as net.AddressInfo).port;
  tcpEcho = net.createServer((sock) => {
    sock.on('data', (d: Buffer) => sock.write(`<${d.toString('latin1')}>`));
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', () => r()));
  tcpEchoPort = (tcpEcho.address() as net.AddressInfo).port;
});

after(() => {
  for (const ch of children) ch.kill();
  upstream.closeAllConnections();
  upstream.close();
  tcpEcho.close();
});

function config(o: { hcmExtra?: string; routes?: string } = {}): string {
  return oneListenerYaml({
    ...(o.hcmExtra !== undefined ? { hcmExtra: o.hcmExtra } : {}),
    routes:
      o.routes ??
      `                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    clusters: { up: upstreamPort, tcp: tcpEchoPort },
  });
}

async function startProxy(yaml: string): Promise<{ cli: RunningCli; port: number; log: string }> {
  const file = writeTemp('proxy.yaml', yaml);
  const log = join(dirname(file), 'access.log');
  const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--access-log', log, '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on https?:\/\/127\.0\.0\.1:(\d+)/);
  return { cli, port: Number(m[1]), log };
}

function run(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('Expect: 100-continue is answered by the proxy and not forwarded (Envoy default): curl uploads over 1 MiB', async (t) => {
  const { port } = await startProxy(config());
  // A raw client: headers with Expect, then the body only once 100 Continue has come.
  const raw = new Raw(port);
  raw.sock.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  assert.match(await raw.wait(/\r\n\r\n/), /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
  raw.sock.write('hello');
  const resp = await raw.wait(/"sha256":"[0-9a-f]+"\}/);
  assert.match(resp, /HTTP\/1\.1 200 OK/);
  assert.match(resp, /"bytes":5,/);
  raw.sock.destroy();
  const up = seen.find((s) => s.url === '/upload');
  assert.ok(up !== undefined);
  assert.equal(up.headers.expect, undefined, 'the Expect header is not forwarded');

  if (spawnSync('sh', ['-c', 'command -v curl']).status !== 0) {
    console.log('# curl not installed: the curl upload part is skipped');
    return t.skip('curl not installed');
  }
  const body = randomBytes(1536 * 1024);
  const file = writeTemp('big.bin', '');
  writeFileSync(file, body);
  // curl sends Expect: 100-continue by itself for a body over 1 MiB.
  // Not spawnSync: the upstream lives in this process and must keep answering.
  const r = await run('curl', ['-sS', '-v', '--data-binary', `@${file}`, '-H', 'content-type: application/octet-stream', `http://127.0.0.1:${port}/big`]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /> Expect: 100-continue/i);
  assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
  const answer = JSON.parse(r.stdout) as { bytes: number; sha256: string };
  assert.equal(answer.bytes, body.length);
  assert.equal(answer.sha256, createHash('sha256').update(body).digest('hex'));
});

const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const WS_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='; // RFC 6455's own example
const wsRequest = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

test('WebSocket without upgrade_configs: 403 as Envoy answers, logged; nothing reaches the upstream', async () => {
  const { port, log } = await startProxy(config());
  const before = seen.length;
  const raw = new Raw(port);
  raw.sock.write(wsRequest('/ws'));
  const resp = await raw.wait(/\r\n\r\n/);
  assert.match(resp, /^HTTP\/1\.1 403 Forbidden\r\n/);
  raw.sock.destroy();
  assert.equal(seen.length, before);
  const lines = await accessLogLines(log, 1);
  assert.ok(lines.some((l) => l.path === '/ws' && l.response_code === 403), JSON.stringify(lines));
});

test('an open WebSocket tunnel is a stream to stream_idle_timeout: bytes either way keep it, silence closes it (flag SI)', async () => {
  const { port, log } = await startProxy(config({ hcmExtra: '                upgrade_configs: [{ upgrade_type: websocket }]\n                stream_idle_timeout: 0.6s' }));
  const raw = new Raw(port);
  raw.sock.write(wsRequest('/idle'));
  assert.match(await raw.wait(/\r\n\r\n/), /^HTTP\/1\.1 101 /);
  const opened = performance.now();
  // Traffic every 200 ms for 1.5 s (over twice the timeout): the tunnel stays open.
  for (let i = 0; i < 8; i++) {
    const start = raw.data.length;
    raw.sock.write(`ping${i}`);
    await raw.wait((t) => t.slice(start).includes(`PING${i}`));
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(raw.closed, false, 'bytes both ways kept the tunnel open past its idle timeout');
  const quiet = performance.now();
  await raw.wait(() => raw.closed, 5000);
  const idleFor = performance.now() - quiet;
  assert.ok(idleFor >= 550 && idleFor < 2500, `closed ${Math.round(idleFor)} ms after the last byte (timeout 600 ms)`);
  assert.ok(quiet - opened > 1400);
  const lines = await accessLogLines(log, 1);
  const line = lines.find((l) => l.path === '/idle');
  assert.equal(line?.response_code, 101);
  assert.match(String(line?.response_flags), /SI/);
});

test('WebSocket with the connection manager upgrade_configs: 101 from the upstream, then bytes both ways', async () => {
  const { port, log } = await startProxy(config({ hcmExtra: '                upgrade_configs: [{ upgrade_type: websocket }]' }));
  const raw = new Raw(port);
  raw.sock.write(wsRequest('/chat?room=1'));
  const resp = await raw.wait(/\r\n\r\n/);
  assert.match(resp, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(resp, new RegExp(`Sec-WebSocket-Accept: ${WS_ACCEPT.replace(/[+/]/g, '\\$&')}\r\n`));
  const up = seen.find((s) => s.url === '/chat?room=1');
  assert.equal(up?.headers.upgrade, 'websocket');
  assert.match(String(up?.headers.connection), /upgrade/i);
  assert.equal(up?.headers['sec-websocket-key'], WS_KEY);
  // The tunnel: client → upstream and back (upper-cased by the upstream), twice.
  const start = raw.data.length;
  raw.sock.write('hello');
  await raw.wait((t) => t.slice(start).includes('HELLO'));
  raw.sock.write('again');
  await raw.wait((t) => t.slice(start).includes('AGAIN'));
  raw.sock.end();
  const lines = await accessLogLines(log, 1);
  assert.ok(lines.some((l) => l.path === '/chat?room=1' && l.response_code === 101), JSON.stringify(lines));
});

test('route upgrade_configs: a route can refuse what the connection manager allows, and allow what it does not', async () => {
  const routes = `                        - match: { prefix: "/off" }
                          route: { cluster: up, upgrade_configs: [{ upgrade_type: websocket, enabled: false }] }
                        - match: { prefix: "/" }
                          route: { cluster: up }`;
  const a = await startProxy(config({ hcmExtra: '                upgrade_configs: [{ upgrade_type: websocket }]', routes }));
  const off = new Raw(a.port);
  off.sock.write(wsRequest('/off'));
  assert.match(await off.wait(/\r\n\r\n/), /^HTTP\/1\.1 403 /);
  off.sock.destroy();
  const on = new Raw(a.port);
  on.sock.write(wsRequest('/on'));
  assert.match(await on.wait(/\r\n\r\n/), /^HTTP\/1\.1 101 /);
  on.sock.destroy();
  const b = await startProxy(
    config({
      routes: `                        - match: { prefix: "/" }
                          route: { cluster: up, upgrade_configs: [{ upgrade_type: websocket }] }`,
    }),
  );
  const routeOnly = new Raw(b.port);
  routeOnly.sock.write(wsRequest('/route'));
  assert.match(await routeOnly.wait(/\r\n\r\n/), /^HTTP\/1\.1 101 /);
  routeOnly.sock.destroy();
});

test('CONNECT: 404 without a connect_matcher route, 403 without a CONNECT upgrade config, else a TCP tunnel', async () => {
  const connectReq = 'CONNECT tunnel.test:443 HTTP/1.1\r\nHost: tunnel.test:443\r\n\r\n';
  const plain = await startProxy(config());
  const r404 = new Raw(plain.port);
  r404.sock.write(connectReq);
  assert.match(await r404.wait(/\r\n\r\n/), /^HTTP\/1\.1 404 /);
  r404.sock.destroy();
  const plainLines = await accessLogLines(plain.log, 1);
  assert.ok(plainLines.some((l) => l.method === 'CONNECT' && l.response_code === 404 && l.response_flags === 'NR'), JSON.stringify(plainLines));

  const matcherOnly = await startProxy(
    config({
      routes: `                        - match: { connect_matcher: {} }
                          route: { cluster: tcp }
                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    }),
  );
  const r403 = new Raw(matcherOnly.port);
  r403.sock.write(connectReq);
  assert.match(await r403.wait(/\r\n\r\n/), /^HTTP\/1\.1 403 /);
  r403.sock.destroy();

  const tunnel = await startProxy(
    config({
      routes: `                        - match: { connect_matcher: {} }
                          route: { cluster: tcp, upgrade_configs: [{ upgrade_type: CONNECT }] }
                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    }),
  );
  const t = new Raw(tunnel.port);
  t.sock.write(connectReq);
  assert.match(await t.wait(/\r\n\r\n/), /^HTTP\/1\.1 200 /);
  const start = t.data.length;
  t.sock.write('ping');
  await t.wait((x) => x.slice(start).includes('<ping>'));
  t.sock.end();
  const lines = await accessLogLines(tunnel.log, 1);
  assert.ok(lines.some((l) => l.method === 'CONNECT' && l.response_code === 200), JSON.stringify(lines));
  // A plain request on the same listener still goes to the HTTP route.
  const g = new Raw(tunnel.port);
  g.sock.write('GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(await g.wait(/"sha256"/), /^HTTP\/1\.1 200 /);
});

test('Upgrade: h2c is not performed (Envoy drops it): requests with and without a body are served as plain ones', async () => {
  const { port } = await startProxy(config());
  const get = new Raw(port);
  get.sock.write('GET /h2c-get HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n');
  assert.match(await get.wait(/"sha256":"[0-9a-f]+"\}/), /^HTTP\/1\.1 200 OK\r\n/);
  get.sock.destroy();
  const post = new Raw(port);
  post.sock.write('POST /h2c-post HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\n');
  await new Promise((r) => setTimeout(r, 50));
  post.sock.write('hello');
  const resp = await post.wait(/"sha256":"[0-9a-f]+"\}/);
  assert.match(resp, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(resp, /"bytes":5,/);
  post.sock.destroy();
  for (const path of ['/h2c-get', '/h2c-post']) {
    const up = seen.find((s) => s.url === path);
    assert.ok(up !== undefined, path);
    assert.equal(up.headers.upgrade, undefined);
    assert.equal(up.headers['http2-settings'], undefined);
  }
});
