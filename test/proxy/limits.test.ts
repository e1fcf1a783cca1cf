/**
 * HCM request limits over real sockets, each option off (Envoy's default) and on: max_headers_count and
 * max_request_headers_kb (431), request_headers_timeout (408 and the connection closed, on plain HTTP/1.1, the
 * sniffed AUTO listener and TLS), normalize_path / merge_slashes (the route and the upstream see the normalised path).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { startProxy, type RunningProxy } from '../../src/proxy/index.js';
import { startEchoServer, type EchoServer } from '../../src/app/echo-server.js';
import { canonicalPath, compilePathNormalizer } from '../../src/proxy/normalize-path.js';
import type { Bootstrap, HttpConnectionManager } from '../../src/config/model.js';
import { cluster, config, destroyAgent, get, makeCert, writeTemp } from './helpers.js';
import { spawnCli } from './cli-helpers.js';

let echo: EchoServer;
const running: RunningProxy[] = [];

before(async () => {
  echo = await startEchoServer({ name: 'echo' });
});

after(async () => {
  for (const p of running) await p.close(0);
  await echo.close();
  destroyAgent();
});

/** One listener: `/direct` answered by the proxy itself, `/secret` → 403 direct response, the rest to the echo. */
function cfg(hcm: Partial<HttpConnectionManager>, codec: 'AUTO' | 'HTTP1' | 'HTTP2' = 'AUTO'): Bootstrap {
  const c = config({
    codec,
    clusters: [cluster('echo', [echo.port])],
    routes: [
      { match: { prefix: '/direct' }, direct_response: { status: 200, body: { inline_string: 'direct' } } },
      { match: { prefix: '/secret' }, direct_response: { status: 403, body: { inline_string: 'secret' } } },
      { match: { prefix: '/' }, route: { cluster: 'echo' } },
    ],
  });
  Object.assign(c.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config!, hcm);
  return c;
}

async function start(c: Bootstrap, extra: Parameters<typeof startProxy>[1] = {}): Promise<{ p: RunningProxy; port: number }> {
  const p = await startProxy(c, { accessLog: null, log: () => undefined, seed: 1, ...extra });
  running.push(p);
  return { p, port: p.listeners[0]!.port };
}

interface Raw {
  text: string;
  closed: boolean;
}

/** Writes the chunks (gapMs apart, stopping if the peer closes), then reads until the peer closes or waitMs passes. */
function raw(port: number, chunks: string[], opts: { gapMs?: number; waitMs?: number; tls?: boolean } = {}): Promise<Raw> {
  return new Promise((resolve) => {
    const sock: net.Socket = opts.tls
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
      : net.connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (timer) clearTimeout(timer);
      sock.destroy();
      resolve({ text: Buffer.concat(got).toString('latin1'), closed });
    };
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      closed = true;
      finish();
    });
    sock.once(opts.tls ? 'secureConnect' : 'connect', async () => {
      for (const c of chunks) {
        if (closed) return;
        sock.write(c);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      timer = setTimeout(finish, opts.waitMs ?? 2000);
    });
  });
}

const statusOf = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const bodyOf = (text: string): string => text.slice(text.indexOf('\r\n\r\n') + 4);
const headers = (n: number, value = 'v'): string => Array.from({ length: n }, (_, i) => `X-H${i}: ${value}\r\n`).join('');
const counter = (p: RunningProxy, name: string): number => p.stats().counters[name] ?? 0;

// ---- max_headers_count ----

test('max_headers_count: Envoy default 100 (Host included); one more → 431 with the status text, DPE, connection closed', async () => {
  const { p, port } = await start(cfg({}));
  const exact = await raw(port, [`GET /direct HTTP/1.1\r\nHost: x\r\n${headers(99)}\r\n`], { waitMs: 500 });
  assert.equal(statusOf(exact.text), 200, exact.text.slice(0, 200));
  const before = echo.count();
  const over = await raw(port, [`GET / HTTP/1.1\r\nHost: x\r\n${headers(100)}\r\n`]);
  assert.equal(statusOf(over.text), 431, over.text.slice(0, 200));
  assert.equal(bodyOf(over.text), 'Request Header Fields Too Large');
  assert.match(over.text, /\r\nconnection: close\r\n/i);
  assert.match(over.text, /\r\nserver: envoy\r\n/i);
  assert.ok(over.closed, 'the connection is closed after a 431');
  assert.equal(echo.count(), before, 'the refused request never reaches the upstream');
  assert.equal(counter(p, 'http.ingress_http.downstream_cx_protocol_error'), 1);
  assert.equal(counter(p, 'http.ingress_http.downstream_rq_4xx'), 1);
  assert.equal((await get(port, '/direct')).status, 200, 'still serving');
});

