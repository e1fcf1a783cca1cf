/**
 * meshctl's own downstream HTTP/1.1 codec through `meshctl run` (the real binary): pipelined requests answered in
 * order on every cleartext codec, a head and a chunked body that arrive one byte per read, keep-alive across
 * requests with and without bodies, chunked responses when the upstream gives no length, HEAD, `Connection: close`,
 * Expect: 100-continue from curl with a file body, and load from wrk and h2load --h1 (when installed).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeTemp } from './helpers.js';
import { Raw } from './raw-client.js';
import { accessLogLines, oneListenerYaml, spawnCli, type RunningCli } from './cli-helpers.js';

let upstream: http.Server;
let upstreamPort = 0;
const children: RunningCli[] = [];

before(async () => {
  // /len/N: N bytes with a content-length; /stream/N: N bytes with none (node sends them chunked); /echo: the body's
  // size and sha256 with the method and path.
  upstream = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      hash.update(c);
    });
    req.on('end', () => {
      const url = req.url ?? '/';
      const m = /^\/(len|stream)\/(\d+)/.exec(url);
      if (m) {
        const body = Buffer.alloc(Number(m[2]), 0x61);
        if (m[1] === 'len') res.writeHead(200, { 'content-length': body.length });
        else res.writeHead(200, { 'content-type': 'application/octet-stream' });
        // Two writes for /stream, so the proxy sees more than one chunk.
        if (m[1] === 'stream' && body.length > 1) {
          res.write(body.subarray(0, body.length >> 1));
          setTimeout(() => res.end(body.subarray(body.length >> 1)), 5);
        } else res.end(body);
        return;
      }
      const out = JSON.stringify({ method: req.method, url, bytes: n, sha256: hash.digest('hex'), expect: req.headers.expect ?? null });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstream.address() as net.AddressInfo).port;
});

after(() => {
  for (const ch of children) ch.kill();
  upstream.closeAllConnections();
  upstream.close();
});

function config(codec: 'AUTO' | 'HTTP1'): string {
  return oneListenerYaml({
    hcmExtra: `                codec_type: ${codec}`,
    routes: `                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    clusters: { up: upstreamPort },
  });
}

async function startProxy(codec: 'AUTO' | 'HTTP1' = 'AUTO', accessLog?: string): Promise<number> {
  const file = writeTemp('proxy.yaml', config(codec));
  const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--no-watch', ...(accessLog !== undefined ? ['--access-log', accessLog] : [])]);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on https?:\/\/127\.0\.0\.1:(\d+)/);
  return Number(m[1]);
}

/** Splits a byte stream of HTTP/1.1 responses (content-length or chunked framing) into status and body. */
function responses(text: string): { status: number; headers: Record<string, string>; body: string }[] {
  const out: { status: number; headers: Record<string, string>; body: string }[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = text.slice(at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0]!)?.[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    let p = end + 4;
    let body = '';
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const le = text.indexOf('\r\n', p);
        const size = parseInt(text.slice(p, le), 16);
        p = le + 2;
        if (size === 0) {
          p = text.indexOf('\r\n', p) + 2;
          break;
        }
        body += text.slice(p, p + size);
        p += size + 2;
      }
    } else {
      const n = Number(headers['content-length'] ?? 0);
      body = text.slice(p, p + n);
      p += n;
    }
    out.push({ status, headers, body });
    at = p;
  }
  return out;
}

test('pipelining: three requests in one write (GET, chunked POST, GET) are answered in order on HTTP1 and AUTO', async () => {
  for (const codec of ['HTTP1', 'AUTO'] as const) {
    const port = await startProxy(codec);
    const raw = new Raw(port);
    raw.sock.write(
      'GET /len/3 HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' +
        'GET /stream/10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    await raw.wait(() => raw.closed, 10_000);
    const rs = responses(raw.text());
    assert.equal(rs.length, 3, `${codec}: ${raw.text()}`);
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200]);
    assert.equal(rs[0]!.body, 'aaa');
    const echo = JSON.parse(rs[1]!.body) as { method: string; bytes: number; sha256: string };
    assert.equal(echo.method, 'POST');
    assert.equal(echo.bytes, 11);
    assert.equal(echo.sha256, createHash('sha256').update('hello world').digest('hex'));
    // No content-length from the upstream: chunked to the client, and the last response says it closes.
    assert.equal(rs[2]!.headers['transfer-encoding'], 'chunked', codec);
    assert.equal(rs[2]!.body, 'a'.repeat(10));
    assert.equal(rs[2]!.headers.connection, 'close');
    assert.equal(rs[0]!.headers.connection, undefined, 'a keep-alive HTTP/1.1 response says nothing of it');
  }
});

