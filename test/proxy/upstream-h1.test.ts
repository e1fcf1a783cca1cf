/**
 * meshctl's own HTTP/1.1 upstream client (src/upstream/h1-pool.ts, the default) through the real `meshctl run`
 * binary: HCM proxy_100_continue with curl, request trailers from a raw HTTP/1.1 client and from an HTTP/2 client
 * (node:http2) to HTTP/1.1 hosts per Envoy's enable_trailers, keep-alive reuse, and an upstream that closes its
 * connections (while idle, and as a request arrives: Envoy's 503 UC, retried under retry_on reset).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeTemp } from './helpers.js';
import { accessLogLines, H1_TRAILERS_UPSTREAM, oneListenerYaml, spawnCli, type RunningCli } from './cli-helpers.js';

const children: RunningCli[] = [];
const servers: net.Server[] = [];

after(() => {
  for (const ch of children) ch.kill();
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
});

async function listen<S extends net.Server>(s: S): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as net.AddressInfo).port;
}

interface ClusterSpec {
  port: number;
  /** The cluster's HttpProtocolOptions extension with explicit HTTP/1.1 and enable_trailers. */
  trailers?: boolean;
}

/** One listener, routes by prefix to clusters (`prefix → cluster`), each cluster one endpoint. */
function config(o: { hcmExtra?: string; routes: Readonly<Record<string, string>>; clusters: Readonly<Record<string, ClusterSpec>>; routeExtra?: string }): string {
  const routes = Object.entries(o.routes).map(
    ([prefix, cluster]) => `                        - match: { prefix: "${prefix}" }
                          route: { cluster: ${cluster}${o.routeExtra ?? ''} }`,
  );
  const clusters = Object.fromEntries(Object.entries(o.clusters).map(([name, c]) => [name, c.port]));
  const clusterExtra = Object.fromEntries(Object.entries(o.clusters).map(([name, c]) => [name, c.trailers === true ? H1_TRAILERS_UPSTREAM : '']));
  return oneListenerYaml({ ...(o.hcmExtra !== undefined ? { hcmExtra: o.hcmExtra } : {}), routes: routes.join('\n'), clusters, clusterExtra });
}

async function startProxy(yaml: string): Promise<{ port: number; log: string }> {
  const file = writeTemp('proxy.yaml', yaml);
  const log = join(dirname(file), 'access.log');
  const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--access-log', log, '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/);
  return { port: Number(m[1]), log };
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

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host: 'svc.test' }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

const hasCurl = spawnSync('sh', ['-c', 'command -v curl']).status === 0;

// ---- proxy_100_continue ----

/** What the upstream saw of an upload: the Expect header, when it sent its 100, when the body's first byte came. */
interface Upload {
  expect: string | undefined;
  continueAt: number;
  firstByteAt: number;
  bytes: number;
}

async function uploadUpstream(uploads: Upload[]): Promise<number> {
  const s = http.createServer();
  const receive = (req: http.IncomingMessage, res: http.ServerResponse, u: Upload): void => {
    uploads.push(u);
    const hash = createHash('sha256');
    req.on('data', (c: Buffer) => {
      if (u.firstByteAt === 0) u.firstByteAt = performance.now();
      u.bytes += c.length;
      hash.update(c);
    });
    req.on('end', () => {
      const body = JSON.stringify({ bytes: u.bytes, sha256: hash.digest('hex') });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
  // With Expect, node hands the request over without answering: the 100 goes out 300 ms later.
  s.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const u: Upload = { expect: req.headers.expect, continueAt: 0, firstByteAt: 0, bytes: 0 };
    setTimeout(() => {
      u.continueAt = performance.now();
      res.writeContinue();
    }, 300);
    receive(req, res, u);
  });
  s.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => receive(req, res, { expect: req.headers.expect, continueAt: 0, firstByteAt: 0, bytes: 0 }));
  return listen(s);
}

