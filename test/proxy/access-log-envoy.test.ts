/**
 * Envoy access logs (`access_log` of a connection manager and of a listener) through `meshctl run` (the real
 * binary) with curl as the client: every command operator's value in the file is compared with what the request was;
 * JSON formats keep types and omit empty values; Envoy's default format; filters; a listener's per-connection log;
 * unknown operators and unsupported filters refused with file:line; SIGUSR1 reopens a rotated file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, existsSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { writeTemp } from './helpers.js';
import { spawnCli, type RunningCli } from './cli-helpers.js';
import { runCli } from '../helpers/cli.js';

let upstream: http.Server;
let upstreamPort = 0;
const children: RunningCli[] = [];
const dir = mkdtempSync(join(tmpdir(), 'meshctl-alog-'));

before(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/up/slow')) {
        setTimeout(() => res.end('slow'), 1500);
        return;
      }
      // A chunked response with a trailer (for %TRAILER%) and a header (for %RESP%).
      res.writeHead(201, { 'x-up': 'hello-from-upstream', trailer: 'x-trail', 'content-type': 'text/plain' });
      res.write('0123456789');
      res.addTrailers({ 'x-trail': 'trailer-value' });
      res.end();
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

/** An `access_log` list item (at the connection manager's indentation) writing `path`. */
function fileLog(path: string, logFormat: string, filter = ''): string {
  return `                  - name: envoy.access_loggers.file
${filter ? `                    filter: ${filter}\n` : ''}                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: ${path}
${logFormat}`;
}

function config(accessLogs: string, listenerLog = ''): string {
  return `
static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
${listenerLog}
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: main
                access_log:
${accessLogs}
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - name: to-upstream
                          match: { prefix: "/app" }
                          route: { cluster: up, prefix_rewrite: "/up" }
                        - match: { prefix: "/broken" }
                          route: { cluster: dead }
  clusters:
    - name: up
      connect_timeout: 1s
      # The upstream's response trailers reach the connection manager (and %TRAILER()%) only when the cluster's
      # HTTP/1 codec keeps them.
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: { http_protocol_options: { enable_trailers: true } }
      load_assignment:
        cluster_name: up
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } } }] }]
    - name: dead
      connect_timeout: 1s
      load_assignment:
        cluster_name: dead
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }]
`;
}

async function startProxy(yaml: string): Promise<{ port: number; cli: RunningCli }> {
  const file = writeTemp('alog.yaml', yaml);
  const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/);
  return { port: Number(m[1]), cli };
}

/** curl, returning its stdout (`-w` output after the body). */
function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '--max-time', '10', ...args], (err, stdout) => (err && !stdout ? reject(err) : resolve(stdout)));
  });
}

