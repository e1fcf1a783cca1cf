/**
 * meshctl's HTTP/1.1 upstream client (src/upstream/h1-pool.ts) against raw hosts on 127.0.0.1 that write exactly
 * the bytes a case needs: framing (length, chunked with trailers, read until close, HEAD, 204/304, interim 1xx),
 * a response fed byte by byte, flow control, what the request looks like on the wire, failures and their kinds,
 * and the connection limit's queue.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { H1Pool } from '../../src/upstream/h1-pool.js';
import type { AttemptControl, AttemptSink, PoolOptions, UpstreamRequest } from '../../src/upstream/pool.js';
import type { OutHeaders } from '../../src/http/headers.js';
import { upstreamRequestHead, upstreamLastChunk, Framing } from '../../src/upstream/h1-request-head.js';

const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A raw host: `answer` gets each connection's bytes so far and writes what it likes. */
async function rawHost(answer: (sock: net.Socket, seen: string, conn: number) => void): Promise<{ port: number; connections: () => number; received: string[] }> {
  let n = 0;
  const received: string[] = [];
  const s = net.createServer((sock) => {
    const id = n++;
    received[id] = '';
    sock.on('data', (d: Buffer) => {
      received[id] += d.toString('latin1');
      answer(sock, received[id]!, id);
    });
    sock.on('error', () => undefined);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as net.AddressInfo).port, connections: () => n, received };
}

interface Events {
  connects: number;
  disconnects: number;
  connectFails: number;
}

function pool(port: number, extra: Partial<PoolOptions> = {}): { pool: H1Pool; ev: Events } {
  const ev: Events = { connects: 0, disconnects: 0, connectFails: 0 };
  const p = new H1Pool({
    ip: '127.0.0.1',
    port,
    protocol: 'http1',
    connectTimeoutMs: 1000,
    events: { onConnect: () => ev.connects++, onDisconnect: () => ev.disconnects++, onConnectFail: () => ev.connectFails++ },
    ...extra,
  });
  return { pool: p, ev };
}

interface Outcome {
  status: number;
  headers: OutHeaders;
  body: string;
  trailers: OutHeaders | null;
  error: string | null;
  continues: number;
}

/** Sends one request and collects what the sink was told. `onData` may act on the control (pause, abort). */
function send(p: H1Pool, req: Partial<UpstreamRequest>, onData?: (ctl: AttemptControl, chunk: Buffer) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { status: 0, headers: {}, body: '', trailers: null, error: null, continues: 0 };
    let ctl: AttemptControl | undefined;
    const sink: AttemptSink = {
      onStart: (c) => (ctl = c),
      onHeaders: (status, headers) => {
        out.status = status;
        out.headers = headers;
      },
      onData: (c) => {
        out.body += c.toString('latin1');
        onData?.(ctl!, c);
      },
      onEnd: (t) => {
        out.trailers = t;
        resolve(out);
      },
      onError: (kind, detail) => {
        out.error = `${kind}: ${detail}`;
        resolve(out);
      },
      onContinue: () => out.continues++,
    };
    p.dispatch({ method: 'GET', path: '/', headers: { host: 'h.test' }, body: null, ...req }, sink);
  });
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** The request-target of the last request line in what a connection received. */
function lastTarget(seen: string): string | undefined {
  const lines = [...seen.matchAll(/[A-Z]+ (\S+) HTTP\/1\.1\r\n/g)];
  return lines[lines.length - 1]?.[1];
}

/** Whether the last request in what a connection received is whole (by its Content-Length or chunked framing). */
function lastRequestWhole(seen: string): boolean {
  const start = Math.max(...[...seen.matchAll(/[A-Z]+ \S+ HTTP\/1\.1\r\n/g)].map((m) => m.index));
  const req = seen.slice(start);
  const headEnd = req.indexOf('\r\n\r\n');
  if (headEnd < 0) return false;
  const head = req.slice(0, headEnd).toLowerCase();
  const body = req.slice(headEnd + 4);
  if (head.includes('transfer-encoding: chunked')) return /(^|\r\n)0\r\n(?:[^\r\n]+\r\n)*\r\n$/.test(body);
  const cl = /content-length: (\d+)/.exec(head);
  return body.length >= (cl === null ? 0 : Number(cl[1]));
}

