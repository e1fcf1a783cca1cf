/**
 * meshctl's own downstream HTTP/2 codec (`meshctl run --downstream-h2 meshctl`), through the real CLI and real
 * sockets: clients nobody here wrote (curl, nghttp, h2load, node:http2) and a client of raw frames for the protocol's
 * edges (preface, SETTINGS and PING acknowledgements, CONTINUATION, flow control with a tiny client window, RST_STREAM
 * mid-body, a malformed request, GOAWAY on drain).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { HpackDecoder } from '../../src/http/h2/hpack.js';
import { spawnCli, oneListenerYaml, type RunningCli } from './cli-helpers.js';
import { h2get, writeTemp } from './helpers.js';
import { FRAME, H2_PREFACE, frame, parseFrames } from '../hardening/http-helpers.js';

const BIG = 300_000;
let upstream: http.Server;
let upPort = 0;
const children: RunningCli[] = [];

before(async () => {
  // /big answers BIG bytes; /echo answers the request body; /slow answers after 300 ms; anything else "ok".
  upstream = http.createServer((req, res) => {
    if (req.url === '/big') return void res.end(Buffer.alloc(BIG, 0x61));
    if (req.url === '/echo') {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => res.end(Buffer.concat(parts)));
      return;
    }
    if (req.url === '/slow') return void setTimeout(() => res.end('slow'), 300);
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upPort = (upstream.address() as net.AddressInfo).port;
  proxy = await startMeshctl();
});

after(async () => {
  for (const c of children) c.kill();
  await new Promise<void>((r) => upstream.close(() => r()));
});

async function startMeshctl(hcmExtra = '', kind = 'meshctl'): Promise<{ cli: RunningCli; port: number }> {
  const yaml = oneListenerYaml({
    hcmExtra,
    routes: '                        - match: { prefix: "/" }\n                          route: { cluster: up }',
    clusters: { up: upPort },
  });
  const cli = spawnCli(['run', writeTemp('h2-codec.yaml', yaml), '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch', '--downstream-h2', kind]);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/);
  return { cli, port: Number(m[1]) };
}

/** Runs a client to its end without blocking this process (the upstream answers from here). */
function run(cmd: string, args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
    p.stdin.end(input);
  });
}

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

let proxy: { cli: RunningCli; port: number };

test('curl --http2-prior-knowledge: a GET and a POST with a body through the proxy', async (t) => {
  if (!has('curl')) return t.skip('curl not installed');
  const get = await run('curl', ['-s', '--http2-prior-knowledge', '-w', '\n%{http_version} %{http_code}', `http://127.0.0.1:${proxy.port}/x`]);
  assert.equal(get.stdout, 'ok\n2 200');
  const body = 'b'.repeat(100_000);
  const post = await run('curl', ['-s', '--http2-prior-knowledge', '--data-binary', '@-', '-w', '\n%{http_version} %{http_code}', `http://127.0.0.1:${proxy.port}/echo`], body);
  assert.equal(post.stdout, `${body}\n2 200`);
});

test('nghttp: SETTINGS exchanged and acknowledged, the response received whole', async (t) => {
  if (!has('nghttp')) return t.skip('nghttp not installed');
  const r = await run('nghttp', ['-v', '-n', `http://127.0.0.1:${proxy.port}/big`]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /recv SETTINGS frame <length=\d+, flags=0x00/);
  assert.match(r.stdout, /recv SETTINGS frame <length=0, flags=0x01[^\n]*\n\s*; ACK/);
  assert.match(r.stdout, /recv \(stream_id=13\) :status: 200/);
  assert.match(r.stdout, /recv DATA frame <length=\d+, flags=0x01, stream_id=13>\n\s*; END_STREAM/);
});