/** The file's lines once it has at least `n` (writes are batched per event-loop turn). */
async function lines(file: string, n: number): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const ls = text.split('\n').filter((l) => l !== '');
    if (ls.length >= n) return ls;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} never had ${n} line(s): ${existsSync(file) ? readFileSync(file, "utf8") : "(none)"}\n${children.map((c) => c.stderr()).join("\n")}`);
}

const OPERATORS = [
  'START_TIME(%Y/%m/%d %H:%M:%S.%3f %s)', 'REQ(:METHOD)', 'REQ(X-ENVOY-ORIGINAL-PATH?:PATH)', 'REQ(:PATH)', 'REQ(X-TEST):3',
  'REQ(:AUTHORITY)', 'REQ(USER-AGENT)', 'RESP(X-UP)', 'RESP(X-MISSING)', 'TRAILER(X-TRAIL)', 'PROTOCOL', 'RESPONSE_CODE',
  'RESPONSE_CODE_DETAILS', 'RESPONSE_FLAGS', 'BYTES_RECEIVED', 'BYTES_SENT', 'DURATION', 'REQUEST_DURATION',
  'RESPONSE_DURATION', 'UPSTREAM_HOST', 'UPSTREAM_CLUSTER', 'UPSTREAM_LOCAL_ADDRESS', 'DOWNSTREAM_REMOTE_ADDRESS',
  'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT', 'DOWNSTREAM_LOCAL_ADDRESS', 'ROUTE_NAME', 'UPSTREAM_TRANSPORT_FAILURE_REASON',
  'HOSTNAME', 'REQUESTED_SERVER_NAME', 'CONNECTION_ID', 'STREAM_ID',
];

test('text format: every command operator has the value of the request that was made', async () => {
  const textLog = join(dir, 'text.log');
  const fmt = OPERATORS.map((o) => `%${o}%`).join('|');
  const { port } = await startProxy(config(fileLog(textLog, `                      log_format: { text_format_source: { inline_string: "${fmt.replace(/"/g, '\\"')}\\n" } }`)));
  const before = Date.now();
  const w = await curl([
    '-o', '/dev/null', '-w', '%{local_ip}:%{local_port}', '-H', 'x-test: abcdef', '-H', 'x-request-id: rid-1', '-A', 'tester/1.0',
    '--data-binary', 'hello-body', `http://127.0.0.1:${port}/app/items?q=1`,
  ]);
  const failed = await curl(['-o', '/dev/null', '-w', '%{local_ip}:%{local_port}', `http://127.0.0.1:${port}/broken`]);
  const [ok, bad] = (await lines(textLog, 2)).map((l) => l.split('|'));
  const v = (row: string[], op: string): string => row[OPERATORS.indexOf(op)]!;
  const [date, time, epoch] = v(ok!, OPERATORS[0]!).split(' ');
  const start = Date.parse(`${date!.replace(/\//g, '-')}T${time}Z`);
  assert.ok(start >= before - 1000 && start <= Date.now(), `START_TIME ${v(ok!, OPERATORS[0]!)} is the request's time`);
  assert.equal(Number(epoch), Math.floor(start / 1000));
  assert.equal(v(ok!, 'REQ(:METHOD)'), 'POST');
  assert.equal(v(ok!, 'REQ(X-ENVOY-ORIGINAL-PATH?:PATH)'), '/app/items?q=1', 'the original path, before prefix_rewrite');
  assert.equal(v(ok!, 'REQ(:PATH)'), '/up/items?q=1', ':path as the router rewrote it');
  assert.equal(v(ok!, 'REQ(X-TEST):3'), 'abc', 'cut to 3 characters');
  assert.equal(v(ok!, 'REQ(:AUTHORITY)'), `127.0.0.1:${port}`);
  assert.equal(v(ok!, 'REQ(USER-AGENT)'), 'tester/1.0');
  assert.equal(v(ok!, 'RESP(X-UP)'), 'hello-from-upstream');
  assert.equal(v(ok!, 'RESP(X-MISSING)'), '-');
  assert.equal(v(ok!, 'TRAILER(X-TRAIL)'), 'trailer-value');
  assert.equal(v(ok!, 'PROTOCOL'), 'HTTP/1.1');
  assert.equal(v(ok!, 'RESPONSE_CODE'), '201');
  assert.equal(v(ok!, 'RESPONSE_CODE_DETAILS'), 'via_upstream');
  assert.equal(v(ok!, 'RESPONSE_FLAGS'), '-');
  assert.equal(v(ok!, 'BYTES_RECEIVED'), String('hello-body'.length));
  assert.equal(v(ok!, 'BYTES_SENT'), '10');
  const duration = Number(v(ok!, 'DURATION'));
  const reqDur = Number(v(ok!, 'REQUEST_DURATION'));
  const respDur = Number(v(ok!, 'RESPONSE_DURATION'));
  assert.ok(Number.isInteger(duration) && duration >= 0 && duration < 5000);
  assert.ok(reqDur >= 0 && reqDur <= respDur && respDur <= duration, `${reqDur} <= ${respDur} <= ${duration}`);
  assert.equal(v(ok!, 'UPSTREAM_HOST'), `127.0.0.1:${upstreamPort}`);
  assert.equal(v(ok!, 'UPSTREAM_CLUSTER'), 'up');
  assert.equal(v(ok!, 'DOWNSTREAM_REMOTE_ADDRESS'), w, 'the address curl connected from');
  assert.equal(v(ok!, 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT'), '127.0.0.1');
  assert.equal(v(ok!, 'DOWNSTREAM_LOCAL_ADDRESS'), `127.0.0.1:${port}`);
  assert.equal(v(ok!, 'ROUTE_NAME'), 'to-upstream');
  assert.equal(v(ok!, 'UPSTREAM_TRANSPORT_FAILURE_REASON'), '-');
  assert.equal(v(ok!, 'HOSTNAME'), hostname());
  assert.equal(v(ok!, 'REQUESTED_SERVER_NAME'), '-', 'no TLS, no SNI');
  assert.equal(v(ok!, 'STREAM_ID'), 'rid-1');
  // The refused connection: its failure is in the log.
  assert.equal(v(bad!, 'RESPONSE_CODE'), '503');
  assert.equal(v(bad!, 'RESPONSE_FLAGS'), 'UF');
  assert.equal(v(bad!, 'UPSTREAM_CLUSTER'), 'dead');
  assert.equal(v(bad!, 'UPSTREAM_HOST'), '127.0.0.1:1');
  assert.match(v(bad!, 'UPSTREAM_TRANSPORT_FAILURE_REASON'), /refused/i);
  assert.match(v(bad!, 'RESPONSE_CODE_DETAILS'), /^upstream_reset_before_response_started\{remote_connection_failure/);
  assert.equal(v(bad!, 'RESPONSE_DURATION'), '-', 'no upstream response');
  assert.equal(v(bad!, 'ROUTE_NAME'), '-');
  assert.equal(v(bad!, 'DOWNSTREAM_REMOTE_ADDRESS'), failed);
  const ids = [Number(v(ok!, 'CONNECTION_ID')), Number(v(bad!, 'CONNECTION_ID'))];
  assert.ok(ids.every((n) => Number.isInteger(n) && n > 0) && ids[0] !== ids[1], `one id per connection: ${ids.join(', ')}`);
});

test('json_format keeps types and nests; omit_empty_values drops unset keys; the default format is Envoy\'s', async () => {
  const jsonLog = join(dir, 'json.log');
  const omitLog = join(dir, 'omit.log');
  const defLog = join(dir, 'default.log');
  const json = `                      log_format:
                        json_format:
                          code: "%RESPONSE_CODE%"
                          text: "code=%RESPONSE_CODE%"
                          missing: "%REQ(X-NONE)%"
                          nested: { method: "%REQ(:METHOD)%", bytes: "%BYTES_SENT%" }`;
  const omit = `                      log_format:
                        omit_empty_values: true
                        json_format: { code: "%RESPONSE_CODE%", missing: "%REQ(X-NONE)%" }`;
  const { port } = await startProxy(config(fileLog(jsonLog, json) + '\n' + fileLog(omitLog, omit) + '\n' + fileLog(defLog, '')));
  await curl(['-o', '/dev/null', '-A', 'agent-x', '-H', 'x-request-id: rid-2', '-H', 'x-forwarded-for: 10.1.2.3', `http://127.0.0.1:${port}/app/a`]);
  const [j] = await lines(jsonLog, 1);
  assert.deepEqual(JSON.parse(j!), { code: 201, text: 'code=201', missing: null, nested: { method: 'GET', bytes: 10 } });
  const [o] = await lines(omitLog, 1);
  assert.deepEqual(JSON.parse(o!), { code: 201 });
  const [d] = await lines(defLog, 1);
  assert.match(
    d!,
    new RegExp(
      `^\\[\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\] "GET /app/a HTTP/1\\.1" 201 - 0 10 \\d+ \\d+ "10\\.1\\.2\\.3" "agent-x" "rid-2" "127\\.0\\.0\\.1:${port}" "127\\.0\\.0\\.1:${upstreamPort}"$`,
    ),
  );
});

test('filters: status_code_filter, duration_filter, response_flag_filter, header_filter, and/or, runtime_filter', async () => {
  const f = (name: string): string => join(dir, `filter-${name}.log`);
  const fmt = '                      log_format: { text_format_source: { inline_string: "%REQ(:PATH)% %RESPONSE_CODE%\\n" } }';
  const logs = [
    fileLog(f('errors'), fmt, '{ status_code_filter: { comparison: { op: GE, value: { default_value: 500, runtime_key: k } } } }'),
    fileLog(f('slow'), fmt, '{ duration_filter: { comparison: { op: GE, value: { default_value: 1000, runtime_key: k } } } }'),
    fileLog(f('flagged'), fmt, '{ response_flag_filter: { flags: [UF, UH] } }'),
    fileLog(f('header'), fmt, '{ header_filter: { header: { name: x-log-me, string_match: { exact: "yes" } } } }'),
    fileLog(f('and'), fmt, '{ and_filter: { filters: [ { status_code_filter: { comparison: { op: EQ, value: { default_value: 201, runtime_key: k } } } }, { header_filter: { header: { name: x-log-me, present_match: true } } } ] } }'),
    fileLog(f('or'), fmt, '{ or_filter: { filters: [ { response_flag_filter: {} }, { header_filter: { header: { name: x-log-me, present_match: true } } } ] } }'),
    fileLog(f('never'), fmt, '{ runtime_filter: { runtime_key: k, percent_sampled: { numerator: 0, denominator: HUNDRED } } }'),
    fileLog(f('always'), fmt, '{ runtime_filter: { runtime_key: k, percent_sampled: { numerator: 100, denominator: HUNDRED } } }'),
    fileLog(f('all'), fmt),
  ].join('\n');
  const { port } = await startProxy(config(logs));
  await curl(['-o', '/dev/null', `http://127.0.0.1:${port}/app/plain`]);
  await curl(['-o', '/dev/null', '-H', 'x-log-me: yes', `http://127.0.0.1:${port}/app/marked`]);
  await curl(['-o', '/dev/null', `http://127.0.0.1:${port}/app/slow`]);
  await curl(['-o', '/dev/null', `http://127.0.0.1:${port}/broken`]);
  await lines(f('all'), 4);
  // Writes to every file happen in the same batch as the catch-all log's.
  const read = (name: string): string[] => (existsSync(f(name)) ? readFileSync(f(name), 'utf8').split('\n').filter((l) => l !== '') : []);
  assert.deepEqual(read('errors'), ['/broken 503']);
  assert.deepEqual(read('slow'), ['/up/slow 200']);
  assert.deepEqual(read('flagged'), ['/broken 503']);
  assert.deepEqual(read('header'), ['/up/marked 201']);
  assert.deepEqual(read('and'), ['/up/marked 201']);
  assert.deepEqual(read('or'), ['/up/marked 201', '/broken 503']);
  assert.deepEqual(read('never'), []);
  assert.equal(read('always').length, 4);
});

test('%BYTES_RECEIVED% is the request body as received: a chunked upload (no content-length) counts its bytes', async () => {
  const log = join(dir, 'bytes-received.log');
  const { port } = await startProxy(config(fileLog(log, '                      log_format: { text_format_source: { inline_string: "%BYTES_RECEIVED% %REQ(CONTENT-LENGTH)%\\n" } }')));
  const body = join(dir, 'chunked-body.bin');
  writeFileSync(body, Buffer.alloc(12_345, 'b'));
  await curl(['-o', '/dev/null', '-H', 'transfer-encoding: chunked', '--data-binary', `@${body}`, `http://127.0.0.1:${port}/app/up`]);
  const [line] = await lines(log, 1);
  assert.equal(line, '12345 -', 'the de-chunked body bytes, with no content-length to read them from');
});

test('a listener access_log gets one line per downstream connection', async () => {
  const reqLog = join(dir, 'conn-req.log');
  const connLog = join(dir, 'conn.log');
  const listenerLog = `      access_log:
        - name: envoy.access_loggers.file
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
            path: ${connLog}
            log_format: { text_format_source: { inline_string: "%DOWNSTREAM_REMOTE_ADDRESS% %BYTES_RECEIVED% %BYTES_SENT% %RESPONSE_CODE% %PROTOCOL%\\n" } }`;
  const { port } = await startProxy(config(fileLog(reqLog, ''), listenerLog));
  // Two requests on one connection: two request lines, one connection line.
  const w = await curl(['-o', '/dev/null', '-o', '/dev/null', '-w', '%{local_ip}:%{local_port}\\n', `http://127.0.0.1:${port}/app/1`, `http://127.0.0.1:${port}/app/2`]);
  await lines(reqLog, 2);
  const [conn] = await lines(connLog, 1);
  const [addr, rx, tx, code, proto] = conn!.split(' ');
  assert.equal(addr, w.trim().split('\n')[0]);
  assert.ok(Number(rx) > 100 && Number(tx) > 100, 'the connection\'s bytes both ways');
  assert.equal(code, '0');
  assert.equal(proto, '-');
});

test('unknown operators (validate and run) and unsupported loggers and filters are refused with file:line', async () => {
  const bad = writeTemp('bad-op.yaml', config(fileLog(join(dir, 'x.log'), '                      log_format: { text_format_source: { inline_string: "%RESPONSE_CODES%\\n" } }')));
  const v = await runCli(['validate', bad]);
  assert.equal(v.code, 1);
  assert.match(v.stdout + v.stderr, /unknown command operator %RESPONSE_CODES%[^]*--> \S*bad-op\.yaml:14:\d+/);
  const r = spawnCli(['run', bad, '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  children.push(r);
  assert.equal(await r.exit(), 1);
  assert.match(r.stdout() + r.stderr(), /unknown command operator %RESPONSE_CODES%/);

  // Envoy knows it, meshctl run does not produce it: validate passes, run refuses at start-up.
  const known = writeTemp('known-op.yaml', config(fileLog(join(dir, 'y.log'), '                      log_format: { text_format_source: { inline_string: "%DOWNSTREAM_PEER_SUBJECT%\\n" } }')));
  assert.equal((await runCli(['validate', known])).code, 0);
  const k = spawnCli(['run', known, '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  children.push(k);
  assert.equal(await k.exit(), 2);
  assert.match(k.stderr(), /known-op\.yaml:\d+:\d+: access log format: command operator %DOWNSTREAM_PEER_SUBJECT% is not produced by meshctl run/);

  const grpcFilter = writeTemp('grpc-filter.yaml', config(fileLog(join(dir, 'z.log'), '', '{ grpc_status_filter: { statuses: [OK] } }')));
  const g = spawnCli(['run', grpcFilter, '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  children.push(g);
  assert.equal(await g.exit(), 2);
  assert.match(g.stderr(), /grpc-filter\.yaml:\d+:\d+: access log filter: the grpc_status_filter access-log filter is not supported/);
});

test('SIGUSR1 reopens the log file (rotation)', async () => {
  const file = join(dir, 'rotate.log');
  const { port, cli } = await startProxy(config(fileLog(file, '                      log_format: { text_format_source: { inline_string: "%REQ(:PATH)%\\n" } }')));
  await curl(['-o', '/dev/null', `http://127.0.0.1:${port}/app/first`]);
  await lines(file, 1);
  renameSync(file, `${file}.1`);
  cli.child.kill('SIGUSR1');
  await new Promise((r) => setTimeout(r, 200));
  await curl(['-o', '/dev/null', `http://127.0.0.1:${port}/app/second`]);
  assert.deepEqual(await lines(file, 1), ['/up/second']);
  assert.deepEqual(readFileSync(`${file}.1`, 'utf8').trim().split('\n'), ['/up/first']);
});
