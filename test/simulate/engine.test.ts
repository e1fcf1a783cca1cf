import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulation, SimulateError } from '../../src/simulate/engine.js';
import type { ClusterReport, SimReport } from '../../src/simulate/report-types.js';
import type { Bootstrap, Cluster, Cluster_LbPolicy, VirtualHost } from '../../src/config/model.js';

function cluster(name: string, policy: Cluster_LbPolicy, endpoints: [string, number][]): Cluster {
  return {
    name,
    lb_policy: policy,
    load_assignment: {
      endpoints: [
        {
          lb_endpoints: endpoints.map(([a, w]) => {
            const [ip, port] = a.split(':');
            return { endpoint: { address: { socket_address: { address: ip!, port_value: Number(port) } } }, load_balancing_weight: w };
          }),
        },
      ],
    },
  };
}

function bootstrap(vhosts: VirtualHost[], clusters: Cluster[]): Bootstrap {
  return {
    static_resources: {
      clusters,
      listeners: [
        {
          name: 'l',
          filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { route_config: { virtual_hosts: vhosts } } }] }],
        },
      ],
    },
  };
}

const all = (vh: string, c: string): VirtualHost => ({ name: vh, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: c } }] });

function onlyCluster(r: SimReport): ClusterReport {
  return r.listeners[0]!.routes[0]!.clusters[0]!;
}

test('deterministic under the seed; different seeds differ for random policies', async () => {
  const cfg = bootstrap([all('v', 'c')], [cluster('c', 'RANDOM', [['10.0.0.1:80', 1], ['10.0.0.2:80', 1], ['10.0.0.3:80', 1]])]);
  const a = await runSimulation(cfg, { requests: 5000, seed: 42 });
  const b = await runSimulation(cfg, { requests: 5000, seed: 42 });
  const c = await runSimulation(cfg, { requests: 5000, seed: 43 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(onlyCluster(a).endpoints.map((e) => e.count), onlyCluster(c).endpoints.map((e) => e.count));
});

test('shares within tolerance for every policy (fixed seed) with a reasonable fit', async () => {
  for (const policy of ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'] as const) {
    const cfg = bootstrap([all('v', 'c')], [cluster('c', policy, [['10.0.0.1:80', 1], ['10.0.0.2:80', 3]])]);
    const r = onlyCluster(await runSimulation(cfg, { requests: 40_000, seed: 5 }));
    for (const e of r.endpoints) assert.ok(Math.abs(e.deviation) < 0.01, `${policy} ${e.address}: ${e.share} vs ${e.expectedShare}`);
    assert.ok(r.pValue! > 0.001, `${policy} p=${r.pValue}`);
  }
});

test('unhealthy endpoints, panic visible, 404s counted, direct responses', async () => {
  const cfg = bootstrap(
    [
      { name: 'api', domains: ['api.example.com'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] },
      { name: 'ops', domains: ['ops.local'], routes: [{ match: { path: '/ready' }, direct_response: { status: 200 } }] },
    ],
    [cluster('c', 'ROUND_ROBIN', [['10.0.0.1:80', 1], ['10.0.0.2:80', 1], ['10.0.0.3:80', 1], ['10.0.0.4:80', 1]])],
  );
  const r = await runSimulation(cfg, {
    requests: 8000,
    hosts: ['api.example.com', 'ops.local', 'unknown.host'],
    paths: ['/ready', '/x'],
    unhealthy: ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'],
  });
  const l = r.listeners[0]!;
  const api = l.routes.find((x) => x.virtualHost === 'api')!;
  const ops = l.routes.find((x) => x.virtualHost === 'ops')!;
  assert.equal(l.requests, 8000);
  assert.equal(api.requests + ops.requests + l.notFound, 8000);
  assert.ok(l.notFound > 8000 / 3, 'unknown host and ops.local/x are 404');
  assert.equal(ops.directResponses, ops.requests);
  const c = api.clusters[0]!;
  assert.equal(c.panicPicks, c.requests, '1 of 4 healthy is below 50%: every pick in panic');
  for (const e of c.endpoints) assert.equal(e.expectedShare, 0.25);
});

test('timeline: a host going down mid-run gets only its share of the time before', async () => {
  const cfg = bootstrap([all('v', 'c')], [cluster('c', 'ROUND_ROBIN', [['10.0.0.1:80', 1], ['10.0.0.2:80', 1], ['10.0.0.3:80', 1]])]);
  const r = await runSimulation(cfg, { requests: 9000, rps: 1000, timeline: [{ atMs: 3000, action: 'down', address: '10.0.0.1:80' }, { atMs: 6000, action: 'up', address: '10.0.0.1:80' }] });
  const c = onlyCluster(r);
  const a = c.endpoints[0]!;
  // Up for 6 of 9 seconds at a third, down (2 of 3 healthy, no panic) for 3.
  assert.ok(Math.abs(a.count - 2000) <= 2, String(a.count));
  assert.ok(Math.abs(a.expectedShare - 2 / 9) < 1e-9);
  assert.equal(c.panicPicks, 0);
  assert.deepEqual(r.timeline.map((t) => [t.action, t.afterRequests]), [['down', 3000], ['up', 6000]]);
  // The split over time: one phase per interval between events.
  assert.deepEqual(
    c.phases!.map((p) => [p.fromMs, p.toMs, p.requests, Math.round(p.endpoints[0]!.count), Number(p.endpoints[0]!.expectedShare.toFixed(4))]),
    [
      [0, 3000, 3000, 1000, 0.3333],
      [3000, 6000, 3000, 0, 0],
      [6000, null, 3000, 1000, 0.3333],
    ],
  );
});

test('LEAST_REQUEST avoids a slow endpoint that round robin keeps feeding', async () => {
  const run = async (policy: Cluster_LbPolicy) => {
    const cfg = bootstrap([all('v', 'c')], [cluster('c', policy, [['10.0.0.1:80', 1], ['10.0.0.2:80', 1]])]);
    const latency = new Map([
      ['10.0.0.1:80', { kind: 'const' as const, ms: 50 }],
      ['10.0.0.2:80', { kind: 'exp' as const, meanMs: 5 }],
    ]);
    return onlyCluster(await runSimulation(cfg, { requests: 20_000, rps: 1000, latency, seed: 2 }));
  };
  const rr = await run('ROUND_ROBIN');
  const lr = await run('LEAST_REQUEST');
  assert.ok(Math.abs(rr.endpoints[0]!.share - 0.5) < 0.001);
  assert.ok(lr.endpoints[0]!.share < 0.4, `least request sent ${lr.endpoints[0]!.share} to the slow host`);
  assert.ok(lr.meanLatencyMs! < rr.meanLatencyMs! * 0.8, `mean latency ${lr.meanLatencyMs} vs ${rr.meanLatencyMs}`);
});

test('weighted clusters: route split reported with the expected weights', async () => {
  const cfg = bootstrap(
    [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'a', weight: 90 }, { name: 'b', weight: 10 }] } } }] }],
    [cluster('a', 'ROUND_ROBIN', [['10.0.0.1:80', 1]]), cluster('b', 'ROUND_ROBIN', [['10.0.1.1:80', 1]])],
  );
  const r = await runSimulation(cfg, { requests: 50_000, seed: 9 });
  const [a, b] = r.listeners[0]!.routes[0]!.clusters;
  assert.equal(a!.expectedShare, 0.9);
  assert.ok(Math.abs(a!.share - 0.9) < 0.005 && Math.abs(b!.share - 0.1) < 0.005);
});

