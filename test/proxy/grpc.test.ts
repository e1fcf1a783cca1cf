/**
 * gRPC through `meshctl run` (the real binary), with @grpc/grpc-js as client and server: the cluster's
 * typed_extension_protocol_options choosing HTTP/2 upstream, the response trailers carrying grpc-status back,
 * every streaming kind, deadlines and grpc-timeout, and local replies as gRPC statuses. h2c and TLS listeners.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { makeCert, writeTemp } from './helpers.js';
import { spawnCli, type RunningCli, accessLogLines } from './cli-helpers.js';

interface Msg {
  text: string;
  delayMs?: number;
}

const ser = (m: Msg): Buffer => Buffer.from(JSON.stringify(m));
const de = (b: Buffer): Msg => JSON.parse(b.toString('utf8')) as Msg;
const method = (name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Msg, Msg> => ({
  path: `/test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: ser,
  requestDeserialize: de,
  responseSerialize: ser,
  responseDeserialize: de,
});
const SERVICE = {
  unary: method('Unary', false, false),
  collect: method('Collect', true, false),
  expand: method('Expand', false, true),
  chat: method('Chat', true, true),
} satisfies grpc.ServiceDefinition;
type EchoClient = grpc.Client & {
  unary(m: Msg, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, r?: Msg) => void): grpc.ClientUnaryCall;
  collect(cb: (err: grpc.ServiceError | null, r?: Msg) => void): grpc.ClientWritableStream<Msg>;
  expand(m: Msg): grpc.ClientReadableStream<Msg>;
  chat(): grpc.ClientDuplexStream<Msg, Msg>;
};
const EchoClientCtor = grpc.makeGenericClientConstructor(SERVICE, 'Echo') as unknown as new (
  addr: string,
  creds: grpc.ChannelCredentials,
  opts?: grpc.ClientOptions,
) => EchoClient;

let server: grpc.Server;
let upstreamPort = 0;
const children: RunningCli[] = [];
const clients: grpc.Client[] = [];

before(async () => {
  server = new grpc.Server();
  server.addService(SERVICE, {
    unary(call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      const { text, delayMs } = call.request;
      const answer = (): void => {
        if (text === 'fail') cb({ code: grpc.status.FAILED_PRECONDITION, details: 'told to fail' });
        else cb(null, { text: `echo:${text}` });
      };
      if (delayMs) setTimeout(answer, delayMs);
      else answer();
    },
    collect(call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      const got: string[] = [];
      call.on('data', (m: Msg) => got.push(m.text));
      call.on('end', () => cb(null, { text: got.join('+') }));
    },
    expand(call: grpc.ServerWritableStream<Msg, Msg>) {
      for (const part of call.request.text.split(',')) call.write({ text: part });
      call.end();
    },
    chat(call: grpc.ServerDuplexStream<Msg, Msg>) {
      // Answers each message as it comes: the client only sends the next after this reply, so a proxy that
      // buffered either direction until the end would deadlock the test.
      call.on('data', (m: Msg) => call.write({ text: `re:${m.text}` }));
      call.on('end', () => call.end());
    },
  });
  upstreamPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
});

after(() => {
  for (const c of clients) c.close();
  for (const ch of children) ch.kill();
  server.forceShutdown();
});

interface ConfigOpts {
  protocolOptions?: string;
  /** The echo cluster's port (default: the plaintext gRPC server). */
  echoPort?: number;
  tls?: { cert: string; key: string };
  routeExtra?: string;
}

function config(o: ConfigOpts): string {
  const protocol =
    o.protocolOptions ??
    `      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {}`;
  const tls = o.tls
    ? `          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              common_tls_context:
                alpn_protocols: [h2]
                tls_certificates:
                  - certificate_chain: { filename: ${o.tls.cert} }
                    private_key: { filename: ${o.tls.key} }
`
    : '';
  return `
static_resources:
  listeners:
    - name: grpc
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: grpc
                codec_type: AUTO
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/test.Echo/" }
                          route: { cluster: echo${o.routeExtra ?? ''} }
                        - match: { prefix: "/missing.Service/" }
                          route: { cluster_header: x-target }
                        - match: { prefix: "/down.Service/" }
                          route: { cluster: down }
${tls}  clusters:
    - name: echo
      connect_timeout: 1s
${protocol}
      load_assignment:
        cluster_name: echo
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${o.echoPort ?? upstreamPort} } } } }] }]
    - name: down
      connect_timeout: 1s
      http2_protocol_options: {}
      load_assignment:
        cluster_name: down
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }]
`;
}

async function startProxy(o: ConfigOpts): Promise<{ cli: RunningCli; port: number; log: string }> {
  const file = writeTemp('grpc.yaml', config(o));
  const log = file.replace(/grpc\.yaml$/, 'access.log');
  const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--access-log', log, '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on https?:\/\/127\.0\.0\.1:(\d+)/);
  return { cli, port: Number(m[1]), log };
}