test('h2load: a bounded run of 2,000 requests on 4 connections × 8 streams all succeed', async (t) => {
  if (!has('h2load')) return t.skip('h2load not installed');
  const r = await run('h2load', ['-n', '2000', '-c', '4', '-m', '8', `http://127.0.0.1:${proxy.port}/`]);
  assert.match(r.stdout, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored/, r.stdout);
  assert.match(r.stdout, /status codes: 2000 2xx/);
});

test('node:http2: concurrent streams on one session, a large body each way', async () => {
  const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
  try {
    const ask = (path: string, body?: Buffer): Promise<{ status: number; bytes: Buffer }> =>
      new Promise((resolve, reject) => {
        const req = session.request({ ':path': path, ':method': body ? 'POST' : 'GET' });
        const parts: Buffer[] = [];
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (d: Buffer) => parts.push(d));
        req.on('end', () => resolve({ status, bytes: Buffer.concat(parts) }));
        req.on('error', reject);
        req.end(body);
      });
    const up = Buffer.alloc(1_000_000, 0x62);
    const [a, b, c] = await Promise.all([ask('/big'), ask('/echo', up), ask('/x')]);
    assert.equal(a.status, 200);
    assert.equal(a.bytes.length, BIG);
    assert.equal(b.status, 200);
    assert.ok(b.bytes.equals(up), `echoed ${b.bytes.length} bytes`);
    assert.equal(c.bytes.toString(), 'ok');
  } finally {
    session.destroy();
  }
});

// ---- raw frames ----