test('ring hash with a header hash policy keeps each user on one host', async () => {
  const cfg = bootstrap(
    [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c', hash_policy: [{ header: { header_name: 'x-user' } }] } }] }],
    [cluster('c', 'RING_HASH', [['10.0.0.1:80', 1], ['10.0.0.2:80', 1], ['10.0.0.3:80', 1]])],
  );
  const one = onlyCluster(await runSimulation(cfg, { requests: 1000, headers: new Map([['x-user', ['alice']]]) }));
  assert.deepEqual(one.endpoints.map((e) => e.count).filter((c) => c > 0), [1000]);
});

test('replay files: JSON lines and access logs, cycled up to --requests; errors name file:line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-sim-'));
  const file = join(dir, 'reqs.log');
  writeFileSync(
    file,
    [
      '{"host":"a.example.com","path":"/"}',
      '[2024-01-01T00:00:00.000Z] "GET /x HTTP/1.1" 200 - 0 0 1 1 "10.1.1.1" "curl" "id" "a.example.com" "10.0.0.1:80"',
      '{"host":"nope","path":"/"}',
      '',
    ].join('\n'),
  );
  const cfg = bootstrap([{ name: 'v', domains: ['a.example.com'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] }], [cluster('c', 'ROUND_ROBIN', [['10.0.0.1:80', 1]])]);
  const once = await runSimulation(cfg, { requestsFile: file });
  assert.equal(once.requests, 3);
  assert.equal(once.listeners[0]!.notFound, 1);
  const cycled = await runSimulation(cfg, { requestsFile: file, requests: 10 });
  assert.equal(cycled.requests, 10);
  writeFileSync(file, '{"host":"a"}\nnot a request\n');
  await assert.rejects(runSimulation(cfg, { requestsFile: file }), (e: Error) => e.message === `${file}:2: neither a JSON object nor an Envoy access-log line`);
});

test('unknown listener or endpoint names are errors with suggestions', async () => {
  const cfg = bootstrap([all('v', 'c')], [cluster('c', 'ROUND_ROBIN', [['10.0.0.1:80', 1]])]);
  await assert.rejects(runSimulation(cfg, { listener: 'k' }), (e: Error) => e instanceof SimulateError && /no listener named "k"/.test(e.message));
  await assert.rejects(runSimulation(cfg, { unhealthy: ['10.0.0.1:81'] }), (e: Error) => e instanceof SimulateError && /did you mean 10\.0\.0\.1:80/.test(e.message));
});

test('memory stays flat: a million requests with requests in flight keep a bounded heap', async () => {
  const cfg = bootstrap([all('v', 'c')], [cluster('c', 'LEAST_REQUEST', [['10.0.0.1:80', 1], ['10.0.0.2:80', 1]])]);
  const heaps: number[] = [];
  await runSimulation(cfg, {
    requests: 1_000_000,
    latency: new Map([['*', { kind: 'exp' as const, meanMs: 20 }]]),
    progressEvery: 100_000,
    onProgress: () => heaps.push(process.memoryUsage().heapUsed),
  });
  // Keeping every request would take well over 50 MB; in-flight requests are ~20 at 1000 req/s × 20 ms.
  const growth = Math.max(...heaps.slice(1)) - heaps[0]!;
  assert.ok(growth < 30 * 1024 * 1024, `heap grew ${(growth / 1048576).toFixed(1)} MB`);
});
