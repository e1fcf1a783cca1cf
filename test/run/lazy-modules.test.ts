/**
 * What `meshctl run` leaves unloaded until it is needed (issue 15's memory target): undici, only for an HTTP/2 (or
 * ALPN) cluster or `--upstream-client undici`, whose first request waits for it to load; prom-client, only at the
 * first Prometheus scrape. Every module the real CLI resolves is recorded by a hook registered with `node --import`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO } from '../helpers/cli.js';
import { moduleTraceHook } from '../helpers/module-trace.js';
import { H2_UPSTREAM, oneListenerYaml } from '../proxy/cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'meshctl-lazy-modules-'));
const REGISTER = moduleTraceHook();

const h1 = http.createServer((_req, res) => res.end('h1 upstream'));
const h2 = http2.createServer((_req, res) => res.end('h2 upstream'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  h1.close();
  h2.close();
});

interface Traced {
  port: number;
  admin: number;
  modules(): string[];
}

async function start(name: string, yaml: string): Promise<Traced> {
  const trace = join(dir, `${name}.trace`);
  writeFileSync(trace, '');
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  const child = spawn(process.execPath, ['--import', REGISTER, BIN, 'run', file, '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch'], {
    cwd: REPO,
    env: { ...process.env, MESHCTL_TRACE: trace, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let err = '';
  const seen = await new Promise<RegExpMatchArray[]>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`meshctl run did not start:\n${err}`)), 20_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const l = /listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      const a = /admin on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (l && a) {
        clearTimeout(t);
        resolve([l, a]);
      }
    });
  });
  return { port: Number(seen[0]![1]), admin: Number(seen[1]![1]), modules: () => readFileSync(trace, 'utf8').split('\n').filter((l) => l !== '') };
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

const loaded = (urls: readonly string[], pkg: string): boolean => urls.some((u) => u.includes(`/node_modules/${pkg}/`));

test('run of HTTP/1.1 clusters never loads undici; prom-client loads at the first Prometheus scrape', async () => {
  await new Promise<void>((r) => h1.listen(0, '127.0.0.1', () => r()));
  const p = await start('h1', oneListenerYaml({ routes: '                        - match: { prefix: "/" }\n                          route: { cluster: up }', clusters: { up: (h1.address() as AddressInfo).port } }));
  const r = await get(p.port, '/');
  assert.deepEqual([r.status, r.body], [200, 'h1 upstream']);
  assert.ok(p.modules().some((u) => u.includes('/upstream/h1-pool.js')), 'the trace sees the proxy modules');
  assert.ok(!loaded(p.modules(), 'undici'), 'undici loaded for an HTTP/1.1 cluster');
  assert.ok(!loaded(p.modules(), 'prom-client'), 'prom-client loaded before any scrape');
  const prom = await get(p.admin, '/stats/prometheus');
  assert.equal(prom.status, 200);
  assert.match(prom.body, /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="up"\} 1$/m);
  assert.ok(loaded(p.modules(), 'prom-client'), 'the scrape loaded prom-client');
});

test('an HTTP/2 cluster loads undici, and its first requests wait for it rather than fail', async () => {
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', () => r()));
  const yaml = oneListenerYaml({
    routes: '                        - match: { prefix: "/" }\n                          route: { cluster: h2up }',
    clusters: { h2up: (h2.address() as AddressInfo).port },
    clusterExtra: { h2up: H2_UPSTREAM },
  });
  const p = await start('h2', yaml);
  const answers = await Promise.all([get(p.port, '/a'), get(p.port, '/b'), get(p.port, '/c')]);
  for (const a of answers) assert.deepEqual([a.status, a.body], [200, 'h2 upstream']);
  assert.ok(loaded(p.modules(), 'undici'), 'undici was not loaded for an HTTP/2 cluster');
});
