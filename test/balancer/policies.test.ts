import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostSet, createBalancer, createRandom, type HostInit } from '../../src/balancer/index.js';
import type { Cluster, Cluster_LbPolicy } from '../../src/config/model.js';

function hosts(weights: number[], priority = 0): HostInit[] {
  return weights.map((w, i) => ({ ip: `10.0.${priority}.${i + 1}`, port: 80, weight: w, priority }));
}

function names(set: HostSet): Map<string, string> {
  return new Map(set.hosts.map((h, i) => [h.address, String.fromCharCode(65 + i)]));
}

function sequence(policy: Cluster_LbPolicy, weights: number[], n: number, seed = 0): string {
  const set = new HostSet(hosts(weights));
  const b = createBalancer({ lb_policy: policy }, set, createRandom(1), { seed });
  const nm = names(set);
  return Array.from({ length: n }, () => nm.get(b.pick()!.address)).join('');
}

test('ROUND_ROBIN equal weights rotates from the seed', () => {
  assert.equal(sequence('ROUND_ROBIN', [1, 1, 1], 7, 0), 'ABCABCA');
  assert.equal(sequence('ROUND_ROBIN', [1, 1, 1], 7, 2), 'CABCABC');
});

test('ROUND_ROBIN weights 100/200 interleave as EDF (smooth), not in bursts', () => {
  // Fresh EDF: B (deadline 1/200) first, then A and B tie at 1/100 and A was inserted first.
  assert.equal(sequence('ROUND_ROBIN', [100, 200], 9, 0), 'BABBABBAB');
  // One warm-up pick (seed % hosts = 1) gives the A B B A B B.
  assert.equal(sequence('ROUND_ROBIN', [100, 200], 9, 1), 'ABBABBABB');
});

test('ROUND_ROBIN weights 1/2/4 follow the EDF deadline order (ties first-inserted)', () => {
  // deadlines A 1, B .5, C .25 (exact in binary floating point): C B C C, then A B C at the tie at 1, …
  assert.equal(sequence('ROUND_ROBIN', [1, 2, 4], 14, 0), 'CBCCABCCBCCABC');
});

function shares(policy: Cluster_LbPolicy, weights: number[], n: number, seed: number, opts = {}): number[] {
  const set = new HostSet(hosts(weights));
  const b = createBalancer({ lb_policy: policy } as Cluster, set, createRandom(seed), opts);
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const a = b.pick()!.address;
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  return set.hosts.map((h) => (counts.get(h.address) ?? 0) / n);
}

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tol, `${what}: host ${i} share ${a} vs ${expected[i]} (±${tol})`));
}

test('shares per policy within tolerance (fixed seeds)', () => {
  const w = [100, 200, 300, 400];
  const weighted = w.map((x) => x / 1000);
  assertClose(shares('ROUND_ROBIN', w, 100_000, 3), weighted, 0.001, 'ROUND_ROBIN');
  assertClose(shares('LEAST_REQUEST', w, 100_000, 3), weighted, 0.001, 'LEAST_REQUEST (EDF, no active requests)');
  assertClose(shares('RANDOM', w, 200_000, 3), [0.25, 0.25, 0.25, 0.25], 0.005, 'RANDOM ignores weights as Envoy does');
  assertClose(shares('RANDOM', w, 200_000, 3, { weightedRandom: true }), weighted, 0.005, 'RANDOM weighted variant');
  assertClose(shares('LEAST_REQUEST', [1, 1, 1, 1], 200_000, 3), [0.25, 0.25, 0.25, 0.25], 0.005, 'LEAST_REQUEST P2C');
  assertClose(shares('MAGLEV', w, 200_000, 3), weighted, 0.01, 'MAGLEV');
  // A ring of ~1000 entries has visible per-host variance; Envoy's own tests accept a few points.
  assertClose(shares('RING_HASH', w, 200_000, 3), weighted, 0.04, 'RING_HASH');
});

test('expectedShares matches the policy', () => {
  const set = new HostSet(hosts([100, 200]));
  const rr = createBalancer({ lb_policy: 'ROUND_ROBIN' }, set, createRandom(1));
  assert.deepEqual([...rr.expectedShares().values()], [1 / 3, 2 / 3]);
  const rnd = createBalancer({ lb_policy: 'RANDOM' }, set, createRandom(1));
  assert.deepEqual([...rnd.expectedShares().values()], [0.5, 0.5]);
  const mg = createBalancer({ lb_policy: 'MAGLEV' }, set, createRandom(1));
  const s = [...mg.expectedShares().values()];
  assert.ok(Math.abs(s[0]! + s[1]! - 1) < 1e-9);
});
