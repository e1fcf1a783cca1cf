/**
 * The connection manager's connection limits through `meshctl run`, as Envoy applies them downstream:
 * common_http_protocol_options.max_requests_per_connection (HTTP/1.1: the response to the request that reaches it
 * closes the connection; HTTP/2: the drain sequence's GOAWAY) and max_connection_duration (the connection drains once
 * it is that old), counted in downstream_cx_max_requests_reached and downstream_cx_max_duration_reached.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { writeTemp } from './helpers.js';
import { oneListenerYaml, spawnCli, type RunningCli } from './cli-helpers.js';
import { Raw } from './raw-client.js';

let upstream: http.Server;
const children: RunningCli[] = [];

before(async () => {
  upstream = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
});

after(() => {
  for (const c of children) c.kill();
  upstream.closeAllConnections();
  upstream.close();
});

async function start(options: string): Promise<{ port: number; admin: number }> {
  const yaml = oneListenerYaml({
    hcmExtra: `                common_http_protocol_options: { ${options} }\n`,
    routes: '                        - match: { prefix: "/" }\n                          route: { cluster: up }',
    clusters: { up: (upstream.address() as AddressInfo).port },
  });
  const cli = spawnCli(['run', writeTemp('connection-limits.yaml', yaml), '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch']);
  children.push(cli);
  const port = Number((await cli.waitFor(/listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
  const admin = Number((await cli.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
  return { port, admin };
}

async function stat(admin: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${admin}/stats`)).text();
  return Number(new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

const GET = 'GET / HTTP/1.1\r\nhost: x\r\n\r\n';

test('max_requests_per_connection: HTTP/1.1 closes after the second response; HTTP/2 gets a GOAWAY at the second stream', async () => {
  const { port, admin } = await start('max_requests_per_connection: 2');
  const c = new Raw(port);
  try {
    c.sock.write(GET);
    await c.wait((t) => t.split('\r\n\r\nok').length === 2);
    assert.doesNotMatch(c.text(), /connection: close/i, 'the first response keeps the connection');
    c.sock.write(GET);
    await c.wait(() => false, 5000).catch(() => undefined);
    assert.ok(c.closed, 'the connection closes after the second response');
    const second = c.text().split('HTTP/1.1 200')[2]!;
    assert.match(second, /connection: close/i);
  } finally {
    c.sock.destroy();
  }
  assert.equal(await stat(admin, 'http.main.downstream_cx_max_requests_reached'), 1);

  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const goaway = new Promise<number>((r) => session.once('goaway', (code) => r(code)));
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = session.request({ ':path': '/' });
        req.on('response', () => undefined);
        req.on('end', () => resolve());
        req.on('error', reject);
        req.resume();
        req.end();
      });
    }
    assert.equal(await goaway, 0, 'the drain sequence: GOAWAY NO_ERROR');
  } finally {
    session.destroy();
  }
  assert.equal(await stat(admin, 'http.main.downstream_cx_max_requests_reached'), 2);
});

test('max_connection_duration: an idle keep-alive connection is closed once it is that old', async () => {
  const { port, admin } = await start('max_connection_duration: 0.4s');
  const c = new Raw(port);
  try {
    const opened = Date.now();
    c.sock.write(GET);
    await c.wait(/\r\n\r\nok/);
    await c.wait(() => false, 5000).catch(() => undefined);
    assert.ok(c.closed, 'closed by max_connection_duration');
    const age = Date.now() - opened;
    assert.ok(age >= 350 && age < 3000, `closed after ${age} ms`);
  } finally {
    c.sock.destroy();
  }
  assert.equal(await stat(admin, 'http.main.downstream_cx_max_duration_reached'), 1);
});