test('a head and a chunked body arriving one byte per read are parsed whole', async () => {
  const port = await startProxy('HTTP1');
  const raw = new Raw(port);
  await raw.trickle('POST /echo?split=1 HTTP/1.1\r\nHost: x\r\nX-Long-Header: abcdefghij\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  await raw.wait((t) => responses(t).length === 1);
  const [r] = responses(raw.text());
  assert.equal(r!.status, 200, raw.text());
  const echo = JSON.parse(r!.body) as { url: string; bytes: number };
  assert.equal(echo.url, '/echo?split=1');
  assert.equal(echo.bytes, 3);
  // The connection stays open for the next request, which is served too.
  raw.sock.write('GET /len/2 HTTP/1.1\r\nHost: x\r\n\r\n');
  await raw.wait((t) => responses(t).length === 2);
  assert.equal(responses(raw.text())[1]!.body, 'aa');
  assert.equal(raw.closed, false);
  raw.sock.destroy();
});

test('keep-alive: a large response, HEAD (no body, the length kept), then a body upload on one connection', async () => {
  const port = await startProxy('AUTO');
  const raw = new Raw(port);
  raw.sock.write('GET /len/200000 HTTP/1.1\r\nHost: x\r\n\r\n');
  await raw.wait((t) => responses(t).length === 1 && responses(t)[0]!.body.length === 200000);
  const before = raw.data.length;
  raw.sock.write('HEAD /len/50 HTTP/1.1\r\nHost: x\r\n\r\n');
  await raw.wait((t) => t.length > before && t.slice(before).includes('\r\n\r\n'));
  const head = raw.text().slice(before);
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\ncontent-length: 50\r\n/);
  assert.ok(head.endsWith('\r\n\r\n'), `no body after the head of a HEAD response: ${JSON.stringify(head)}`);
  const body = randomBytes(300_000);
  const after2 = raw.data.length;
  raw.sock.write(`PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
  raw.sock.write(body);
  await raw.wait((t) => t.length > after2 && responses(t.slice(after2)).length === 1);
  const echo = JSON.parse(responses(raw.text().slice(after2))[0]!.body) as { bytes: number; sha256: string };
  assert.equal(echo.bytes, body.length);
  assert.equal(echo.sha256, createHash('sha256').update(body).digest('hex'));
  raw.sock.destroy();
});

test('Expect: 100-continue from curl with a file body: 100 Continue, then the body reaches the upstream without the header', async (t) => {
  if (spawnSync('curl', ['--version']).status !== 0) return t.skip('curl is not installed');
  const port = await startProxy('HTTP1');
  const file = writeTemp('upload.bin', '');
  const body = randomBytes(70_000);
  writeFileSync(file, body);
  // Not spawnSync: the upstream lives in this process.
  const r = await runTool('curl', ['-sv', '--max-time', '10', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `http://127.0.0.1:${port}/echo`], 20_000);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
  const echo = JSON.parse(r.stdout) as { bytes: number; sha256: string; expect: string | null };
  assert.equal(echo.bytes, body.length);
  assert.equal(echo.sha256, createHash('sha256').update(body).digest('hex'));
  assert.equal(echo.expect, null, 'Expect is not forwarded');
});

test('a refused head is answered 400 with the status text, logged as a request with flag DPE, and the connection closed', async () => {
  const log = join(dirname(writeTemp('marker', '')), 'access.log');
  const port = await startProxy('HTTP1', log);
  const raw = new Raw(port);
  // The first request is served; the second's head is malformed (a space inside a header name).
  raw.sock.write('GET /len/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n');
  await raw.wait(() => raw.closed);
  const rs = responses(raw.text());
  assert.deepEqual(rs.map((r) => r.status), [200, 400], raw.text());
  assert.equal(rs[1]!.body, 'Bad Request');
  assert.equal(rs[1]!.headers.connection, 'close');
  const lines = await accessLogLines(log, 2);
  const refused = lines.find((l) => l.response_code === 400);
  assert.ok(refused !== undefined, JSON.stringify(lines));
  assert.equal(refused.response_flags, 'DPE');
  assert.equal(refused.method, '-');
});

/** Runs a load tool bounded in time, returns its output. */
function runTool(cmd: string, args: string[], ms: number): Promise<{ status: number | null; stdout: string; stderr: string; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const guard = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (status) => {
      clearTimeout(guard);
      resolve({ status, stdout: out, stderr: err, out: out + err });
    });
  });
}

