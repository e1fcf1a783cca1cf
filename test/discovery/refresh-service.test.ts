import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { until } from '../upstream/helpers.js';
import { createClusterManager } from '../../src/upstream/cluster-manager.js';
import { parseEndpointsBody } from '../../src/discovery/refresh-service.js';
import { backoffMs } from '../../src/discovery/types.js';
import { RandomStreams } from '../../src/balancer/random.js';
import type { Bootstrap } from '../../src/config/model.js';

interface Control {
  port: number;
  status: number;
  body: string;
  etag?: string;
  requests: { url?: string; ifNoneMatch?: string }[];
  close(): Promise<void>;
}

async function controlServer(): Promise<Control> {
  const c: Control = { port: 0, status: 200, body: '{"endpoints":[]}', requests: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    c.requests.push({ url: req.url, ifNoneMatch: req.headers['if-none-match'] });
    if (c.etag !== undefined && req.headers['if-none-match'] === c.etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.statusCode = c.status;
    if (c.etag !== undefined) res.setHeader('etag', c.etag);
    res.setHeader('content-type', 'application/json');
    res.end(c.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  c.port = (server.address() as AddressInfo).port;
  c.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return c;
}

const simple = (...eps: [string, number, number?][]) => JSON.stringify({ endpoints: eps.map(([address, port, weight]) => ({ address, port, ...(weight ? { weight } : {}) })) });

function articleConfig(port: number, intervalMs = 40): Bootstrap {
  return {
    static_resources: {
      clusters: [
        {
          name: 'example-cluster',
          load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 1 } } } }] }] },
        },
      ],
      service_cluster_discovery_refresh_service: [
        {
          service_name: 'example-cluster-discovery',
          service_url: `http://127.0.0.1:${port}/cluster/example-cluster`,
          refresh_interval: { seconds: 0, nanos: intervalMs * 1e6 },
        },
      ],
    },
  };
}

const addrs = (hs: readonly { address: string }[]) => hs.map((h) => h.address).join(',');

test('refresh service: polls the URL, applies the simple shape and ClusterLoadAssignment, keeps hosts that stay, keeps the last good set on errors', async () => {
  const cp = await controlServer();
  cp.body = simple(['127.0.0.1', 2001], ['127.0.0.1', 2002, 3]);
  const cm = createClusterManager(articleConfig(cp.port), { random: new RandomStreams(1), clock: { now: () => performance.now() } });
  try {
    const c = cm.get('example-cluster')!;
    assert.equal(addrs(c.hosts.hosts), '127.0.0.1:1', 'static endpoints until the first answer');
    await cm.ready();
    await until(() => addrs(c.hosts.hosts) === '127.0.0.1:2001,127.0.0.1:2002', 10_000, 'first answer applied');
    assert.equal(c.hosts.hosts[1]!.weight, 3);
    assert.equal(cp.requests[0]!.url, '/cluster/example-cluster');
    const stays = c.hosts.hosts[1];

    // Envoy's ClusterLoadAssignment in proto3 JSON (lowerCamelCase), one host gone, one new, priorities.
    cp.body = JSON.stringify({
      clusterName: 'example-cluster',
      endpoints: [
        { lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 2002 } } }, loadBalancingWeight: 3 }] },
        { priority: 1, lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 2003 } } }, healthStatus: 'DEGRADED' }] },
      ],
    });
    await until(() => addrs(c.hosts.hosts) === '127.0.0.1:2002,127.0.0.1:2003', 5000, 'CLA applied');
    assert.equal(c.hosts.hosts[0], stays, 'a host that stays keeps its identity (state, counters)');
    assert.equal(c.hosts.hosts[1]!.priority, 1);
    assert.equal(c.hosts.hosts[1]!.health, 'degraded');

    const client = cm.refreshClient('example-cluster')!;
    for (const bad of [
      { status: 500, body: simple(['127.0.0.1', 9]) },
      { status: 200, body: '{not json' },
      { status: 200, body: simple(['127.0.0.1', 0]) },
      { status: 200, body: JSON.stringify({ endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 9 } } }, loadBalancingWeight: 0 }] }] }) },
    ]) {
      const failures = client.stats.update_failure;
      cp.status = bad.status;
      cp.body = bad.body;
      await until(() => client.stats.update_failure > failures, 5000, `failure for ${bad.body}`);
      assert.equal(addrs(c.hosts.hosts), '127.0.0.1:2002,127.0.0.1:2003', `kept on ${bad.status} ${bad.body}`);
    }
    assert.ok(client.lastError);
    cp.status = 200;
    cp.body = simple(['127.0.0.1', 2004]);
    await until(() => addrs(c.hosts.hosts) === '127.0.0.1:2004', 10_000, 'recovers after errors (back-off)');
  } finally {
    await cm.close();
    await cp.close();
  }
});