test('proxy_100_continue: Expect goes upstream, the upstream\'s 100 reaches curl, and the body follows it', { skip: !hasCurl && 'curl not installed' }, async () => {
  const uploads: Upload[] = [];
  const up = await uploadUpstream(uploads);
  const { port } = await startProxy(config({ hcmExtra: '                proxy_100_continue: true', routes: { '/': 'up' }, clusters: { up: { port: up } } }));
  const body = randomBytes(256 * 1024);
  const file = writeTemp('upload.bin', '');
  writeFileSync(file, body);
  // curl waits up to 10 s for the 100 before it sends the body anyway.
  const r = await run('curl', ['-sS', '-v', '--expect100-timeout', '10', '--data-binary', `@${file}`, '-H', 'Expect: 100-continue', `http://127.0.0.1:${port}/upload`]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
  const answer = JSON.parse(r.stdout) as { bytes: number; sha256: string };
  assert.equal(answer.bytes, body.length);
  assert.equal(answer.sha256, createHash('sha256').update(body).digest('hex'));
  assert.equal(uploads.length, 1);
  const u = uploads[0]!;
  assert.equal(u.expect, '100-continue', 'the Expect header went upstream');
  assert.ok(u.continueAt > 0, 'the upstream was asked for its 100');
  assert.ok(u.firstByteAt >= u.continueAt, `the body came after the upstream's 100 (${(u.firstByteAt - u.continueAt).toFixed(1)} ms)`);
});

test('without proxy_100_continue the proxy answers 100 itself and Expect stays behind (Envoy\'s default)', { skip: !hasCurl && 'curl not installed' }, async () => {
  const uploads: Upload[] = [];
  const up = await uploadUpstream(uploads);
  const { port } = await startProxy(config({ routes: { '/': 'up' }, clusters: { up: { port: up } } }));
  const body = randomBytes(64 * 1024);
  const file = writeTemp('upload.bin', '');
  writeFileSync(file, body);
  const r = await run('curl', ['-sS', '-v', '--expect100-timeout', '10', '--data-binary', `@${file}`, '-H', 'Expect: 100-continue', `http://127.0.0.1:${port}/upload`]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
  assert.equal((JSON.parse(r.stdout) as { bytes: number }).bytes, body.length);
  assert.equal(uploads.length, 1);
  assert.equal(uploads[0]!.expect, undefined, 'Expect is not forwarded');
  assert.equal(uploads[0]!.continueAt, 0, 'the upstream never had to answer 100');
});

// ---- request trailers ----

interface Trailed {
  path: string;
  body: string;
  trailers: Record<string, string | undefined>;
  te: string | undefined;
}

async function trailerUpstream(got: Trailed[]): Promise<number> {
  return listen(
    http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        got.push({ path: req.url ?? '', body, trailers: { ...req.trailers }, te: req.headers['transfer-encoding'] });
        res.end('ok');
      });
    }),
  );
}

/** A chunked request with a trailer field, written on a raw socket; resolves with what the proxy answered. */
function rawChunkedWithTrailers(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (/\r\n\r\nok$/.test(data)) {
        sock.destroy();
        resolve(data);
      }
    });
    sock.on('error', reject);
    sock.write(`POST ${path} HTTP/1.1\r\nHost: svc.test\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n5\r\nhello\r\n6\r\n world\r\n`);
    setTimeout(() => sock.write('0\r\nx-checksum: abc123\r\n\r\n'), 20);
  });
}

/** An HTTP/2 (prior knowledge) POST whose body ends with trailers. */
async function h2WithTrailers(port: number, path: string): Promise<number> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({ ':method': 'POST', ':path': path, ':authority': 'svc.test' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'h2sum' }));
    stream.end('hello over h2');
    return await new Promise<number>((resolve, reject) => {
      let status = 0;
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', () => undefined);
      stream.on('end', () => resolve(status));
      stream.on('error', reject);
    });
  } finally {
    session.close();
  }
}

test('request trailers: HTTP/1.1 chunked and HTTP/2 trailers reach an HTTP/1.1 host with enable_trailers; dropped without it', async () => {
  const got: Trailed[] = [];
  const up = await trailerUpstream(got);
  const routes = { '/tr': 'tr', '/': 'plain' };
  const clusters = { tr: { port: up, trailers: true }, plain: { port: up } };
  const a = await startProxy(
    config({ hcmExtra: '                http_protocol_options: { enable_trailers: true }\n                codec_type: AUTO', routes, clusters }),
  );
  assert.match(await rawChunkedWithTrailers(a.port, '/tr/h1'), /^HTTP\/1\.1 200/);
  assert.equal(await h2WithTrailers(a.port, '/tr/h2'), 200);
  assert.match(await rawChunkedWithTrailers(a.port, '/plain/h1'), /^HTTP\/1\.1 200/);
  assert.equal(await h2WithTrailers(a.port, '/plain/h2'), 200);
  const by = (p: string): Trailed => got.find((g) => g.path === p) ?? assert.fail(`${p} did not reach the upstream`);
  assert.deepEqual(by('/tr/h1'), { path: '/tr/h1', body: 'hello world', trailers: { 'x-checksum': 'abc123' }, te: 'chunked' });
  assert.deepEqual(by('/tr/h2'), { path: '/tr/h2', body: 'hello over h2', trailers: { 'x-checksum': 'h2sum' }, te: 'chunked' });
  // The cluster without enable_trailers: Envoy's HTTP/1 codec drops proxied trailers.
  assert.deepEqual(by('/plain/h1').trailers, {});
  assert.equal(by('/plain/h1').body, 'hello world');
  assert.deepEqual(by('/plain/h2').trailers, {});

  // The connection manager without enable_trailers drops an HTTP/1.1 client's trailers; HTTP/2 ones still go.
  const b = await startProxy(config({ hcmExtra: '                codec_type: AUTO', routes, clusters }));
  assert.match(await rawChunkedWithTrailers(b.port, '/tr/h1-off'), /^HTTP\/1\.1 200/);
  assert.equal(await h2WithTrailers(b.port, '/tr/h2-off'), 200);
  assert.deepEqual(by('/tr/h1-off').trailers, {});
  assert.equal(by('/tr/h1-off').body, 'hello world');
  assert.deepEqual(by('/tr/h2-off').trailers, { 'x-checksum': 'h2sum' });
});

