import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostSet, hostsFromCluster } from '../../src/balancer/host-set.js';
import type { Cluster } from '../../src/config/model.js';

const cluster: Cluster = {
  name: 'c',
  load_assignment: {
    endpoints: [
      {
        priority: 1,
        lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.1.1', port_value: 81 } } } }],
      },
      {
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 80 } } }, load_balancing_weight: 100 },
          { endpoint: { address: { socket_address: { address: '10.0.0.2', port_value: 80 } } }, health_status: 'DRAINING' },
          { endpoint: { address: { socket_address: { address: '::1', port_value: 80 } }, hostname: 'six' }, health_status: 'DEGRADED' },
        ],
      },
    ],
  },
};

test('hostsFromCluster reads weights (default 1), priority and health_status, in priority order', () => {
  const hosts = hostsFromCluster(cluster);
  assert.deepEqual(
    hosts.map((h) => [h.ip, h.port, h.weight, h.priority, h.health, h.hostname]),
    [
      ['10.0.0.1', 80, 100, 0, 'healthy', undefined],
      ['10.0.0.2', 80, 1, 0, 'unhealthy', undefined],
      ['::1', 80, 1, 0, 'degraded', 'six'],
      ['10.0.1.1', 81, 1, 1, 'healthy', undefined],
    ],
  );
});

test('hostsFromCluster applies mapEndpoint', () => {
  const hosts = hostsFromCluster(cluster, { mapEndpoint: (ip, port) => ({ ip: '127.0.0.1', port: port + 18000 }) });
  assert.deepEqual(hosts.map((h) => `${h.ip}:${h.port}`), ['127.0.0.1:18080', '127.0.0.1:18080', '127.0.0.1:18080', '127.0.0.1:18081']);
});

test('HostSet: health flags, version bumps, change listeners, replace keeps runtime state', () => {
  const set = new HostSet(hostsFromCluster(cluster));
  assert.deepEqual(set.hosts.map((h) => h.address), ['10.0.0.1:80', '10.0.0.2:80', '[::1]:80', '10.0.1.1:81']);
  let changes = 0;
  const off = set.onChange(() => changes++);
  const a = set.hosts[0]!;
  const v0 = set.version;
  set.setHealthFlag(a, 'outlier', true);
  assert.equal(a.health, 'unhealthy');
  set.setHealthFlag(a, 'active-hc', true);
  set.setHealthFlag(a, 'outlier', false);
  assert.equal(a.health, 'unhealthy', 'still failed by active health checking');
  set.setHealthFlag(a, 'active-hc', false);
  assert.equal(a.health, 'healthy');
  assert.ok(set.version > v0);
  assert.equal(changes, 2, 'only health transitions count as changes');
  a.activeRequests = 7;
  set.replace([
    { ip: '10.0.0.9', port: 80, weight: 1, priority: 0 },
    { ip: '10.0.0.1', port: 80, weight: 5, priority: 0 },
  ]);
  assert.deepEqual(set.hosts.map((h) => h.address), ['10.0.0.9:80', '10.0.0.1:80']);
  assert.equal(set.hosts[1], a, 'the same Host object survives');
  assert.equal(a.activeRequests, 7);
  assert.equal(a.weight, 5);
  off();
  set.replace([]);
  assert.equal(changes, 3);
});
