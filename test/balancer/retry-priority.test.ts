import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostSet, PreviousPriorities, createBalancer, createRandom, planPriorities, type HostInit } from '../../src/balancer/index.js';

function hostsAt(priority: number, n: number): HostInit[] {
  return Array.from({ length: n }, (_, i) => ({ ip: `10.${priority}.0.${i + 1}`, port: 80, weight: 1, priority }));
}

/** Three priorities of two hosts each; `unhealthy` lists host indexes (0-5) taken out by active health checks. */
function threePriorities(unhealthy: number[]): HostSet {
  const set = new HostSet([...hostsAt(0, 2), ...hostsAt(1, 2), ...hostsAt(2, 2)]);
  for (const i of unhealthy) set.setHealthFlag(set.hosts[i]!, 'active-hc', true);
  return set;
}

/** The priorities a request's attempts go to: each attempt's host is fed back, as the proxy feeds it. */
function attemptPriorities(set: HostSet, updateFrequency: number, attempts: number, seed = 1): number[] {
  const b = createBalancer({ common_lb_config: { healthy_panic_threshold: { value: 0 } } }, set, createRandom(seed));
  const rp = new PreviousPriorities(updateFrequency);
  const out: number[] = [];
  for (let i = 0; i < attempts; i++) {
    const priorityLoad = rp.priorityLoad(b.currentPlan());
    const host = b.pick(priorityLoad === undefined ? undefined : { priorityLoad })!;
    rp.onHostAttempted(host);
    out.push(host.priority);
  }
  return out;
}

test("previous_priorities: the proto's example, availabilities 100/0/50 with update_frequency 1: P0, P2, P0, P2", () => {
  // P1 has no healthy host; P2 one of two (availability min(100, 1.4·50) = 70).
  const set = threePriorities([2, 3, 5]);
  assert.deepEqual(attemptPriorities(set, 1, 6), [0, 2, 0, 2, 0, 2]);
});

test('previous_priorities: each retry leaves the priorities tried; once all are tried it starts over', () => {
  const set = threePriorities([]);
  assert.deepEqual(attemptPriorities(set, 1, 7), [0, 1, 2, 0, 1, 2, 0]);
  // update_frequency 2: two attempts per exclusion round, the load recomputed at attempts 2, 4, 6.
  assert.deepEqual(attemptPriorities(set, 2, 6), [0, 0, 1, 1, 2, 2]);
});

test('previous_priorities: the load left is spread by availability as the cluster spreads it (Envoy\'s proto: {100,50,50} → {0,50,50})', () => {
  // P0 healthy; P1 and P2 at availability 70 each (1 of 2 healthy), so excluding P0 leaves 70+70 → min 100 →
  // P1 70, P2 30.
  const set = threePriorities([3, 5]);
  const rp = new PreviousPriorities(1);
  const plan = planPriorities(set.hosts);
  assert.equal(rp.priorityLoad(plan), undefined, 'the first attempt uses the cluster\'s own load');
  rp.onHostAttempted(set.hosts[0]!);
  assert.deepEqual(rp.priorityLoad(plan), { healthy: [0, 70, 30], degraded: [0, 0, 0] });
  // Over many retries after a P0 attempt, the picks follow that load.
  const b = createBalancer({}, set, createRandom(7));
  const counts = [0, 0, 0];
  for (let i = 0; i < 10_000; i++) counts[b.pick({ priorityLoad: rp.priorityLoad(plan)! })!.priority]!++;
  assert.equal(counts[0], 0);
  assert.ok(Math.abs(counts[1]! / 10_000 - 0.7) < 0.02, `P1 share ${counts[1]! / 10_000}`);
});

test('previous_priorities: a retry keeps balancing within a priority with the regular picks\' state (round robin goes on)', () => {
  const set = new HostSet([...hostsAt(0, 1), ...hostsAt(1, 3)]);
  const b = createBalancer({ lb_policy: 'ROUND_ROBIN' }, set, createRandom(3));
  const rp = new PreviousPriorities(1);
  rp.onHostAttempted(set.hosts[0]!);
  const load = rp.priorityLoad(b.currentPlan())!;
  const picks = Array.from({ length: 6 }, () => b.pick({ priorityLoad: load })!.address);
  // P1 only under the retry load, its three hosts in turn.
  assert.deepEqual(new Set(picks.slice(0, 3)).size, 3);
  assert.deepEqual(picks.slice(3), picks.slice(0, 3));
});

test('previous_priorities: with no host available anywhere, the cluster\'s own load (and panic) applies', () => {
  const set = threePriorities([0, 1, 2, 3, 4, 5]);
  const rp = new PreviousPriorities(1);
  rp.onHostAttempted(set.hosts[0]!);
  assert.equal(rp.priorityLoad(planPriorities(set.hosts)), undefined);
});