/** A client of raw frames: sends bytes, collects the server's frames, waits for one that matches. */
class RawH2 {
  readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  readonly frames: ReturnType<typeof parseFrames> = [];
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(port: number) {
    this.sock = net.connect({ host: '127.0.0.1', port });
    this.sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      const got = parseFrames(this.buf);
      let used = 0;
      for (const f of got) used += 9 + f.payload.length;
      this.buf = this.buf.subarray(used);
      this.frames.push(...got);
      for (const w of this.waiters.splice(0)) w();
    });
    this.sock.on('error', () => undefined);
    this.sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(...b: Buffer[]): void {
    this.sock.write(Buffer.concat(b));
  }

  /** Resolves with the first frame (from `from`) matching `pred`; rejects after `ms`. */
  waitFor(pred: (f: RawH2['frames'][number]) => boolean, ms = 5000, from = 0): Promise<RawH2['frames'][number]> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no such frame; got ${JSON.stringify(this.frames.map((f) => [f.type, f.flags, f.stream]))}`)), ms);
      const check = (): void => {
        const f = this.frames.slice(from).find(pred);
        if (f !== undefined) {
          clearTimeout(t);
          resolve(f);
        } else if (this.closed) {
          clearTimeout(t);
          reject(new Error('connection closed'));
        } else this.waiters.push(check);
      };
      check();
    });
  }

  waitClosed(ms = 5000): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      const check = (): void => {
        if (this.closed) {
          clearTimeout(t);
          resolve(true);
        } else this.waiters.push(check);
      };
      check();
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/** A header block of literal fields without indexing and without Huffman coding (RFC 7541 §6.2.2). */
function block(fields: [string, string][]): Buffer {
  const out: number[] = [];
  for (const [n, v] of fields) {
    out.push(0x00, n.length, ...Buffer.from(n, 'latin1'), v.length, ...Buffer.from(v, 'latin1'));
  }
  return Buffer.from(out);
}

function request(path: string, extra: [string, string][] = []): Buffer {
  return block([[':method', 'GET'], [':scheme', 'http'], [':path', path], [':authority', 'x'], ...extra]);
}

function settings(pairs: [number, number][]): Buffer {
  const p = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([k, v], i) => {
    p.writeUInt16BE(k, 6 * i);
    p.writeUInt32BE(v, 6 * i + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, p);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const CONTINUATION = 9;

/** A stream's response body: its DATA frames' payloads. */
function bodyOf(c: RawH2, stream: number): string {
  return c.frames.filter((f) => f.type === FRAME.DATA && f.stream === stream).map((f) => f.payload.toString('latin1')).join('');
}

function statusOf(headers: Buffer, dec = new HpackDecoder()): string | undefined {
  const out: string[] = [];
  dec.decode(headers, out, 1 << 20);
  return out[out.indexOf(':status') + 1];
}

test('raw: a bad preface on an HTTP2 listener gets GOAWAY PROTOCOL_ERROR and the connection closed', async () => {
  // (On an AUTO listener bytes that are not the preface are HTTP/1.1.)
  const own = await startMeshctl('                codec_type: HTTP2\n');
  const c = new RawH2(own.port);
  try {
    c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'));
    const g = await c.waitFor((f) => f.type === FRAME.GOAWAY);
    assert.equal(g.payload.readUInt32BE(4), 1);
    assert.ok(await c.waitClosed(), 'the connection must close');
  } finally {
    c.close();
  }
});

test('raw: SETTINGS is acknowledged, PING answered with its payload', async () => {
  const c = new RawH2(proxy.port);
  try {
    c.send(H2_PREFACE, settings([[4, 100_000]]));
    const s = await c.waitFor((f) => f.type === FRAME.SETTINGS && f.flags === 0);
    // Envoy's defaults: 256 MiB stream window (SETTINGS_INITIAL_WINDOW_SIZE, id 4).
    const values = new Map<number, number>();
    for (let i = 0; i + 6 <= s.payload.length; i += 6) values.set(s.payload.readUInt16BE(i), s.payload.readUInt32BE(i + 2));
    assert.equal(values.get(4), 268435456);
    await c.waitFor((f) => f.type === FRAME.SETTINGS && f.flags === 1);
    c.send(frame(FRAME.SETTINGS, 1, 0), frame(FRAME.PING, 0, 0, Buffer.from('12345678')));
    const p = await c.waitFor((f) => f.type === FRAME.PING);
    assert.equal(p.flags, 1);
    assert.equal(p.payload.toString(), '12345678');
  } finally {
    c.close();
  }
});

test('raw: a header block split over HEADERS and CONTINUATION frames is served', async () => {
  const c = new RawH2(proxy.port);
  try {
    const b = request('/x');
    c.send(H2_PREFACE, settings([]), frame(FRAME.HEADERS, END_STREAM, 1, b.subarray(0, 7)), frame(CONTINUATION, 0, 1, b.subarray(7, 20)), frame(CONTINUATION, END_HEADERS, 1, b.subarray(20)));
    const h = await c.waitFor((f) => f.type === FRAME.HEADERS && f.stream === 1);
    assert.equal(statusOf(h.payload), '200');
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 1 && (f.flags & END_STREAM) !== 0);
    assert.equal(bodyOf(c, 1), 'ok');
  } finally {
    c.close();
  }
});

test('raw: an upper-case header name resets the stream with PROTOCOL_ERROR and, as Envoy by default, ends the connection', async () => {
  const c = new RawH2(proxy.port);
  try {
    c.send(H2_PREFACE, settings([]), frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 1, request('/x', [['X-Upper', 'v']])));
    const r = await c.waitFor((f) => f.type === FRAME.RST_STREAM && f.stream === 1);
    assert.equal(r.payload.readUInt32BE(0), 1);
    const g = await c.waitFor((f) => f.type === FRAME.GOAWAY);
    assert.equal(g.payload.readUInt32BE(4), 1);
    assert.ok(await c.waitClosed(), 'the connection must close');
  } finally {
    c.close();
  }
});

test('raw: with stream_error_on_invalid_http_message a malformed request resets only its stream', async () => {
  const own = await startMeshctl('                stream_error_on_invalid_http_message: true\n');
  const c = new RawH2(own.port);
  try {
    c.send(H2_PREFACE, settings([]), frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 1, request('/x', [['connection', 'close']])));
    const r = await c.waitFor((f) => f.type === FRAME.RST_STREAM && f.stream === 1);
    assert.equal(r.payload.readUInt32BE(0), 1);
    c.send(frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 3, request('/x')));
    const h = await c.waitFor((f) => f.type === FRAME.HEADERS && f.stream === 3);
    assert.equal(statusOf(h.payload), '200');
    assert.equal(c.frames.filter((f) => f.type === FRAME.GOAWAY).length, 0);
  } finally {
    c.close();
    own.cli.kill();
  }
});

test('raw: flow control — a 100-byte client window gets 100 bytes, then as much as each WINDOW_UPDATE allows', async () => {
  const c = new RawH2(proxy.port);
  try {
    c.send(H2_PREFACE, settings([[4, 100]]), frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 1, request('/big')));
    await c.waitFor((f) => f.type === FRAME.HEADERS && f.stream === 1);
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 1);
    // Nothing beyond the window comes however long we wait.
    await new Promise((r) => setTimeout(r, 300));
    const sent = (): number => c.frames.filter((f) => f.type === FRAME.DATA && f.stream === 1).reduce((n, f) => n + f.payload.length, 0);
    assert.equal(sent(), 100);
    // The connection window is 65,535 too: open both, in steps, and the rest of the body arrives with END_STREAM.
    c.send(frame(FRAME.WINDOW_UPDATE, 0, 0, u32(BIG)), frame(FRAME.WINDOW_UPDATE, 0, 1, u32(50_000)));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sent(), 50_100);
    c.send(frame(FRAME.WINDOW_UPDATE, 0, 1, u32(BIG)));
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 1 && (f.flags & END_STREAM) !== 0);
    assert.equal(sent(), BIG);
    for (const f of c.frames) if (f.type === FRAME.DATA) assert.ok(f.payload.length <= 16384, 'DATA frames respect SETTINGS_MAX_FRAME_SIZE');
  } finally {
    c.close();
  }
});

test('raw: RST_STREAM from the client mid-body ends that stream only', async () => {
  const c = new RawH2(proxy.port);
  try {
    c.send(H2_PREFACE, settings([[4, 1000]]), frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 1, request('/big')));
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 1);
    c.send(frame(FRAME.RST_STREAM, 0, 1, u32(8)), frame(FRAME.WINDOW_UPDATE, 0, 1, u32(BIG)));
    c.send(frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 3, request('/x')));
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 3 && (f.flags & END_STREAM) !== 0);
    assert.equal(bodyOf(c, 3), 'ok');
    const after1 = c.frames.filter((f) => f.type === FRAME.DATA && f.stream === 1).reduce((n, f) => n + f.payload.length, 0);
    assert.ok(after1 <= 1000, `${after1} bytes on the reset stream`);
  } finally {
    c.close();
  }
});

test('raw: a request body over its content-length resets the stream with PROTOCOL_ERROR', async () => {
  const c = new RawH2(proxy.port);
  try {
    const h = block([[':method', 'POST'], [':scheme', 'http'], [':path', '/echo'], [':authority', 'x'], ['content-length', '3']]);
    c.send(H2_PREFACE, settings([]), frame(FRAME.HEADERS, END_HEADERS, 1, h), frame(FRAME.DATA, END_STREAM, 1, Buffer.from('toolong')));
    const r = await c.waitFor((f) => f.type === FRAME.RST_STREAM && f.stream === 1);
    assert.equal(r.payload.readUInt32BE(0), 1);
  } finally {
    c.close();
  }
});

test('raw: a request body ended by trailers is served whole', async () => {
  const c = new RawH2(proxy.port);
  try {
    const h = block([[':method', 'POST'], [':scheme', 'http'], [':path', '/echo'], [':authority', 'x'], ['te', 'trailers']]);
    c.send(H2_PREFACE, settings([]), frame(FRAME.HEADERS, END_HEADERS, 1, h), frame(FRAME.DATA, 0, 1, Buffer.from('abc')), frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 1, block([['x-t', '1']])));
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 1 && (f.flags & END_STREAM) !== 0);
    assert.equal(bodyOf(c, 1), 'abc');
  } finally {
    c.close();
  }
});

test('raw: on SIGTERM the client gets the shutdown notice, then the final GOAWAY naming its last stream', async () => {
  const own = await startMeshctl('                drain_timeout: 0.4s\n');
  const c = new RawH2(own.port);
  try {
    c.send(H2_PREFACE, settings([]), frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 1, request('/x')), frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 3, request('/slow')));
    await c.waitFor((f) => f.type === FRAME.HEADERS && f.stream === 1);
    own.cli.child.kill('SIGTERM');
    const first = await c.waitFor((f) => f.type === FRAME.GOAWAY);
    assert.equal(first.payload.readUInt32BE(0), 2 ** 31 - 1);
    const i = c.frames.indexOf(first);
    const last = await c.waitFor((f) => f.type === FRAME.GOAWAY, 5000, i + 1);
    assert.equal(last.payload.readUInt32BE(0), 3);
    assert.equal(last.payload.readUInt32BE(4), 0);
    // The stream in flight completes.
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 3 && (f.flags & END_STREAM) !== 0);
    assert.ok(await c.waitClosed(), 'the connection closes after its last stream');
  } finally {
    c.close();
  }
});

test('raw: http2_protocol_options become our SETTINGS; a stream over max_concurrent_streams is refused', async () => {
  const own = await startMeshctl(
    '                http2_protocol_options: { max_concurrent_streams: 1, initial_stream_window_size: 70000, initial_connection_window_size: 1048576, hpack_table_size: 0 }\n',
  );
  const c = new RawH2(own.port);
  try {
    c.send(H2_PREFACE, settings([]));
    const s = await c.waitFor((f) => f.type === FRAME.SETTINGS && f.flags === 0);
    const values = new Map<number, number>();
    for (let i = 0; i + 6 <= s.payload.length; i += 6) values.set(s.payload.readUInt16BE(i), s.payload.readUInt32BE(i + 2));
    assert.equal(values.get(3), 1, 'SETTINGS_MAX_CONCURRENT_STREAMS');
    assert.equal(values.get(4), 70000, 'SETTINGS_INITIAL_WINDOW_SIZE');
    assert.equal(values.get(1), 0, 'SETTINGS_HEADER_TABLE_SIZE');
    const w = await c.waitFor((f) => f.type === FRAME.WINDOW_UPDATE && f.stream === 0);
    assert.equal(w.payload.readUInt32BE(0), 1048576 - 65535, 'the connection window raised to initial_connection_window_size');
    // Two streams at once: the second is refused while the first (a slow one) is open. Once our SETTINGS are
    // acknowledged, a table size of 0 must be signalled at the start of the next header block (RFC 7541 §4.2).
    const sizeUpdate = Buffer.from([0x20]);
    c.send(
      frame(FRAME.SETTINGS, 1, 0),
      frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 1, Buffer.concat([sizeUpdate, request('/slow')])),
      frame(FRAME.HEADERS, END_STREAM | END_HEADERS, 3, request('/x')),
    );
    const r = await c.waitFor((f) => f.type === FRAME.RST_STREAM && f.stream === 3);
    assert.equal(r.payload.readUInt32BE(0), 7, 'REFUSED_STREAM');
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 1 && (f.flags & END_STREAM) !== 0);
    assert.equal(bodyOf(c, 1), 'slow');
  } finally {
    c.close();
    own.cli.kill();
  }
});

test('raw: a slow reader of the request body holds the client back: no WINDOW_UPDATE beyond what was consumed', async () => {
  // A 65,535-byte stream window: the body's first 65,535 bytes are all the client may send until the proxy gives
  // window back, which it does as the upstream takes the bytes.
  const own = await startMeshctl('                http2_protocol_options: { initial_stream_window_size: 65535, initial_connection_window_size: 65535 }\n');
  const c = new RawH2(own.port);
  try {
    const h = block([[':method', 'POST'], [':scheme', 'http'], [':path', '/echo'], [':authority', 'x']]);
    c.send(H2_PREFACE, settings([]), frame(FRAME.HEADERS, END_HEADERS, 1, h));
    const chunk = Buffer.alloc(16384, 0x63);
    for (let i = 0; i < 3; i++) c.send(frame(FRAME.DATA, 0, 1, chunk));
    c.send(frame(FRAME.DATA, 0, 1, chunk.subarray(0, 16383)));
    // The upstream echoes, so it reads: window comes back (connection and stream) once half of it has been consumed.
    await c.waitFor((f) => f.type === FRAME.WINDOW_UPDATE && f.stream === 1);
    await c.waitFor((f) => f.type === FRAME.WINDOW_UPDATE && f.stream === 0);
    const granted = c.frames.filter((f) => f.type === FRAME.WINDOW_UPDATE && f.stream === 1).reduce((n, f) => n + f.payload.readUInt32BE(0), 0);
    assert.ok(granted <= 65535, `${granted} bytes of window given back for 65,535 received`);
    // The echo is 65,536 bytes: one more than our client's own default window.
    c.send(frame(FRAME.DATA, END_STREAM, 1, Buffer.from('z')), frame(FRAME.WINDOW_UPDATE, 0, 0, u32(1000)), frame(FRAME.WINDOW_UPDATE, 0, 1, u32(1000)));
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 1 && (f.flags & END_STREAM) !== 0);
    assert.equal(bodyOf(c, 1).length, 65536);
  } finally {
    c.close();
    own.cli.kill();
  }
});

test('--downstream-h2 node keeps node\'s http2 serving; an unknown kind is a usage error', async () => {
  const own = await startMeshctl('', 'node');
  const session = http2.connect(`http://127.0.0.1:${own.port}`);
  try {
    assert.equal((await h2get(session, '/x')).status, 200);
  } finally {
    session.destroy();
    own.cli.kill();
  }
  const bad = spawnCli(['run', writeTemp('h2-bad.yaml', 'static_resources: {}\n'), '--downstream-h2', 'nghttp2']);
  children.push(bad);
  assert.notEqual(await bad.exit(), 0);
  assert.match(bad.stderr(), /--downstream-h2 expects meshctl or node/);
});