test('request heads: one string with the framing header the body needs; a field that would split the request is refused', () => {
  assert.equal(upstreamRequestHead('GET', '/a?b', { host: 'h', 'x-a': ['1', '2'], skip: undefined }, Framing.None, -1), 'GET /a?b HTTP/1.1\r\nhost: h\r\nx-a: 1\r\nx-a: 2\r\n\r\n');
  assert.equal(upstreamRequestHead('POST', '/', { host: 'h' }, Framing.Length, 5), 'POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\n\r\n');
  assert.equal(upstreamRequestHead('POST', '/', { host: 'h' }, Framing.Chunked, -1), 'POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n');
  assert.equal(upstreamRequestHead('GET', '/', { host: 'h', 'x-evil': 'a\r\nGET /smuggled HTTP/1.1' }, Framing.None, -1), null);
  assert.equal(upstreamRequestHead('GET', '/', { 'bad name': 'v' }, Framing.None, -1), null);
  assert.equal(upstreamRequestHead('GET', '/a b', { host: 'h' }, Framing.None, -1), null);
  assert.equal(upstreamLastChunk(null), '0\r\n\r\n');
  assert.equal(upstreamLastChunk({ 'x-sum': 'abc', 'x-two': ['1', '2'] }), '0\r\nx-sum: abc\r\nx-two: 1\r\nx-two: 2\r\n\r\n');
  assert.equal(upstreamLastChunk({ 'x-sum': 'a\nb' }), null);
});

test('framing: length, chunked with trailers, read until close, HEAD, 204, 304, and an interim 100 before the answer', async () => {
  const host = await rawHost((sock, seen) => {
    if (!seen.endsWith('\r\n\r\n')) return;
    const target = lastTarget(seen);
    switch (target) {
      case '/chunked':
        return void sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nGrpc-Status: 0\r\nX-Two: 1\r\nx-two: 2\r\n\r\n');
      case '/close':
        sock.write('HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil ');
        return void setTimeout(() => sock.end('the end'), 20);
      case '/head':
        return void sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      case '/204':
        return void sock.write('HTTP/1.1 204 No Content\r\n\r\n');
      case '/304':
        return void sock.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n');
      case '/interim':
        sock.write('HTTP/1.1 100 Continue\r\n\r\n');
        return void setTimeout(() => sock.write(OK), 10);
      default:
        return void sock.write(OK);
    }
  });
  // The cluster's enable_trailers: response trailers are kept (without it, Envoy's HTTP/1 codec drops them).
  const { pool: p } = pool(host.port, { enableTrailers: true });
  const chunked = await send(p, { path: '/chunked' });
  assert.deepEqual([chunked.status, chunked.body, chunked.error], [200, 'abcde', null]);
  assert.equal(chunked.headers['transfer-encoding'], undefined, 'hop-by-hop headers are left out');
  assert.equal(chunked.headers.connection, undefined);
  assert.deepEqual(chunked.trailers, { 'grpc-status': '0', 'x-two': ['1', '2'] });
  const head = await send(p, { path: '/head', method: 'HEAD' });
  assert.deepEqual([head.status, head.body, head.headers['content-length']], [200, '', '1000']);
  const no = await send(p, { path: '/204' });
  assert.deepEqual([no.status, no.body], [204, '']);
  const nm = await send(p, { path: '/304' });
  assert.deepEqual([nm.status, nm.body], [304, '']);
  const interim = await send(p, { path: '/interim' });
  assert.deepEqual([interim.status, interim.body, interim.continues], [200, 'ok', 1]);
  assert.equal(host.connections(), 1, 'every response so far left the connection reusable');
  const close = await send(p, { path: '/close' });
  assert.deepEqual([close.status, close.body, close.trailers, close.error], [200, 'until the end', null, null]);
  const after = await send(p, { path: '/after' });
  assert.equal(after.body, 'ok');
  assert.equal(host.connections(), 2, 'a response read until close takes its connection with it');
  p.destroy();
  const { pool: dropping } = pool(host.port);
  const dropped = await send(dropping, { path: '/chunked' });
  assert.deepEqual([dropped.body, dropped.trailers], ['abcde', null], 'trailers dropped without enable_trailers');
  dropping.destroy();
});

test('a response fed one byte at a time parses the same', async () => {
  const answer = 'HTTP/1.1 201 Created\r\nX-Long: ' + 'v'.repeat(300) + '\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n';
  const host = await rawHost((sock, seen) => {
    if (!seen.endsWith('\r\n\r\n')) return;
    let i = 0;
    const drip = (): void => {
      if (i < answer.length) sock.write(answer[i++]!, () => setImmediate(drip));
    };
    drip();
  });
  const { pool: p } = pool(host.port, { enableTrailers: true });
  const r = await send(p, {});
  assert.deepEqual([r.status, r.body, r.headers['x-long'], r.trailers], [201, 'hello', 'v'.repeat(300), { 'x-t': '1' }]);
  p.destroy();
});

