/**
 * The per-host latency histogram behind run's /topology page: every value lands in the bucket whose range holds it,
 * buckets are at most 25% wide above 0.5 ms, quantiles come out within a bucket of the exact ones, readings of
 * several workers add up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addLatency, HostLatency, LATENCY_BUCKETS, latencyBucket, latencyBucketRange, latencyQuantile } from '../../src/upstream/host-latency.js';

test('every latency falls in its bucket, and buckets above 0.5 ms are at most 25% wide', () => {
  for (let ms = 0; ms < 120_000; ms = ms < 2 ? ms + 0.013 : ms * 1.013) {
    const i = latencyBucket(ms);
    const [lo, hi] = latencyBucketRange(i);
    assert.ok(i >= 0 && i < LATENCY_BUCKETS, `${ms} → bucket ${i}`);
    assert.ok(lo <= ms && ms < hi, `${ms} ms in [${lo}, ${hi}) (bucket ${i})`);
    if (lo >= 0.5) assert.ok(hi / lo <= 1.25 + 1e-12, `bucket ${i} [${lo}, ${hi}) is too wide`);
  }
  // Buckets tile the range: each one starts where the one before ends.
  for (let i = 1; i < LATENCY_BUCKETS; i++) assert.equal(latencyBucketRange(i)[0], latencyBucketRange(i - 1)[1]);
  assert.equal(latencyBucket(-1), 0);
  assert.equal(latencyBucket(Number.NaN), 0);
  assert.equal(latencyBucket(10 * 3600_000), LATENCY_BUCKETS - 1);
});

test('quantiles of a recorded sample are within a bucket of the exact ones; workers add up', () => {
  const a = new HostLatency();
  const b = new HostLatency();
  const values: number[] = [];
  // A two-mode sample: 90% near 5 ms, 10% near 40 ms (deterministic spread).
  for (let i = 0; i < 1000; i++) {
    const v = i % 10 === 9 ? 40 + (i % 7) : 5 + (i % 13) / 13;
    values.push(v);
    (i % 2 === 0 ? a : b).record(v);
  }
  const merged = a.snapshot();
  addLatency(merged, b.snapshot());
  assert.equal(merged.count, 1000);
  assert.ok(Math.abs(merged.sum - values.reduce((x, y) => x + y, 0)) < 1e-6);
  const sorted = [...values].sort((x, y) => x - y);
  for (const q of [0.5, 0.9, 0.99]) {
    const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
    const est = latencyQuantile(merged.buckets, q);
    assert.ok(Math.abs(est - exact) / exact <= 0.25, `p${q * 100}: ${est} vs exact ${exact}`);
  }
  assert.ok(Number.isNaN(latencyQuantile(new HostLatency().snapshot().buckets, 0.5)));
});