test('raw: a PING flood from a client that never reads is cut off; the proxy serves on', async () => {
  const sock = net.connect({ host: '127.0.0.1', port: proxy.port });
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  // Never read: every PING ACK stays in the proxy's socket.
  sock.pause();
  const ping = frame(FRAME.PING, 0, 0, Buffer.alloc(8));
  const burst = Buffer.concat(Array.from({ length: 20_000 }, () => ping));
  sock.write(Buffer.concat([H2_PREFACE, settings([])]));
  for (let i = 0; i < 60 && !sock.destroyed; i++) sock.write(burst);
  const cut = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
  sock.destroy();
  assert.ok(cut, 'the connection must be closed');
  const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
  try {
    assert.equal((await h2get(session, '/x')).status, 200);
  } finally {
    session.destroy();
  }
});

test('raw: Expect: 100-continue is answered with an interim 100 HEADERS before the body is sent', async () => {
  const c = new RawH2(proxy.port);
  try {
    const dec = new HpackDecoder();
    const h = block([[':method', 'POST'], [':scheme', 'http'], [':path', '/echo'], [':authority', 'x'], ['expect', '100-continue']]);
    c.send(H2_PREFACE, settings([]), frame(FRAME.HEADERS, END_HEADERS, 1, h));
    const interim = await c.waitFor((f) => f.type === FRAME.HEADERS && f.stream === 1);
    assert.equal(statusOf(interim.payload, dec), '100');
    assert.equal(interim.flags & END_STREAM, 0);
    c.send(frame(FRAME.DATA, END_STREAM, 1, Buffer.from('body')));
    const final = await c.waitFor((f) => f.type === FRAME.HEADERS && f.stream === 1 && f !== interim);
    assert.equal(statusOf(final.payload, dec), '200');
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 1 && (f.flags & END_STREAM) !== 0);
    assert.equal(bodyOf(c, 1), 'body');
  } finally {
    c.close();
  }
});