test('max_headers_count: a configured limit is used, lower and higher than the default', async () => {
  const low = await start(cfg({ common_http_protocol_options: { max_headers_count: 10 } }));
  assert.equal(statusOf((await raw(low.port, [`GET /direct HTTP/1.1\r\nHost: x\r\n${headers(9)}\r\n`], { waitMs: 500 })).text), 200);
  assert.equal(statusOf((await raw(low.port, [`GET /direct HTTP/1.1\r\nHost: x\r\n${headers(10)}\r\n`])).text), 431);
  const high = await start(cfg({ common_http_protocol_options: { max_headers_count: 300 } }));
  const r = await raw(high.port, [`GET /direct HTTP/1.1\r\nHost: x\r\n${headers(250)}\r\n`], { waitMs: 500 });
  assert.equal(statusOf(r.text), 200, r.text.slice(0, 200));
});

test('max_headers_count on HTTP/2: a header list over the limit resets the stream; one under it is served', async () => {
  const { port } = await start(cfg({ common_http_protocol_options: { max_headers_count: 10 } }));
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const ask = (n: number): Promise<number | string> =>
      new Promise((resolve) => {
        const h: http2.OutgoingHttpHeaders = { ':path': '/direct' };
        for (let i = 0; i < n; i++) h[`x-h${i}`] = 'v';
        const req = session.request(h);
        req.on('response', (hh) => resolve(Number(hh[':status'])));
        req.on('error', (e: Error) => resolve(`error ${e.message}`));
        req.on('close', () => resolve(`reset ${req.rstCode}`));
        req.resume();
        req.end();
      });
    assert.equal(await ask(2), 200);
    const over = await ask(20);
    assert.notEqual(over, 200, 'a stream with 24 header entries is not served under a limit of 10');
    assert.equal(typeof over, 'string');
  } finally {
    session.destroy();
  }
});

test('header limits under TLS (AUTO and HTTP1): the 431 replies reach the client before the connection closes', async (t) => {
  const cert = makeCert();
  if (cert === undefined) return t.skip('openssl not available');
  for (const codec of ['AUTO', 'HTTP1'] as const) {
    const c = cfg({}, codec);
    c.static_resources!.listeners![0]!.filter_chains![0]!.transport_socket = {
      name: 'tls',
      typed_config: {
        common_tls_context: { tls_certificates: [{ certificate_chain: { filename: 'tls.crt' }, private_key: { filename: 'tls.key' } }] },
      },
    };
    const { port } = await start(c, { baseDir: cert.dir });
    const ok = await raw(port, [`GET /direct HTTP/1.1\r\nHost: x\r\n${headers(98)}X-Big: ${'v'.repeat(40_000)}\r\n\r\n`], { tls: true, waitMs: 500 });
    assert.equal(statusOf(ok.text), 200, `${codec}: ${ok.text.slice(0, 200)}`);
    const many = await raw(port, [`GET /direct HTTP/1.1\r\nHost: x\r\n${headers(100)}\r\n`], { tls: true });
    assert.equal(statusOf(many.text), 431, `${codec} too many: ${many.text.slice(0, 200)}`);
    const big = await raw(port, [`GET /direct HTTP/1.1\r\nHost: x\r\nX-Big: ${'v'.repeat(70_000)}\r\n\r\n`], { tls: true });
    assert.equal(statusOf(big.text), 431, `${codec} too large: ${big.text.slice(0, 200)}`);
    assert.equal(bodyOf(big.text), 'Request Header Fields Too Large');
    assert.ok(big.closed);
  }
});

// ---- max_request_headers_kb ----

test('max_request_headers_kb: Envoy default 60 KiB accepts 40 KB of headers (node alone stops at 16 KiB), refuses 70 KB', async () => {
  const { p, port } = await start(cfg({}));
  const ok = await raw(port, [`GET /direct HTTP/1.1\r\nHost: x\r\nX-Big: ${'v'.repeat(40_000)}\r\n\r\n`], { waitMs: 500 });
  assert.equal(statusOf(ok.text), 200, ok.text.slice(0, 200));
  const big = await raw(port, [`GET /direct HTTP/1.1\r\nHost: x\r\nX-Big: ${'v'.repeat(70_000)}\r\n\r\n`]);
  assert.equal(statusOf(big.text), 431, big.text.slice(0, 200));
  assert.equal(bodyOf(big.text), 'Request Header Fields Too Large');
  assert.ok(big.closed);
  assert.equal(counter(p, 'http.ingress_http.downstream_cx_protocol_error'), 1);
});

