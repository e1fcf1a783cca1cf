/**
 * Seedable pseudo-random generator (xoshiro128**, seeded through splitmix32). Fast, 32-bit integer math only, and
 * deterministic: the same seed gives the same sequence on every platform, which is what `simulate --seed` promises.
 */
import type { Random } from './types.js';

/** A seeded xoshiro128** generator. */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string = 0) {
    let s = typeof seed === 'string' ? hashString(seed) : seed >>> 0;
    // Also fold the high part of large integer seeds in, so 2^32 and 0 differ.
    if (typeof seed === 'number' && Math.abs(seed) >= 2 ** 32) s = (s ^ Math.floor(seed / 2 ** 32)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniformly distributed integer in [0, n) for n ≤ 2^32 (multiply-shift; bias below 2^-32·n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function hashString(text: string): number {
  // FNV-1a: stable seeds from strings like `--seed demo`.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded generator; a string seed is hashed, a number is used as is. */
export function createRandom(seed: number | string = 0): SeededRandom {
  return new SeededRandom(seed);
}

/** A generator seeded from the platform's entropy (the proxy's default). */
export function randomFromEntropy(): SeededRandom {
  return new SeededRandom(Math.floor(Math.random() * 2 ** 32) ^ Date.now());
}

/** A random 53-bit non-negative integer (Envoy draws 64-bit seeds; 53 bits is what a JS number holds exactly). */
export function nextU53(random: Random): number {
  return (random.nextU32() & 0x1fffff) * 4294967296 + random.nextU32();
}

/**
 * The random streams of one `simulate` or `run`, each derived from the seed and its purpose: the router's
 * weighted-cluster draws, each cluster's balancer, and so on. A consumer draws only from its own stream, so one
 * cluster's picks depend on the seed, the cluster's name and its own requests alone, never on how traffic interleaves
 * with other clusters or with timers: `run --seed N` then picks what `simulate --seed N` predicts. Without a seed every
 * stream starts from the platform's entropy.
 */
export class RandomStreams {
  /** Weighted-cluster picks (the router). */
  readonly route: Random;
  /** Retry back-off jitter. */
  readonly retry: Random;

  constructor(readonly seed: number | string | undefined) {
    this.route = this.stream('route');
    this.retry = this.stream('retry');
  }

  /** A new stream for `purpose`: with a seed, the same seed and purpose always give the same sequence. */
  stream(purpose: string): Random {
    return this.seed === undefined ? randomFromEntropy() : createRandom(`${this.seed}/${purpose}`);
  }

  /** A new stream for one cluster's balancer. */
  balancer(cluster: string): Random {
    return this.stream(`cluster/${cluster}`);
  }

  /** A new stream for one cluster's timer-driven draws (health-check jitter, outlier enforcement), apart from its
   * balancer's: when a timer fires must not change which host a request goes to. */
  upstream(cluster: string): Random {
    return this.stream(`upstream/${cluster}`);
  }
}
