/**
 * The proxy on the shared router and cluster manager (no stand-ins): HTTP/2 upstreams, retries keeping a load at
 * zero failures while an upstream dies, weighted clusters with per-cluster headers, and `--workers 2` aggregating
 * its admin numbers across processes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy, type RunningProxy } from '../../src/proxy/index.js';
import { startEchoServer, type EchoServer } from '../../src/app/echo-server.js';
import { cluster, config, destroyAgent, get, routeTo } from './helpers.js';
import { freePort, spawnCli } from './cli-helpers.js';

const servers: EchoServer[] = [];
const proxies: RunningProxy[] = [];

async function echo(name: string, h2c = false): Promise<EchoServer> {
  const s = await startEchoServer({ name, h2c });
  servers.push(s);
  return s;
}

before(async () => undefined);
after(async () => {
  for (const p of proxies) await p.close(0);
  for (const s of servers) await s.close().catch(() => undefined);
  destroyAgent();
});

test('HTTP/2 to the upstream when the cluster has http2_protocol_options', async () => {
  const up = await echo('h2up', true);
  const p = await startProxy(
    config({ clusters: [cluster('h2', [up.port], { http2_protocol_options: {} })], routes: [routeTo('h2')] }),
    { admin: false },
  );
  proxies.push(p);
  for (let i = 0; i < 5; i++) {
    const r = await get(p.listeners[0]!.port, `/over-h2/${i}`);
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as { upstream: string; headers: Record<string, string> };
    assert.equal(body.upstream, 'h2up');
    // An HTTP/2 server sees :authority; node's compat layer exposes it as a pseudo-header.
    assert.ok(body.headers[':authority'] !== undefined || body.headers.host !== undefined);
  }
  assert.equal(p.stats().counters['cluster.h2.upstream_cx_total'], 1);
});

test('weighted clusters through the shared router, with per-cluster request headers', async () => {
  const x = await echo('x');
  const y = await echo('y');
  const cfg = config({
    clusters: [cluster('cx', [x.port]), cluster('cy', [y.port])],
    routes: [
      {
        match: { prefix: '/' },
        route: {
          weighted_clusters: {
            clusters: [
              { name: 'cx', weight: 1, request_headers_to_add: [{ header: { key: 'x-picked', value: 'cx' } }] },
              { name: 'cy', weight: 3, request_headers_to_add: [{ header: { key: 'x-picked', value: 'cy' } }] },
            ],
          },
        },
      },
    ],
  });
  const p = await startProxy(cfg, { admin: false, seed: 3 });
  proxies.push(p);
  const counts = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const r = await get(p.listeners[0]!.port, `/w/${i}`);
    const body = JSON.parse(r.body) as { upstream: string; headers: Record<string, string> };
    assert.equal(body.headers['x-picked'], body.upstream === 'x' ? 'cx' : 'cy');
    counts.set(body.upstream, (counts.get(body.upstream) ?? 0) + 1);
  }
  const share = (counts.get('y') ?? 0) / 200;
  assert.ok(share > 0.6 && share < 0.9, `cy share ${share}`);
});

test('retries keep a load at zero failed requests while one of two upstreams dies', async () => {
  const u1 = await echo('u1');
  const u2 = await echo('u2');
  const cfg = config({
    // Envoy allows 3 concurrent retries per cluster by default; 8 concurrent clients need more while a host is dead.
    clusters: [
      cluster('pair', [u1.port, u2.port], {
        connect_timeout: { seconds: 0, nanos: 250_000_000 },
        circuit_breakers: { thresholds: [{ max_retries: 64 }] },
      }),
    ],
    // previous_hosts: a retry goes to a host not tried yet (without it Envoy may pick the dead host again).
    routes: [
      routeTo('pair', '/', {
        retry_policy: {
          retry_on: 'connect-failure,reset,5xx',
          num_retries: 3,
          retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
          host_selection_retry_max_attempts: 3,
        },
      }),
    ],
  });
  const p = await startProxy(cfg, { admin: false });
  proxies.push(p);
  const port = p.listeners[0]!.port;
  let failed = 0;
  let done = 0;
  const statuses: string[] = [];
  const total = 2000;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      if (i === 600) void u1.close();
      try {
        const r = await get(port, `/k/${i}`);
        if (r.status !== 200) {
          failed++;
          statuses.push(`${r.status} ${r.body.slice(60, 300)}`);
        }
      } catch (err) {
        failed++;
        statuses.push((err as Error).message);
      }
      done++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  assert.equal(done, total);
  assert.equal(failed, 0, statuses.slice(0, 5).join('\n'));
  const s = p.stats().counters;
  assert.ok((s['cluster.pair.upstream_rq_retry'] ?? 0) >= 1, 'some requests were retried');
});

test('--workers 2: both processes serve, the admin endpoint sums their stats', async () => {
  const up = await echo('wk');
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-workers-'));
  const file = join(dir, 'w.json');
  const cfg = config({ clusters: [cluster('wk', [up.port])], routes: [routeTo('wk')] });
  delete cfg.admin;
  const port = await freePort();
  cfg.static_resources!.listeners![0]!.address!.socket_address!.port_value = port;
  writeFileSync(file, JSON.stringify(cfg));
  const cli = spawnCli(['run', file, '--workers', '2', '--admin-address', '127.0.0.1:0', '--no-access-log', '--listen-address', '127.0.0.1']);
  try {
    // With port 0 each worker would bind its own port, so give the listener a fixed free one.
    const ad = await cli.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/, 60_000);
    const admin = Number(ad[1]);
    const ready = await get(admin, '/ready');
    assert.equal(ready.body.trim(), 'LIVE');
    const n = 40;
    for (let i = 0; i < n; i++) {
      // A fresh connection each time, so the kernel spreads them over both workers.
      const r = await get(port, `/wk/${i}`, { connection: 'close' });
      assert.equal(r.status, 200);
    }
    const stats = await get(admin, '/stats?filter=^cluster\\.wk\\.upstream_rq_total$');
    assert.equal(stats.body.trim(), `cluster.wk.upstream_rq_total: ${n}`);
    const prom = await get(admin, '/stats/prometheus');
    assert.match(prom.body, new RegExp(`^envoy_cluster_upstream_rq_total\\{envoy_cluster_name="wk"\\} ${n}$`, 'm'));
  } finally {
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exit(), 0);
  }
});