test('max_request_headers_kb: a configured 4 KiB refuses 8 KB of headers', async () => {
  const { port } = await start(cfg({ max_request_headers_kb: 4 }));
  assert.equal(statusOf((await raw(port, [`GET /direct HTTP/1.1\r\nHost: x\r\nX-Big: ${'v'.repeat(2000)}\r\n\r\n`], { waitMs: 500 })).text), 200);
  assert.equal(statusOf((await raw(port, [`GET /direct HTTP/1.1\r\nHost: x\r\nX-Big: ${'v'.repeat(8000)}\r\n\r\n`])).text), 431);
});

// ---- request_headers_timeout ----

test('request_headers_timeout off (Envoy default): headers trickling for a while are still served', async () => {
  const { port } = await start(cfg({}));
  const r = await raw(port, ['GET /direct HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'Connection: close\r\n\r\n'], { gapMs: 150 });
  assert.equal(statusOf(r.text), 200, r.text.slice(0, 200));
});

for (const kind of ['HTTP1', 'AUTO', 'TLS'] as const) {
  test(`request_headers_timeout on (${kind}): incomplete headers → 408, empty body, connection closed; complete ones are served`, async (t) => {
    const c = cfg({ request_headers_timeout: { seconds: 0, nanos: 300_000_000 } }, kind === 'HTTP1' ? 'HTTP1' : 'AUTO');
    let baseDir: string | undefined;
    if (kind === 'TLS') {
      const cert = makeCert();
      if (cert === undefined) return t.skip('openssl not available');
      baseDir = cert.dir;
      c.static_resources!.listeners![0]!.filter_chains![0]!.transport_socket = {
        name: 'tls',
        typed_config: {
          common_tls_context: {
            tls_certificates: [{ certificate_chain: { filename: 'tls.crt' }, private_key: { filename: 'tls.key' } }],
          },
        },
      };
    }
    const { p, port } = await start(c, baseDir !== undefined ? { baseDir } : {});
    const useTls = kind === 'TLS';
    // Trickling headers never complete: 408 long before the 20 chunks are out.
    const slow = await raw(port, ['GET / HTTP/1.1\r\nHost: x\r\n', ...Array.from({ length: 20 }, (_, i) => `X-Slow-${i}: v\r\n`)], {
      gapMs: 100,
      waitMs: 3000,
      tls: useTls,
    });
    assert.equal(statusOf(slow.text), 408, slow.text.slice(0, 200));
    assert.equal(bodyOf(slow.text), '');
    assert.match(slow.text, /\r\nconnection: close\r\n/i);
    assert.ok(slow.closed, 'the connection is closed after the 408');
    assert.equal(counter(p, 'http.ingress_http.downstream_rq_header_timeout'), 1);
    // A request whose headers arrive at once, with a body trickling past the timeout, is not cut: the clock stops
    // when the headers are complete.
    const body = await raw(
      port,
      ['POST /direct HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\n', 'a', 'b', 'c', 'd'],
      { gapMs: 200, waitMs: 2000, tls: useTls },
    );
    assert.equal(statusOf(body.text), 200, body.text.slice(0, 200));
  });
}

test('request_headers_timeout on: an idle keep-alive connection is left alone; the next request is on the clock again', async () => {
  const { p, port } = await start(cfg({ request_headers_timeout: { seconds: 0, nanos: 300_000_000 } }, 'HTTP1'));
  const r = await raw(
    port,
    [
      'GET /direct HTTP/1.1\r\nHost: x\r\n\r\n',
      '', // idle for three timeouts after the first response
      '',
      '',
      'GET /direct HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /direct HTTP/1.1\r\nHost: x\r\n', // never completed
    ],
    { gapMs: 300, waitMs: 3000 },
  );
  const statuses = [...r.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 200, 408], r.text);
  assert.ok(r.closed);
  assert.equal(counter(p, 'http.ingress_http.downstream_rq_header_timeout'), 1);
});

// ---- normalize_path / merge_slashes ----

async function upstreamPath(port: number, path: string): Promise<{ status: number; path?: string }> {
  const r = await raw(port, [`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
  const status = statusOf(r.text);
  if (status !== 200) return { status };
  return { status, path: (JSON.parse(bodyOf(r.text)) as { path: string }).path };
}

test('normalize_path and merge_slashes off (Envoy default): paths reach routing and the upstream verbatim', async () => {
  const { port } = await start(cfg({}));
  for (const path of ['/a/../b', '/a/%2e%2e/b', '//a//b', '/public/../secret']) {
    assert.deepEqual(await upstreamPath(port, path), { status: 200, path });
  }
});

test('normalize_path on: dot segments removed, unreserved %XX decoded, before routing; slashes kept', async () => {
  const { port } = await start(cfg({ normalize_path: true }));
  const cases: Array<[string, string]> = [
    ['/a/../b', '/b'],
    ['/a/%2e%2e/b', '/b'],
    ['/a/%2E/b/', '/a/b/'],
    ['/%61%7e/x', '/a~/x'],
    ['/a/%2F/b', '/a/%2F/b'],
    ['/a/./b?q=/../x', '/a/b?q=/../x'],
    ['/a/b/../../../c', '/c'],
    ['//a//b', '//a//b'],
    ['/a\\..\\b', '/b'],
  ];
  for (const [sent, expected] of cases) assert.deepEqual(await upstreamPath(port, sent), { status: 200, path: expected }, sent);
  // The route sees the normalised path: /public/../secret matches the /secret route (a 403 direct response).
  assert.equal((await upstreamPath(port, '/public/../secret')).status, 403);
  assert.equal((await upstreamPath(port, '/public/%2e%2e/secret')).status, 403);
});

test('merge_slashes on alone: // merged, dot segments kept', async () => {
  const { port } = await start(cfg({ merge_slashes: true }));
  assert.deepEqual(await upstreamPath(port, '//a///b/'), { status: 200, path: '/a/b/' });
  assert.deepEqual(await upstreamPath(port, '/a/../b'), { status: 200, path: '/a/../b' });
  assert.deepEqual(await upstreamPath(port, '/a?x=//y'), { status: 200, path: '/a?x=//y' });
});

test('normalize_path with rejectPathAboveRoot: a path climbing above the root is 400 (Envoy clamps it by default)', async () => {
  const { port } = await start(cfg({ normalize_path: true }), { rejectPathAboveRoot: true });
  assert.equal((await upstreamPath(port, '/a/../../etc/passwd')).status, 400);
  assert.deepEqual(await upstreamPath(port, '/a/../etc'), { status: 200, path: '/etc' });
});

test('canonicalPath / compilePathNormalizer: RFC 3986 remove_dot_segments cases; off compiles to null', () => {
  assert.equal(compilePathNormalizer({ normalize: false, mergeSlashes: false, rejectAboveRoot: false }), null);
  const rfc: Array<[string, string]> = [
    ['/a/b/c/./../../g', '/a/g'],
    ['/mid/content=5/../6', '/mid/6'],
    ['/..', '/'],
    ['/.', '/'],
    ['/a/..', '/'],
    ['/a/b/..', '/a/'],
    ['/a/.b/..c/...', '/a/.b/..c/...'],
    ['/plain/path', '/plain/path'],
  ];
  for (const [input, expected] of rfc) assert.equal(canonicalPath(input, false), expected, input);
  assert.equal(canonicalPath('/../x', true), null);
  const both = compilePathNormalizer({ normalize: true, mergeSlashes: true, rejectAboveRoot: false })!;
  // The empty segment between the two slashes is the one `..` removes (RFC 3986, and Envoy's canonicaliser).
  assert.equal(both('//a/./b//../c'), '/a/b/c');
  assert.equal(both('//a/./b/../c'), '/a/c');
  assert.equal(both('*'), '*');
});

test('meshctl run --reject-path-above-root: the CLI flag reaches the proxy (400); without it the path is clamped', async () => {
  const yaml = `static_resources:
  listeners:
    - name: l
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                stat_prefix: l
                normalize_path: true
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{ match: { prefix: "/" }, route: { cluster: echo } }]
  clusters:
    - name: echo
      connect_timeout: 1s
      load_assignment:
        cluster_name: echo
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echo.port} } } } }] }]
`;
  const file = writeTemp('normalize.yaml', yaml);
  for (const strict of [false, true]) {
    const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--no-access-log', ...(strict ? ['--reject-path-above-root'] : [])]);
    try {
      const port = Number((await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
      const r = await upstreamPath(port, '/a/../../b');
      assert.deepEqual(r, strict ? { status: 400 } : { status: 200, path: '/b' });
    } finally {
      cli.kill();
      await cli.exit();
    }
  }
});