test('raw: empty DATA or CONTINUATION frames in a row end the connection (Envoy\'s inbound_empty_frames_flood); the limit is configurable', async () => {
  for (const flood of ['data', 'continuation'] as const) {
    const c = new RawH2(proxy.port);
    try {
      const open =
        flood === 'data'
          ? frame(FRAME.HEADERS, END_HEADERS, 1, block([[':method', 'POST'], [':scheme', 'http'], [':path', '/echo'], [':authority', 'x']]))
          : frame(FRAME.HEADERS, END_STREAM, 1, request('/x').subarray(0, 5));
      const empty = flood === 'data' ? frame(FRAME.DATA, 0, 1) : frame(CONTINUATION, 0, 1);
      c.send(H2_PREFACE, settings([]), open, empty, empty);
      const g = await c.waitFor((f) => f.type === FRAME.GOAWAY);
      assert.equal(g.payload.readUInt32BE(4), 1, `${flood}: PROTOCOL_ERROR`);
      assert.ok(await c.waitClosed(), `${flood}: the connection must close`);
    } finally {
      c.close();
    }
  }
  // max_consecutive_inbound_frames_with_empty_payload: 3 lets two through; the request is then served.
  const lenient = await startMeshctl('                http2_protocol_options: { max_consecutive_inbound_frames_with_empty_payload: 3 }\n');
  const c = new RawH2(lenient.port);
  try {
    const post = frame(FRAME.HEADERS, END_HEADERS, 1, block([[':method', 'POST'], [':scheme', 'http'], [':path', '/echo'], [':authority', 'x']]));
    c.send(H2_PREFACE, settings([]), post, frame(FRAME.DATA, 0, 1), frame(FRAME.DATA, 0, 1), frame(FRAME.DATA, END_STREAM, 1, Buffer.from('hi')));
    await c.waitFor((f) => f.type === FRAME.DATA && f.stream === 1 && (f.flags & END_STREAM) !== 0);
    assert.equal(bodyOf(c, 1), 'hi');
    assert.equal(c.frames.some((f) => f.type === FRAME.GOAWAY), false);
  } finally {
    c.close();
  }
});