test('wrk (keep-alive, 8 connections, 2 s): every response is a 200', async (t) => {
  if (spawnSync('wrk', ['--version']).error !== undefined) return t.skip('wrk is not installed');
  const port = await startProxy('HTTP1');
  const r = await runTool('wrk', ['-t1', '-c8', '-d2s', `http://127.0.0.1:${port}/len/100`], 20_000);
  const total = Number(/(\d+) requests in/.exec(r.out)?.[1] ?? 0);
  assert.ok(total > 100, r.out);
  assert.doesNotMatch(r.out, /Non-2xx or 3xx responses/, r.out);
  assert.doesNotMatch(r.out, /Socket errors/, r.out);
});

test('h2load --h1 (pipelined keep-alive, 4 clients × 500 requests): all succeed', async (t) => {
  if (spawnSync('h2load', ['--version']).error !== undefined) return t.skip('h2load is not installed');
  const port = await startProxy('AUTO');
  const r = await runTool('h2load', ['--h1', '-n2000', '-c4', '-m4', `http://127.0.0.1:${port}/len/64`], 30_000);
  assert.match(r.out, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored/, r.out);
  assert.match(r.out, /status codes: 2000 2xx/, r.out);
});

test('header bytes over 0x7f (obs-text) reach the upstream and come back as the same bytes, not re-encoded as UTF-8', async () => {
  // A raw upstream that records the request head's bytes and answers with an obs-text header of its own.
  let seen = Buffer.alloc(0);
  const raw = net.createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      seen = Buffer.concat([seen, d]);
      if (seen.includes('\r\n\r\n')) {
        sock.write(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nx-back: '), Buffer.from([0x6e, 0xe4, 0xff]), Buffer.from('\r\ncontent-length: 2\r\n\r\nok')]));
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
  try {
    const yaml = oneListenerYaml({
      routes: '                        - match: { prefix: "/" }\n                          route: { cluster: raw }',
      clusters: { raw: (raw.address() as net.AddressInfo).port },
    });
    const file = writeTemp('obs-text.yaml', yaml);
    const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--no-watch', '--no-access-log']);
    children.push(cli);
    const port = Number((await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    const value = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf" + 0xE9 (latin1 é)
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      let got = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.includes('\r\n\r\nok')) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on('error', reject);
      sock.write(Buffer.concat([Buffer.from('GET /obs HTTP/1.1\r\nHost: x\r\nx-name: '), value, Buffer.from('\r\n\r\n')]));
    });
    assert.ok(seen.includes(Buffer.concat([Buffer.from('x-name: '), value, Buffer.from('\r\n')])), `upstream saw ${JSON.stringify(seen.toString('latin1'))}`);
    assert.ok(answer.includes(Buffer.concat([Buffer.from('x-back: '), Buffer.from([0x6e, 0xe4, 0xff]), Buffer.from('\r\n')])), `client saw ${JSON.stringify(answer.toString('latin1'))}`);
  } finally {
    raw.close();
  }
});