test('the request on the wire: one head, a Buffer body with its length, a streamed body chunked with its trailers', async () => {
  const host = await rawHost((sock, seen) => {
    if (lastRequestWhole(seen)) sock.write(OK);
  });
  const { pool: p } = pool(host.port, { enableTrailers: true });
  await send(p, { method: 'POST', path: '/buf', body: Buffer.from('hello') });
  assert.equal(host.received[0], 'POST /buf HTTP/1.1\r\nhost: h.test\r\ncontent-length: 5\r\n\r\nhello');
  async function* parts(): AsyncGenerator<Buffer> {
    yield Buffer.from('ab');
    await new Promise((r) => setTimeout(r, 10));
    yield Buffer.from('cde');
  }
  const trailers: OutHeaders = { 'x-sum': 'abc' };
  await send(p, { method: 'POST', path: '/stream', body: parts(), trailers });
  assert.equal(
    host.received[0]!.slice(host.received[0]!.indexOf('POST /stream')),
    'POST /stream HTTP/1.1\r\nhost: h.test\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\nx-sum: abc\r\n\r\n',
  );
  assert.equal(host.connections(), 1);
  // A request header that would split the request is refused before anything is written.
  const bad = await send(p, { headers: { host: 'h', 'x-a': 'b\r\nx-b: c' } });
  assert.equal(bad.error, 'protocol: invalid request header');
  p.destroy();
});

test('flow control: a paused attempt reads nothing until it resumes, and gets every byte', async () => {
  const big = 'x'.repeat(256 * 1024);
  const host = await rawHost((sock, seen) => {
    if (seen.endsWith('\r\n\r\n')) sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
  });
  const { pool: p } = pool(host.port);
  let pausedAt = -1;
  let during = 0;
  let seen = 0;
  const r = await send(p, {}, (ctl, c) => {
    seen += c.length;
    if (pausedAt < 0) {
      pausedAt = seen;
      ctl.pause();
      setTimeout(() => {
        during = seen - pausedAt;
        ctl.resume();
      }, 100);
    }
  });
  assert.equal(r.body.length, big.length);
  assert.equal(during, 0, 'no data while paused');
  assert.ok(pausedAt < big.length);
  p.destroy();
});

test('failures: refused, garbage, a close mid-body, an abort; each with the kind the undici path gives', async () => {
  const closed = await rawHost(() => undefined);
  const refusedPort = closed.port;
  await new Promise<void>((r) => servers.pop()!.close(() => r()));
  const refused = pool(refusedPort);
  const e1 = await send(refused.pool, {});
  assert.equal(e1.error, 'connect-failure: delayed connect error: Connection refused');
  assert.equal(refused.ev.connectFails, 1);

  const host = await rawHost((sock, seen) => {
    if (!seen.endsWith('\r\n\r\n')) return;
    if (seen.includes('/garbage')) sock.write('HTTP/1.1 2x0 Nope\r\n\r\n');
    else if (seen.includes('/cut')) {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
      setTimeout(() => sock.end(), 20);
    } else if (seen.includes('/slow')) setTimeout(() => sock.writable && sock.write(OK), 200);
  });
  const { pool: p, ev } = pool(host.port);
  const garbage = await send(p, { path: '/garbage' });
  assert.match(garbage.error ?? '', /^protocol: http1\./);
  const cut = await send(p, { path: '/cut' });
  assert.deepEqual([cut.status, cut.body, cut.error], [200, 'partial', 'termination: connection termination']);
  // An abort closes the connection in use; the sink hears nothing more.
  let told = 0;
  p.dispatch({ method: 'GET', path: '/slow', headers: { host: 'h' }, body: null }, {
    onStart: (ctl) => setTimeout(() => ctl.abort(new Error('gone')), 50),
    onHeaders: () => told++,
    onData: () => told++,
    onEnd: () => told++,
    onError: () => told++,
  });
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(told, 0);
  assert.equal(ev.connects, 3);
  assert.equal(ev.disconnects, 3);
  p.destroy();
});

test('maxConnections: requests beyond it wait for a connection, then reuse it', async () => {
  const host = await rawHost((sock, seen) => {
    if (seen.endsWith('\r\n\r\n')) setTimeout(() => sock.write(OK), 30);
  });
  const { pool: p } = pool(host.port, { maxConnections: 2 });
  const all = await Promise.all(Array.from({ length: 6 }, (_, i) => send(p, { path: `/${i}` })));
  assert.deepEqual(
    all.map((r) => r.body),
    Array.from({ length: 6 }, () => 'ok'),
  );
  assert.equal(host.connections(), 2);
  p.destroy();
});

test('connect timeout: a TLS host that never answers the handshake is connect-timeout, counted once', async () => {
  // The TCP connection is accepted; the handshake (part of connecting under TLS) never completes.
  const host = await rawHost(() => undefined);
  const { pool: p, ev } = pool(host.port, { connectTimeoutMs: 200, tls: { rejectUnauthorized: false } });
  const t0 = performance.now();
  const r = await send(p, {});
  const waited = performance.now() - t0;
  assert.equal(r.error, 'connect-timeout: connection timeout');
  assert.ok(waited >= 190 && waited < 2000, `failed after ${waited.toFixed(0)} ms`);
  await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(ev, { connects: 0, disconnects: 0, connectFails: 1 });
  p.destroy();
});