test('response trailers: an HTTP/1.1 host\'s chunked trailers reach an HTTP/1.1 client only when the cluster and the connection manager both enable_trailers', async () => {
  // A raw host answering with a chunked body and a trailer, keep-alive.
  const up = await listen(
    net.createServer((sock) => {
      sock.on('data', () => sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n2\r\nok\r\n0\r\nx-sum: 42\r\n\r\n'));
      sock.on('error', () => undefined);
    }),
  );
  /** The raw response to a GET, once its last chunk (and any trailers) have come. */
  const rawGet = (port: number, path: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      let data = '';
      sock.on('data', (d: Buffer) => {
        data += d.toString('latin1');
        if (/\r\n0\r\n(?:[^\r]+\r\n)*\r\n$/.test(data)) {
          sock.destroy();
          resolve(data);
        }
      });
      sock.on('error', reject);
      sock.write(`GET ${path} HTTP/1.1\r\nHost: svc.test\r\n\r\n`);
    });
  const clusters = { tr: { port: up, trailers: true }, plain: { port: up } };
  const routes = { '/tr': 'tr', '/': 'plain' };
  const on = await startProxy(config({ hcmExtra: '                http_protocol_options: { enable_trailers: true }', routes, clusters }));
  const both = await rawGet(on.port, '/tr/x');
  assert.match(both, /transfer-encoding: chunked\r\n/i);
  assert.match(both, /\r\n0\r\nx-sum: 42\r\n\r\n$/, 'the trailer in the last chunk');
  // The cluster without enable_trailers: its HTTP/1 codec drops the host's trailers.
  assert.match(await rawGet(on.port, '/plain/x'), /\r\n0\r\n\r\n$/);
  // The connection manager without enable_trailers: the downstream codec drops them.
  const off = await startProxy(config({ routes, clusters }));
  assert.match(await rawGet(off.port, '/tr/x'), /\r\n0\r\n\r\n$/);
});

// ---- connections ----

test('keep-alive: 20 requests one after another share one upstream connection', async () => {
  let connections = 0;
  const s = http.createServer((_req, res) => res.end('ok'));
  s.on('connection', () => connections++);
  const up = await listen(s);
  const { port } = await startProxy(config({ routes: { '/': 'up' }, clusters: { up: { port: up } } }));
  for (let i = 0; i < 20; i++) assert.equal((await get(port, `/n${i}`)).status, 200);
  assert.equal(connections, 1);
});

test('an upstream that closes an idle connection: the next request takes a new one and succeeds', async () => {
  let connections = 0;
  // A raw host that answers with keep-alive, then closes the connection 100 ms after its answer.
  const s = net.createServer((sock) => {
    connections++;
    sock.on('data', () => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => sock.end(), 100);
    });
    sock.on('error', () => undefined);
  });
  const up = await listen(s);
  const { port } = await startProxy(config({ routes: { '/': 'up' }, clusters: { up: { port: up } } }));
  assert.equal((await get(port, '/one')).status, 200);
  await new Promise((r) => setTimeout(r, 400));
  const two = await get(port, '/two');
  assert.equal(two.status, 200, two.body);
  assert.equal(connections, 2);
});

/** A raw host that answers the first request of each connection (keep-alive) and closes the connection when the
 * second arrives, without answering: the host closing an idle connection just as the proxy reuses it. */
async function closingHost(): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const s = net.createServer((sock) => {
    n++;
    let requests = 0;
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        if (++requests === 1) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else sock.end();
      }
    });
    sock.on('error', () => undefined);
  });
  const port = await listen(s);
  return { port, connections: () => n };
}

test('the keep-alive race: a reused connection closed before any response byte is 503 UC, and retry_on reset retries it', async () => {
  const host = await closingHost();
  const plain = await startProxy(config({ routes: { '/': 'up' }, clusters: { up: { port: host.port } } }));
  assert.equal((await get(plain.port, '/first')).status, 200);
  const second = await get(plain.port, '/second');
  assert.equal(second.status, 503);
  assert.match(second.body, /reset reason: connection termination/);
  const lines = await accessLogLines(plain.log, 2);
  assert.equal(lines.find((l) => l.path === '/second')?.response_flags, 'UC');

  const retried = await startProxy(
    config({ routes: { '/': 'up' }, clusters: { up: { port: host.port } }, routeExtra: ', retry_policy: { retry_on: reset, num_retries: 1 }' }),
  );
  const before = host.connections();
  assert.equal((await get(retried.port, '/first')).status, 200);
  const again = await get(retried.port, '/second');
  assert.equal(again.status, 200, again.body);
  assert.equal(again.body, 'ok');
  assert.equal(host.connections() - before, 2, 'the retry went out on a new connection');
});