function client(port: number, creds = grpc.credentials.createInsecure(), opts: grpc.ClientOptions = {}): EchoClient {
  const c = new EchoClientCtor(`127.0.0.1:${port}`, creds, opts);
  clients.push(c);
  return c;
}

function unary(c: EchoClient, m: Msg, deadlineMs?: number): Promise<{ err: grpc.ServiceError | null; res?: Msg }> {
  const opts: grpc.CallOptions = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
  return new Promise((resolve) => c.unary(m, new grpc.Metadata(), opts, (err, res) => resolve({ err, res })));
}

async function allStreamingKinds(c: EchoClient): Promise<void> {
  // Client streaming.
  const collected = await new Promise<Msg | undefined>((resolve, reject) => {
    const call = c.collect((err, r) => (err ? reject(err) : resolve(r)));
    for (const t of ['a', 'b', 'c']) call.write({ text: t });
    call.end();
  });
  assert.equal(collected?.text, 'a+b+c');
  // Server streaming.
  const parts: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const call = c.expand({ text: 'x,y,z' });
    call.on('data', (m: Msg) => parts.push(m.text));
    call.on('error', reject);
    call.on('status', (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(s.details))));
  });
  assert.deepEqual(parts, ['x', 'y', 'z']);
  // Bidirectional, in lock step: each message waits for the previous reply.
  const replies: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const call = c.chat();
    const send = ['one', 'two', 'three'];
    call.on('data', (m: Msg) => {
      replies.push(m.text);
      const next = send.shift();
      if (next === undefined) call.end();
      else call.write({ text: next });
    });
    call.on('error', reject);
    call.on('status', (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(s.details))));
    call.write({ text: 'zero' });
  });
  assert.deepEqual(replies, ['re:zero', 're:one', 're:two', 're:three']);
}

test('gRPC over an h2c listener to a cluster made HTTP/2 by typed_extension_protocol_options: unary, status, streams', async () => {
  const { port, log } = await startProxy({});
  const c = client(port);
  const ok = await unary(c, { text: 'hi' });
  assert.equal(ok.err, null);
  assert.equal(ok.res?.text, 'echo:hi');
  // A non-OK status from the server reaches the client with its message (it travels in the trailers).
  const fail = await unary(c, { text: 'fail' });
  assert.equal(fail.err?.code, grpc.status.FAILED_PRECONDITION);
  assert.equal(fail.err?.details, 'told to fail');
  await allStreamingKinds(c);
  // The client's own deadline.
  const late = await unary(c, { text: 'slow', delayMs: 3000 }, 300);
  assert.equal(late.err?.code, grpc.status.DEADLINE_EXCEEDED);
  // Local replies are gRPC statuses, not broken streams: Envoy's HTTP → gRPC mapping (503 → UNAVAILABLE, 404 →
  // UNIMPLEMENTED), HTTP 200 on the wire.
  const missing = new EchoClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients.push(missing);
  const md = new grpc.Metadata();
  md.set('x-target', 'nowhere');
  const noCluster = await new Promise<grpc.ServiceError | null>((resolve) =>
    missing.makeUnaryRequest('/missing.Service/Call', ser, de, { text: 'x' }, md, (err) => resolve(err)),
  );
  assert.equal(noCluster?.code, grpc.status.UNAVAILABLE);
  const noRoute = await new Promise<grpc.ServiceError | null>((resolve) =>
    missing.makeUnaryRequest('/unknown.Service/Call', ser, de, { text: 'x' }, (err) => resolve(err)),
  );
  assert.equal(noRoute?.code, grpc.status.UNIMPLEMENTED);
  const refused = await new Promise<grpc.ServiceError | null>((resolve) =>
    missing.makeUnaryRequest('/down.Service/Call', ser, de, { text: 'x' }, (err) => resolve(err)),
  );
  assert.equal(refused?.code, grpc.status.UNAVAILABLE);
  assert.match(refused?.details ?? '', /upstream connect error/);
  const lines = await accessLogLines(log, 7);
  assert.ok(lines.some((l) => l.path === '/test.Echo/Unary' && l.response_code === 200 && l.response_flags === '-'));
  assert.ok(lines.some((l) => l.path === '/missing.Service/Call' && l.response_code === 200 && l.response_flags === 'NC'));
});

test('the deprecated cluster http2_protocol_options carries gRPC too, trailers included', async () => {
  const { port } = await startProxy({ protocolOptions: '      http2_protocol_options: {}' });
  const c = client(port);
  const ok = await unary(c, { text: 'old' });
  assert.equal(ok.res?.text, 'echo:old');
  const fail = await unary(c, { text: 'fail' });
  assert.equal(fail.err?.code, grpc.status.FAILED_PRECONDITION);
});

