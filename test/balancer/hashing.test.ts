import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostSet, createBalancer, createRandom, xxHash64, type HostInit } from '../../src/balancer/index.js';
import { RingHashPicker } from '../../src/balancer/policies/ring-hash.js';
import { MaglevPicker } from '../../src/balancer/policies/maglev.js';
import type { Cluster_LbPolicy } from '../../src/config/model.js';

test('xxHash64 matches the reference vectors', () => {
  assert.equal(xxHash64(''), 0xef46db3751d8e999n);
  assert.equal(xxHash64('a'), 0xd24ec4f1a98c6e5bn);
  assert.equal(xxHash64('abc'), 0x44bc2cf5ad770999n);
  assert.equal(xxHash64('Nobody inspects the spammish repetition'), 0xfbcea83c8a378bf1n);
});

function hosts(n: number): HostInit[] {
  return Array.from({ length: n }, (_, i) => ({ ip: `10.1.${i >> 8}.${i & 255}`, port: 8080, weight: 1, priority: 0 }));
}

function keyOwners(policy: Cluster_LbPolicy, set: HostSet, keys: number): string[] {
  const b = createBalancer({ lb_policy: policy }, set, createRandom(1));
  return Array.from({ length: keys }, (_, i) => b.pick({ hash: xxHash64(`user-${i}`) })!.address);
}

for (const policy of ['RING_HASH', 'MAGLEV'] as const) {
  test(`${policy}: the same key goes to the same host; adding a host remaps about 1/n of keys`, () => {
    const n = 10;
    const set = new HostSet(hosts(n));
    const before = keyOwners(policy, set, 20_000);
    assert.deepEqual(keyOwners(policy, set, 20_000), before, 'deterministic');
    set.replace(hosts(n + 1));
    const after = keyOwners(policy, set, 20_000);
    let moved = 0;
    let movedToNew = 0;
    const added = set.hosts[n]!.address;
    for (let i = 0; i < before.length; i++) {
      if (before[i] !== after[i]) {
        moved++;
        if (after[i] === added) movedToNew++;
      }
    }
    const frac = moved / before.length;
    const toNew = movedToNew / before.length;
    assert.ok(Math.abs(toNew - 1 / (n + 1)) < 0.03, `${policy}: ${toNew} of keys went to the new host, ideal 1/${n + 1}`);
    // Envoy rescales the ring (each old host keeps ~1024/(n+1) entries instead of ~1024/n), so some keys also move
    // between old hosts; the total stays below 2/(n+1) — far from a modulo hash's n/(n+1).
    assert.ok(frac < 2 / (n + 1), `${policy} moved ${frac} of keys`);
  });
}

test('ring size: min 1024 by default, scaled by the smallest normalized weight, capped by the maximum', () => {
  const mk = (weights: number[], min = 1024, max = 8388608) =>
    new RingHashPicker(
      weights.map((w, i) => ({ address: `10.0.0.${i}:80`, ip: `10.0.0.${i}`, port: 80, weight: w, priority: 0, health: 'healthy', activeRequests: 0 })),
      { minimumRingSize: min, maximumRingSize: max },
    );
  assert.equal(mk([1, 1]).size, 1024);
  assert.equal(mk([1, 3]).size, 1024, 'min weight 1/4: ceil(256)/0.25 = 1024');
  assert.equal(mk([1, 2]).size, 1026, 'min weight 1/3: ceil(341.33)·3 = 1026');
  assert.equal(mk([1, 1], 4096, 2048).size, 2048);
  const r = mk([1, 3]);
  const shares = r.shares();
  assert.ok(Math.abs(shares[0]! + shares[1]! - 1) < 1e-9);
});

test('maglev: table of 65537 entries, every host present, balanced within a few percent', () => {
  const hs = hosts(100).map((h) => ({ ...h, address: `${h.ip}:${h.port}`, health: 'healthy' as const, activeRequests: 0 }));
  const m = new MaglevPicker(hs, 65537);
  assert.equal(m.table.length, 65537);
  const counts = new Array<number>(100).fill(0);
  for (const i of m.table) counts[i]!++;
  const ideal = 65537 / 100;
  for (const c of counts) assert.ok(Math.abs(c - ideal) / ideal < 0.03, `count ${c} vs ideal ${ideal}`);
});

test('maglev honours weights in the table', () => {
  const hs = [1, 3].map((w, i) => ({ ip: `10.0.0.${i}`, port: 80, address: `10.0.0.${i}:80`, weight: w, priority: 0, health: 'healthy' as const, activeRequests: 0 }));
  const m = new MaglevPicker(hs, 65537);
  const s = m.shares();
  assert.ok(Math.abs(s[0]! - 0.25) < 0.005, String(s[0]));
});

test('MurmurHash2 (Envoy STD_HASH_SEED variant) matches Envoy’s vectors; MURMUR_HASH_2 rings balance too', async () => {
  const { murmurHash2 } = await import('../../src/balancer/murmur2.js');
  assert.equal(murmurHash2(''), 6142509188972423790n);
  assert.equal(murmurHash2('foo'), 9631199822919835226n);
  assert.equal(murmurHash2('bar'), 11474628671133349555n);
  assert.equal(murmurHash2('foo\nbar'), 16306510975912980159n);
  assert.equal(murmurHash2('lyft'), 12847078931730529320n);
  const set = new HostSet(hosts(4));
  const xx = createBalancer({ lb_policy: 'RING_HASH' }, set, createRandom(1));
  const mm = createBalancer({ lb_policy: 'RING_HASH', ring_hash_lb_config: { hash_function: 'MURMUR_HASH_2' } }, set, createRandom(1));
  const a = [...xx.expectedShares().values()];
  const b = [...mm.expectedShares().values()];
  assert.notDeepEqual(a, b, 'a different ring');
  for (const s of b) assert.ok(Math.abs(s - 0.25) < 0.06, String(s));
});
