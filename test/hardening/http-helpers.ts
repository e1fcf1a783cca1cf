/**
 * Helpers for the hostile-HTTP tests: a proxy started in-process from a YAML config (the real parse path) in front of
 * upstreams on 127.0.0.1 that misbehave on purpose, and a raw-socket client that writes exactly the bytes given.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { parseConfig } from '../../src/config/index.js';
import { startProxy, type RunningProxy } from '../../src/proxy/index.js';

/** An upstream that answers every request with JSON of what it received (method, path, headers, body length). */
export async function startEchoUpstream(): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, path: req.url, bytes: n });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A TCP upstream that answers every connection with `respond(socket)`: malformed responses, resets. */
export async function startRawUpstream(respond: (sock: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    socks.add(sock);
    sock.on('error', () => undefined);
    sock.on('close', () => socks.delete(sock));
    // Wait for the request head before answering, as a real server would.
    sock.once('data', () => respond(sock));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface HcmExtras {
  readonly requestHeadersTimeout?: string;
  readonly normalizePath?: boolean;
  readonly mergeSlashes?: boolean;
}

/** A meshctl YAML config: one AUTO listener on 127.0.0.1:0, `/bad/` and `/reset/` to the raw upstreams, `/` to echo. */
export function hostileConfigYaml(ports: { echo: number; bad: number; reset: number }, extras: HcmExtras = {}): string {
  const hcm: string[] = [];
  if (extras.requestHeadersTimeout) hcm.push(`                request_headers_timeout: ${extras.requestHeadersTimeout}`);
  if (extras.normalizePath !== undefined) hcm.push(`                normalize_path: ${extras.normalizePath}`);
  if (extras.mergeSlashes !== undefined) hcm.push(`                merge_slashes: ${extras.mergeSlashes}`);
  const cluster = (name: string, port: number): string => `    - name: ${name}
      type: STATIC
      connect_timeout: 1s
      load_assignment:
        cluster_name: ${name}
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }`;
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
static_resources:
  listeners:
    - name: hostile
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                stat_prefix: hostile
                codec_type: AUTO
${hcm.join('\n')}${hcm.length ? '\n' : ''}                route_config:
                  name: local
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/bad/" }
                          route: { cluster: bad }
                        - match: { prefix: "/reset/" }
                          route: { cluster: reset }
                        - match: { prefix: "/" }
                          route: { cluster: echo }
  clusters:
${cluster('echo', ports.echo)}
${cluster('bad', ports.bad)}
${cluster('reset', ports.reset)}
`;
}

export async function startProxyFromYaml(yaml: string): Promise<RunningProxy> {
  const parsed = parseConfig(yaml, 'hostile.yaml');
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (parsed.config === undefined || errors.length > 0) {
    throw new Error(`test config does not parse: ${errors.map((d) => `${d.span.line}:${d.span.column} ${d.message}`).join('; ')}`);
  }
  return startProxy(parsed.config, { accessLog: null, log: () => undefined, seed: 1 });
}

export interface RawResult {
  readonly data: Buffer;
  /** The peer closed (or reset) the connection before the deadline. */
  readonly closed: boolean;
  readonly ms: number;
}

/**
 * Connect, write each chunk (with `gapMs` between them, stopping early if the peer closes), and collect what comes
 * back until the peer closes or `waitMs` after the last write.
 */
export function raw(port: number, chunks: Array<string | Buffer>, opts: { gapMs?: number; waitMs?: number; endAfter?: boolean } = {}): Promise<RawResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (timer) clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(got), closed, ms: Date.now() - t0 });
    };
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      closed = true;
      finish();
    });
    sock.on('connect', async () => {
      for (const [i, c] of chunks.entries()) {
        if (closed || sock.destroyed) return;
        sock.write(c);
        if (opts.gapMs && i < chunks.length - 1) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.endAfter) sock.end();
      timer = setTimeout(finish, opts.waitMs ?? 1500);
    });
  });
}

/** The status code of the first HTTP/1.x response in `data`, or undefined. */
export function statusOf(data: Buffer): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/** A plain GET through the proxy with node's client (a fresh connection). */
export function get(port: number, path = '/ok', headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { connection: 'close', ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export function getH2(port: number, path = '/ok'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on('error', reject);
    const req = client.request({ ':path': path });
    let status = 0;
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      client.close();
      resolve({ status, body });
    });
    req.on('error', (e) => {
      client.destroy();
      reject(e);
    });
    req.setTimeout(5000, () => req.close(http2.constants.NGHTTP2_CANCEL));
  });
}

// ---- HTTP/2 frames, written by hand ----

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;

/** GET / with :authority x, HPACK-encoded from the static table (no dynamic state). */
export const GET_HEADER_BLOCK = Buffer.from([0x82, 0x86, 0x84, 0x41, 0x01, 0x78]);

/** The frames in what a server sent, after its (frame-only) side of the connection starts. */
export function parseFrames(data: Buffer): Array<{ type: number; flags: number; stream: number; payload: Buffer }> {
  const out: Array<{ type: number; flags: number; stream: number; payload: Buffer }> = [];
  let i = 0;
  while (i + 9 <= data.length) {
    const len = data.readUIntBE(i, 3);
    if (i + 9 + len > data.length) break;
    out.push({ type: data[i + 3]!, flags: data[i + 4]!, stream: data.readUInt32BE(i + 5) & 0x7fffffff, payload: data.subarray(i + 9, i + 9 + len) });
    i += 9 + len;
  }
  return out;
}

/** The error code of the server's GOAWAY, if it sent one. */
export function goawayCode(data: Buffer): number | undefined {
  const g = parseFrames(data).find((f) => f.type === FRAME.GOAWAY);
  return g && g.payload.length >= 8 ? g.payload.readUInt32BE(4) : undefined;
}