test('explicit http_protocol_options keeps HTTP/1.1 upstream: an HTTP/2-only gRPC server is then unreachable', async () => {
  const { port } = await startProxy({
    protocolOptions: `      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: { http_protocol_options: {} }`,
  });
  const r = await unary(client(port), { text: 'h1' });
  // HTTP/1.1 to an HTTP/2 server fails before any response: a local reply, mapped to a gRPC status.
  assert.equal(r.err?.code, grpc.status.UNAVAILABLE);
});

test('grpc-timeout bounds the request as max_grpc_timeout says (capped by it): the call ends at the cap', async () => {
  const { port, log } = await startProxy({ routeExtra: ', max_grpc_timeout: 0.3s' });
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const body = ser({ text: 'slow', delayMs: 5000 });
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    const t0 = Date.now();
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const s = session.request({
        ':method': 'POST',
        ':path': '/test.Echo/Unary',
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': '20S',
      });
      s.on('response', (h) => resolve(h));
      s.on('error', reject);
      s.end(frame);
    });
    const elapsed = Date.now() - t0;
    assert.equal(headers[':status'], 200);
    // The proxy's route timeout (UNAVAILABLE, as Envoy maps its 504) and the upstream, told the capped grpc-timeout
    // as Envoy tells it, race to end the call at the cap: either ends it, long before the client's 20 s.
    assert.ok(['14', '4'].includes(String(headers['grpc-status'])), JSON.stringify(headers));
    if (headers['grpc-status'] === '14') assert.equal(headers['grpc-message'], 'upstream request timeout');
    assert.ok(elapsed >= 250 && elapsed < 3000, `answered after ${elapsed} ms`);
  } finally {
    session.close();
  }
  // A call whose deadline is under the cap keeps it, and completes in time.
  const quick = await unary(client(port), { text: 'quick', delayMs: 50 }, 2000);
  assert.equal(quick.res?.text, 'echo:quick');
  const lines = await accessLogLines(log, 2);
  assert.ok(lines.some((l) => l.path === '/test.Echo/Unary' && l.response_code === 200), JSON.stringify(lines));
});

test('max_stream_duration.grpc_timeout_header_max caps grpc-timeout: the stream ends at the cap', async () => {
  const { port } = await startProxy({ routeExtra: ', max_stream_duration: { grpc_timeout_header_max: 0.3s }' });
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const body = ser({ text: 'slow', delayMs: 5000 });
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    const t0 = Date.now();
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const s = session.request({ ':method': 'POST', ':path': '/test.Echo/Unary', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '20S' });
      s.on('response', (h) => resolve(h));
      s.on('error', reject);
      s.end(frame);
    });
    const elapsed = Date.now() - t0;
    assert.equal(headers['grpc-status'], '14');
    assert.equal(headers['grpc-message'], 'downstream duration timeout');
    assert.ok(elapsed >= 250 && elapsed < 3000, `answered after ${elapsed} ms`);
  } finally {
    session.close();
  }
});

test('gRPC through a TLS listener (ALPN h2)', async (t) => {
  const cert = makeCert();
  if (cert === undefined) return t.skip('openssl not available');
  const { port } = await startProxy({ tls: cert });
  const creds = grpc.credentials.createSsl(readFileSync(cert.cert));
  const c = client(port, creds, { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' });
  const ok = await unary(c, { text: 'tls' });
  assert.equal(ok.err, null);
  assert.equal(ok.res?.text, 'echo:tls');
  await allStreamingKinds(c);
});

test('auto_config over TLS: h2 chosen by ALPN with a TLS gRPC server (which speaks nothing else)', async (t) => {
  const cert = makeCert();
  if (cert === undefined) return t.skip('openssl not available');
  const tlsServer = new grpc.Server();
  tlsServer.addService(SERVICE, {
    unary(call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      cb(null, { text: `tls-echo:${call.request.text}` });
    },
    collect: () => undefined,
    expand: () => undefined,
    chat: () => undefined,
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(cert.cert), private_key: readFileSync(cert.key) }]);
  const tlsPort = await new Promise<number>((resolve, reject) =>
    tlsServer.bindAsync('127.0.0.1:0', creds, (err, port) => (err ? reject(err) : resolve(port))),
  );
  try {
    const { port } = await startProxy({
      echoPort: tlsPort,
      protocolOptions: `      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          auto_config: {}
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
          sni: localhost`,
    });
    const ok = await unary(client(port), { text: 'alpn' });
    assert.equal(ok.err, null);
    assert.equal(ok.res?.text, 'tls-echo:alpn');
  } finally {
    tlsServer.forceShutdown();
  }
});
