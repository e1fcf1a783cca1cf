/**
 * WebSocket over HTTP/2 (RFC 8441 extended CONNECT) through `meshctl run` (the real binary): with the connection
 * manager's http2_protocol_options.allow_connect and a websocket upgrade_config, the listener advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL and carries `:method CONNECT :protocol websocket` to an HTTP/1.1 WebSocket echo
 * server as a GET with Upgrade: websocket (Envoy's translation); the 101 comes back as :status 200 and WebSocket frames
 * flow both ways in DATA frames. Without allow_connect nothing is advertised; without the upgrade_config, 403.
 * The client is node:http2 with WebSocket frames written by hand (masked, as RFC 6455 wants from a client).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { writeTemp } from './helpers.js';
import { oneListenerYaml, spawnCli, type RunningCli } from './cli-helpers.js';

let upstream: http.Server;
let upstreamPort = 0;
const seen: { method: string; url: string; upgrade: string; connection: string }[] = [];
const children: RunningCli[] = [];

/** One unfragmented WebSocket frame: FIN, `opcode`, masked when a client sends it. */
function frame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const len = payload.length;
  const head = Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | len]);
  if (len > 125) throw new Error('test frames are short');
  if (!masked) return Buffer.concat([head, payload]);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([head, mask, body]);
}

/** Frames from a byte stream: [opcode, payload] for each complete one, and the bytes left over. */
function parseFrames(buf: Buffer): { frames: [number, Buffer][]; rest: Buffer } {
  const frames: [number, Buffer][] = [];
  let i = 0;
  while (buf.length - i >= 2) {
    const opcode = buf[i]! & 0x0f;
    const masked = (buf[i + 1]! & 0x80) !== 0;
    const len = buf[i + 1]! & 0x7f;
    const start = i + 2 + (masked ? 4 : 0);
    if (len > 125 || buf.length < start + len) break;
    let payload = buf.subarray(start, start + len);
    if (masked) {
      const mask = buf.subarray(i + 2, i + 6);
      payload = Buffer.from(payload.map((b, k) => b ^ mask[k % 4]!));
    }
    frames.push([opcode, payload]);
    i = start + len;
  }
  return { frames, rest: buf.subarray(i) };
}

/** An HTTP/1.1 WebSocket echo server: 101, then every text frame echoed, a close frame answered and the end. */
before(async () => {
  upstream = http.createServer((_req, res) => res.writeHead(426).end());
  upstream.on('upgrade', (req: http.IncomingMessage, sock: Duplex, head: Buffer) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', upgrade: String(req.headers.upgrade), connection: String(req.headers.connection) });
    const key = req.headers['sec-websocket-key'];
    const accept = typeof key === 'string' ? createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64') : undefined;
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${accept ? `Sec-WebSocket-Accept: ${accept}\r\n` : ''}X-Echo: ready\r\n\r\n`);
    let buf: Buffer = Buffer.from(head);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const { frames, rest } = parseFrames(buf);
      buf = rest;
      for (const [op, payload] of frames) {
        if (op === 8) {
          sock.end(frame(8, payload, false));
          return;
        }
        sock.write(frame(op, payload, false));
      }
    };
    sock.on('data', onData);
    sock.on('error', () => sock.destroy());
    if (head.length > 0) onData(Buffer.alloc(0));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstream.address() as net.AddressInfo).port;
});

after(() => {
  for (const c of children) c.kill();
  upstream.closeAllConnections();
  upstream.close();
});

async function startProxy(hcmExtra: string): Promise<number> {
  const yaml = oneListenerYaml({
    hcmExtra,
    routes: `                        - match: { prefix: "/" }
                          route: { cluster: ws }`,
    clusters: { ws: upstreamPort },
  });
  const cli = spawnCli(['run', writeTemp('ws-h2.yaml', yaml), '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/);
  return Number(m[1]);
}

/** An HTTP/2 session to the proxy, once the proxy's SETTINGS have arrived. */
async function session(port: number): Promise<http2.ClientHttp2Session> {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  s.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    s.once('remoteSettings', () => resolve());
    s.once('error', reject);
  });
  return s;
}

function extendedConnect(s: http2.ClientHttp2Session, port: number): http2.ClientHttp2Stream {
  return s.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/chat?room=1', ':authority': `127.0.0.1:${port}`, 'sec-websocket-version': '13' });
}

const ALLOW = `                http2_protocol_options: { allow_connect: true }`;
const WEBSOCKET = `                upgrade_configs: [{ upgrade_type: websocket }]`;

test('extended CONNECT carries a WebSocket to an HTTP/1.1 upstream, frames both ways', async () => {
  const port = await startProxy(`${ALLOW}\n${WEBSOCKET}`);
  const s = await session(port);
  try {
    assert.equal(s.remoteSettings.enableConnectProtocol, true, 'SETTINGS_ENABLE_CONNECT_PROTOCOL advertised');
    const st = extendedConnect(s, port);
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      st.once('response', resolve);
      st.once('error', reject);
    });
    assert.equal(headers[':status'], 200, '101 becomes 200 on HTTP/2');
    assert.equal(headers.upgrade, undefined);
    assert.equal(headers['x-echo'], 'ready');
    const up = seen[seen.length - 1]!;
    assert.deepEqual([up.method, up.url, up.upgrade.toLowerCase()], ['GET', '/chat?room=1', 'websocket']);
    assert.match(up.connection, /upgrade/i);

    let buf: Buffer = Buffer.alloc(0);
    const got: [number, Buffer][] = [];
    const waiters: (() => void)[] = [];
    st.on('data', (d: Buffer) => {
      const r = parseFrames(Buffer.concat([buf, d]));
      buf = r.rest;
      got.push(...r.frames);
      for (const w of waiters.splice(0)) w();
    });
    const next = async (n: number): Promise<void> => {
      for (let i = 0; i < 100 && got.length < n; i++) await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 50); });
    };
    st.write(frame(1, Buffer.from('hello over h2'), true));
    await next(1);
    assert.deepEqual([got[0]![0], got[0]![1].toString()], [1, 'hello over h2']);
    st.write(frame(1, Buffer.from('second'), true));
    await next(2);
    assert.equal(got[1]![1].toString(), 'second');
    st.write(frame(8, Buffer.from([0x03, 0xe8]), true));
    await next(3);
    assert.equal(got[2]![0], 8, 'the close frame comes back');
    st.close();
  } finally {
    s.destroy();
  }
});

test('without allow_connect the listener does not advertise extended CONNECT', async () => {
  const port = await startProxy(WEBSOCKET);
  const s = await session(port);
  try {
    assert.notEqual(s.remoteSettings.enableConnectProtocol, true);
  } finally {
    s.destroy();
  }
});

test('allow_connect without a websocket upgrade_config: the extended CONNECT is refused with 403', async () => {
  const before = seen.length;
  const port = await startProxy(ALLOW);
  const s = await session(port);
  try {
    const st = extendedConnect(s, port);
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      st.once('response', resolve);
      st.once('error', reject);
    });
    assert.equal(headers[':status'], 403);
    assert.equal(seen.length, before, 'nothing reached the upstream');
    st.close();
  } finally {
    s.destroy();
  }
});
