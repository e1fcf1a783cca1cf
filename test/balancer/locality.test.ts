import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostSet, createBalancer, createRandom, hostsFromCluster } from '../../src/balancer/index.js';
import type { Cluster, LbEndpoint } from '../../src/config/model.js';

const ep = (ip: string): LbEndpoint => ({ endpoint: { address: { socket_address: { address: ip, port_value: 80 } } } });

function cluster(localityWeighted: boolean): Cluster {
  return {
    name: 'c',
    ...(localityWeighted ? { common_lb_config: { locality_weighted_lb_config: {} } } : {}),
    load_assignment: {
      endpoints: [
        { locality: { zone: 'a' }, load_balancing_weight: 3, lb_endpoints: [ep('10.0.0.1'), ep('10.0.0.2')] },
        { locality: { zone: 'b' }, load_balancing_weight: 1, lb_endpoints: [ep('10.0.1.1'), ep('10.0.1.2'), ep('10.0.1.3'), ep('10.0.1.4')] },
      ],
    },
  };
}

function zoneAShare(c: Cluster, set: HostSet, n = 40_000): number {
  const b = createBalancer(c, set, createRandom(1));
  let a = 0;
  for (let i = 0; i < n; i++) if (b.pick()!.address.startsWith('10.0.0.')) a++;
  return a / n;
}

test('hostsFromCluster carries locality and its weight', () => {
  const hosts = hostsFromCluster(cluster(true));
  assert.equal(hosts[0]!.locality, '/a/');
  assert.equal(hosts[0]!.localityWeight, 3);
  assert.equal(hosts[5]!.localityWeight, 1);
});

test('locality weights split traffic 3:1 between zones, then round robin inside; ignored without the config flag', () => {
  const set = new HostSet(hostsFromCluster(cluster(true)));
  assert.ok(Math.abs(zoneAShare(cluster(true), set) - 0.75) < 0.001);
  assert.ok(Math.abs(zoneAShare(cluster(false), set) - 2 / 6) < 0.001, 'plain round robin over 6 hosts');
  const shares = [...createBalancer(cluster(true), set, createRandom(1)).expectedShares().values()];
  assert.deepEqual(shares.map((s) => Number(s.toFixed(4))), [0.375, 0.375, 0.0625, 0.0625, 0.0625, 0.0625]);
});

test('a locality losing hosts loses weight by min(1, 1.4 × healthy fraction)', () => {
  const set = new HostSet(hostsFromCluster(cluster(true)));
  set.setHealthFlag(set.hosts[0]!, 'active-hc', true); // zone a: 1 of 2 healthy → 3 × 0.7 = 2.1
  assert.ok(Math.abs(zoneAShare(cluster(true), set) - 2.1 / 3.1) < 0.002);
});