test('raw: a client resetting its streams as fast as it opens them is cut off (rapid reset); stat downstream_rq_too_many_premature_resets', async () => {
  const yaml = oneListenerYaml({
    routes: '                        - match: { prefix: "/" }\n                          route: { cluster: up }',
    clusters: { up: upPort },
  });
  const cli = spawnCli(['run', writeTemp('h2-rapid-reset.yaml', yaml), '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  children.push(cli);
  const port = Number((await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
  const admin = Number((await cli.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
  const c = new RawH2(port);
  try {
    const frames: Buffer[] = [H2_PREFACE, settings([])];
    // /slow answers after 300 ms: every stream is reset long before its response.
    for (let id = 1; id <= 2 * 400; id += 2) frames.push(frame(FRAME.HEADERS, END_STREAM | END_HEADERS, id, request('/slow')), frame(FRAME.RST_STREAM, 0, id, u32(8)));
    c.send(...frames);
    const g = await c.waitFor((f) => f.type === FRAME.GOAWAY);
    assert.equal(g.payload.readUInt32BE(4), 0, 'NO_ERROR, as Envoy drains it');
    assert.ok(await c.waitClosed(), 'the connection must close');
    const stats = await (await fetch(`http://127.0.0.1:${admin}/stats`)).text();
    assert.match(stats, /^http\.main\.downstream_rq_too_many_premature_resets: 1$/m);
  } finally {
    c.close();
  }
});
