import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostSet, createBalancer, createRandom, type HostInit } from '../../src/balancer/index.js';
import type { Cluster } from '../../src/config/model.js';

const two = (wa: number, wb: number): HostInit[] => [
  { ip: '10.0.0.1', port: 80, weight: wa, priority: 0 },
  { ip: '10.0.0.2', port: 80, weight: wb, priority: 0 },
];

function shareOfA(cluster: Cluster, set: HostSet, n: number): number {
  const b = createBalancer(cluster, set, createRandom(4), { seed: 0 });
  let a = 0;
  for (let i = 0; i < n; i++) if (b.pick()!.address === '10.0.0.1:80') a++;
  return a / n;
}

test('P2C with equal weights: the host with fewer active requests wins whenever both are sampled', () => {
  const set = new HostSet(two(1, 1));
  set.hosts[0]!.activeRequests = 5;
  // Only when both samples land on A (probability 1/4) is A chosen.
  const s = shareOfA({ lb_policy: 'LEAST_REQUEST' }, set, 40_000);
  assert.ok(Math.abs(s - 0.25) < 0.01, String(s));
  const three = createBalancer({ lb_policy: 'LEAST_REQUEST', least_request_lb_config: { choice_count: 3 } }, set, createRandom(4));
  let a = 0;
  for (let i = 0; i < 40_000; i++) if (three.pick()!.address === '10.0.0.1:80') a++;
  assert.ok(Math.abs(a / 40_000 - 0.125) < 0.01, `choice_count 3: ${a / 40_000}`);
});

test('unequal weights: EDF on weight / (active + 1)^active_request_bias', () => {
  const set = new HostSet(two(2, 1));
  assert.ok(Math.abs(shareOfA({ lb_policy: 'LEAST_REQUEST' }, set, 30_000) - 2 / 3) < 0.001, 'no load: plain weights');
  set.hosts[0]!.activeRequests = 3; // effective weight 2/4 = 0.5 against 1/1
  assert.ok(Math.abs(shareOfA({ lb_policy: 'LEAST_REQUEST' }, set, 30_000) - 1 / 3) < 0.001, 'bias 1: 0.5 : 1');
  const biasTwo: Cluster = { lb_policy: 'LEAST_REQUEST', least_request_lb_config: { active_request_bias: 2 } };
  assert.ok(Math.abs(shareOfA(biasTwo, set, 30_000) - 1 / 9) < 0.001, 'bias 2: 2/16 : 1');
  const biasZero: Cluster = { lb_policy: 'LEAST_REQUEST', least_request_lb_config: { active_request_bias: 0 } };
  assert.ok(Math.abs(shareOfA(biasZero, set, 30_000) - 2 / 3) < 0.001, 'bias 0: weighted round robin');
});
