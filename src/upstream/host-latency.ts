/**
 * Each upstream host's attempt latency, for `run`'s live /topology page: a running sum and a fixed histogram of
 * log-spaced buckets, filled with one addition, one bucket index and one increment per attempt (no allocation), so
 * the page can show a mean and p50/p99 per endpoint over its last poll interval by subtracting two readings.
 *
 * Not an Envoy stat: Envoy times upstream requests per cluster only (`cluster.<name>.upstream_rq_time`), and its
 * /clusters per-host output (admin.v3.HostStatus) carries counters and gauges, no latency. So these numbers appear
 * in the live page's JSON only, never in /stats, /clusters or Prometheus under a name that would look like Envoy's.
 *
 * Buckets: in units of 1/16 ms, values below 8 (0.5 ms) each have a bucket; above, every power of two is cut into 4,
 * so a bucket is at most 25% wider than its lower bound. The last bucket holds everything from about 131 s up.
 */

/** Number of buckets. */
export const LATENCY_BUCKETS = 80;

/** The largest value the buckets resolve, in 1/16 ms (2^21 − 1, the top of bucket 79). */
const TOP = (1 << 21) - 1;

/** The bucket of a latency in milliseconds. */
export function latencyBucket(ms: number): number {
  if (!(ms > 0)) return 0;
  const x = ms * 16 >= TOP ? TOP : (ms * 16) | 0;
  if (x < 8) return x;
  const e = 31 - Math.clz32(x);
  return 8 + (e - 3) * 4 + ((x >>> (e - 2)) & 3);
}

/** The bucket's range in milliseconds, [lower, upper). */
export function latencyBucketRange(i: number): [number, number] {
  if (i < 8) return [i / 16, (i + 1) / 16];
  const e = 3 + ((i - 8) >> 2);
  const sub = (i - 8) & 3;
  return [((4 + sub) << (e - 2)) / 16, ((5 + sub) << (e - 2)) / 16];
}

/** A host's latency as a plain object (copied at read time; what crosses the workers' IPC and the page's JSON). */
export interface LatencySnapshot {
  /** Attempts counted (the histogram's total). */
  count: number;
  /** Sum of their latencies, milliseconds. */
  sum: number;
  /** Attempts per bucket; LATENCY_BUCKETS long. */
  buckets: number[];
}

export class HostLatency {
  sum = 0;
  readonly buckets = new Uint32Array(LATENCY_BUCKETS);

  record(ms: number): void {
    this.sum += ms;
    this.buckets[latencyBucket(ms)]!++;
  }

  snapshot(): LatencySnapshot {
    let count = 0;
    for (const n of this.buckets) count += n;
    return { count, sum: this.sum, buckets: Array.from(this.buckets) };
  }
}

/** Adds `b` into `a` (readings of several `--workers` processes). */
export function addLatency(a: LatencySnapshot, b: LatencySnapshot): void {
  a.count += b.count;
  a.sum += b.sum;
  for (let i = 0; i < LATENCY_BUCKETS; i++) a.buckets[i] = (a.buckets[i] ?? 0) + (b.buckets[i] ?? 0);
}

/**
 * The q-quantile (0..1) of a histogram, interpolated linearly inside the bucket that holds it; NaN when empty. The
 * live page runs this very function in the browser (graph/live.ts embeds its source) on differences of two readings,
 * so it must stay self-contained: it may call `latencyBucketRange` (the page defines one) and nothing else.
 */
export function latencyQuantile(buckets: readonly number[], q: number): number {
  let total = 0;
  for (const n of buckets) total += n;
  if (total === 0) return NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (n > 0 && seen + n >= rank) {
      const [lo, hi] = latencyBucketRange(i);
      return lo + ((hi - lo) * Math.max(0, rank - seen)) / n;
    }
    seen += n;
  }
  return latencyBucketRange(buckets.length - 1)[0];
}
