import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostSet, createBalancer, createRandom, planPriorities, type HostInit } from '../../src/balancer/index.js';
import type { Cluster } from '../../src/config/model.js';

function hostsAt(priority: number, n: number): HostInit[] {
  return Array.from({ length: n }, (_, i) => ({ ip: `10.${priority}.0.${i + 1}`, port: 80, weight: 1, priority }));
}

function count(b: { pick(): { address: string } | undefined }, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const a = b.pick()?.address ?? 'none';
    m.set(a, (m.get(a) ?? 0) + 1);
  }
  return m;
}

test('unhealthy hosts leave the set while at least the panic threshold is healthy', () => {
  const set = new HostSet(hostsAt(0, 4));
  const b = createBalancer({}, set, createRandom(1));
  set.setHealthFlag(set.hosts[0]!, 'active-hc', true);
  set.setHealthFlag(set.hosts[1]!, 'active-hc', true);
  // 2 of 4 healthy = exactly 50%: not panic (strict <).
  const c = count(b, 1000);
  assert.equal(c.get('10.0.0.1:80'), undefined);
  assert.equal(c.get('10.0.0.2:80'), undefined);
  assert.equal(c.get('10.0.0.3:80'), 500);
  assert.equal(b.lastPickInPanic, false);
});

test('panic: below 50% healthy, all hosts of the priority are used; threshold 0 disables panic', () => {
  const set = new HostSet(hostsAt(0, 4));
  for (let i = 0; i < 3; i++) set.setHealthFlag(set.hosts[i]!, 'outlier', true);
  const b = createBalancer({}, set, createRandom(1));
  const c = count(b, 4000);
  for (const h of set.hosts) assert.equal(c.get(h.address), 1000, `${h.address} gets a quarter in panic`);
  assert.equal(b.lastPickInPanic, true);
  const noPanic = createBalancer({ common_lb_config: { healthy_panic_threshold: { value: 0 } } }, set, createRandom(1));
  assert.deepEqual([...count(noPanic, 100)], [['10.0.0.4:80', 100]]);
  for (const h of set.hosts) set.setHealthFlag(h, 'outlier', true);
  assert.equal(noPanic.pick(), undefined, 'threshold 0 and no healthy host: no host (503)');
  assert.ok(b.pick() !== undefined, 'default threshold: total panic still routes');
});

test('custom panic threshold is read from common_lb_config', () => {
  const set = new HostSet(hostsAt(0, 10));
  for (let i = 0; i < 3; i++) set.setHealthFlag(set.hosts[i]!, 'outlier', true);
  const strict: Cluster = { common_lb_config: { healthy_panic_threshold: { value: 80 } } };
  const b = createBalancer(strict, set, createRandom(1));
  b.pick();
  assert.equal(b.lastPickInPanic, true, '70% healthy < 80%');
});

test('priority loads follow the overprovisioning factor 1.4', () => {
  const load = (healthyP0: number, ofN = 100) => {
    const hosts = new HostSet([...hostsAt(0, ofN), ...hostsAt(1, 10)]);
    for (let i = healthyP0; i < ofN; i++) hosts.setHealthFlag(hosts.hosts[i]!, 'active-hc', true);
    const plan = planPriorities(hosts.hosts);
    return plan.slots.map((s) => [s.priority, s.load]);
  };
  assert.deepEqual(load(100), [[0, 100]]);
  assert.deepEqual(load(72), [[0, 100]], '72% healthy × 1.4 ≥ 100');
  assert.deepEqual(load(71), [[0, 99], [1, 1]]);
  assert.deepEqual(load(50), [[0, 70], [1, 30]]);
  assert.deepEqual(load(0), [[1, 100]]);
});

test('priority failover: traffic moves to P1 as P0 fails, and comes back', () => {
  const set = new HostSet([...hostsAt(0, 2), ...hostsAt(1, 2)]);
  const b = createBalancer({}, set, createRandom(5));
  const p1Share = () => {
    const c = count(b, 20_000);
    return ((c.get('10.1.0.1:80') ?? 0) + (c.get('10.1.0.2:80') ?? 0)) / 20_000;
  };
  assert.equal(p1Share(), 0);
  set.setHealthFlag(set.hosts[0]!, 'active-hc', true);
  // P0: 1 of 2 healthy → health 70 → P0 70%, P1 30%.
  assert.ok(Math.abs(p1Share() - 0.3) < 0.015);
  set.setHealthFlag(set.hosts[1]!, 'active-hc', true);
  assert.equal(p1Share(), 1);
  set.setHealthFlag(set.hosts[0]!, 'active-hc', false);
  set.setHealthFlag(set.hosts[1]!, 'active-hc', false);
  assert.equal(p1Share(), 0);
});

test('degraded hosts take load only after healthy capacity', () => {
  const set = new HostSet([
    { ip: '10.0.0.1', port: 80, weight: 1, priority: 0 },
    { ip: '10.0.0.2', port: 80, weight: 1, priority: 0, health: 'degraded' },
  ]);
  const plan = planPriorities(set.hosts);
  assert.deepEqual(plan.slots.map((s) => [s.kind, s.load]), [['healthy', 70], ['degraded', 30]]);
});

test('retries avoid excluded hosts when another exists', () => {
  const set = new HostSet(hostsAt(0, 3));
  for (const policy of ['ROUND_ROBIN', 'RANDOM', 'LEAST_REQUEST', 'RING_HASH', 'MAGLEV'] as const) {
    const b = createBalancer({ lb_policy: policy }, set, createRandom(2));
    for (let i = 0; i < 50; i++) {
      const first = b.pick({ hash: BigInt(i) * 0x9e3779b97f4a7c15n })!;
      const second = b.pick({ hash: BigInt(i) * 0x9e3779b97f4a7c15n, exclude: new Set([first]) })!;
      assert.notEqual(second, first, policy);
    }
  }
});

test('rebuilds lazily when the host set version changes (membership)', () => {
  const set = new HostSet(hostsAt(0, 2));
  const b = createBalancer({}, set, createRandom(1));
  b.pick();
  set.replace(hostsAt(0, 3));
  const seen = new Set(Array.from({ length: 3 }, () => b.pick()!.address));
  assert.equal(seen.size, 3);
});