test('refresh service: ETag sent back as If-None-Match, 304 keeps the set; a cluster the config lacks is created', async () => {
  const cp = await controlServer();
  cp.body = simple(['127.0.0.1', 3001]);
  cp.etag = '"v1"';
  const cfg: Bootstrap = {
    static_resources: {
      service_cluster_discovery_refresh_service: [
        { service_name: 'svc', service_url: `http://127.0.0.1:${cp.port}/endpoints`, cluster_name: 'dyn', refresh_interval: { seconds: 0, nanos: 30e6 } },
      ],
    },
  };
  const cm = createClusterManager(cfg, { random: new RandomStreams(1), clock: { now: () => performance.now() } });
  try {
    await cm.ready();
    const c = cm.get('dyn')!;
    await until(() => addrs(c.hosts.hosts) === '127.0.0.1:3001', 10_000, 'first answer applied');
    await until(() => cm.refreshClient('dyn')!.stats.update_no_rebuild >= 1, 5000, '304 handled');
    assert.ok(cp.requests.some((r) => r.ifNoneMatch === '"v1"'), 'conditional request sent');
    assert.equal(addrs(c.hosts.hosts), '127.0.0.1:3001');
    // Reload without the service: the cluster it created goes away.
    cm.applyConfig({ static_resources: {} });
    assert.equal(cm.get('dyn'), undefined);
  } finally {
    await cm.close();
    await cp.close();
  }
});

test('endpoint bodies: shapes, DiscoveryResponse wrapper, and the errors that keep the old set', () => {
  assert.equal(parseEndpointsBody(simple(['10.0.0.1', 80]), 'c').hosts?.[0]?.ip, '10.0.0.1');
  const wrapped = JSON.stringify({
    version_info: '1',
    resources: [
      { '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', cluster_name: 'other', endpoints: [] },
      {
        '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
        cluster_name: 'c',
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 81 } } } }] }],
      },
    ],
  });
  assert.equal(parseEndpointsBody(wrapped, 'c').hosts?.[0]?.port, 81);
  assert.match(parseEndpointsBody('[]', 'c').error!, /object/);
  assert.match(parseEndpointsBody('{}', 'c').error!, /endpoints/);
  assert.match(parseEndpointsBody(simple(['127.0.0.1', 70000]), 'c').error!, /port/);
  assert.match(parseEndpointsBody(JSON.stringify({ endpoints: [{ address: 'a', port: 1, weight: 0 }] }), 'c').error!, /weight/);
  assert.deepEqual(parseEndpointsBody('{"endpoints":[]}', 'c').hosts, []);
});

test('back-off grows exponentially and stays capped', () => {
  const fixed = (x: number) => ({ next: () => x, nextU32: () => Math.floor(x * 2 ** 32) });
  const r = fixed(0.999999);
  assert.ok(backoffMs(1, 100, 10_000, r) > backoffMs(0, 100, 10_000, r));
  assert.ok(backoffMs(3, 100, 10_000, r) > backoffMs(2, 100, 10_000, r));
  assert.ok(backoffMs(40, 100, 10_000, r) <= 10_000);
  assert.ok(backoffMs(40, 100, 10_000, fixed(0)) >= 5000);
});
