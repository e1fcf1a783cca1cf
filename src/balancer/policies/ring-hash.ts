/**
 * RING_HASH as Envoy builds it (`ring_hash_lb.cc`): weights normalized to sum 1; scale = min(ceil(min_w·min_ring)/min_w,
 * max_ring); ring size = ceil(scale); host i gets entries while the running count is below the running target, each
 * entry keyed `"<address>_<n>"` and hashed with xxHash64; the ring is sorted and searched ketama-style for the first
 * entry ≥ the request hash, wrapping to the start.
 */
import { xxHash64 } from '../xxhash64.js';
import { murmurHash2 } from '../murmur2.js';
import type { Host } from '../types.js';
import type { PickerFactory, SourcePicker } from './picker.js';
import { emptyPicker } from './round-robin.js';

interface RingHashOptions {
  readonly minimumRingSize: number;
  readonly maximumRingSize: number;
  /** XX_HASH (default) or MURMUR_HASH_2 for the ring entries. */
  readonly hashFunction?: 'XX_HASH' | 'MURMUR_HASH_2';
}

export const MAX_RING_SIZE = 8388608;

export function ringHash(opts: RingHashOptions): PickerFactory {
  return (hosts) => (hosts.length === 0 ? emptyPicker : new RingHashPicker(hosts, opts));
}

export class RingHashPicker implements SourcePicker {
  /** Ring entry hashes as (hi, lo) halves, sorted ascending. */
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly owner: Int32Array;
  constructor(
    private readonly hosts: readonly Host[],
    opts: RingHashOptions,
  ) {
    const minRing = Math.min(opts.minimumRingSize, MAX_RING_SIZE);
    const maxRing = Math.min(opts.maximumRingSize, MAX_RING_SIZE);
    let total = 0;
    for (const h of hosts) total += h.weight;
    let minW = 1;
    for (const h of hosts) minW = Math.min(minW, h.weight / total);
    // The ring gets ceil(scale) entries in all: the running sums below hand them out.
    const scale = Math.min(Math.ceil(minW * minRing) / minW, maxRing);
    const hashKey = opts.hashFunction === 'MURMUR_HASH_2' ? (k: string) => murmurHash2(k) : (k: string) => xxHash64(k);
    const hashes: bigint[] = [];
    const owners: number[] = [];
    let current = 0;
    let target = 0;
    for (let i = 0; i < hosts.length; i++) {
      const host = hosts[i]!;
      target += scale * (host.weight / total);
      let n = 0;
      while (current < target) {
        hashes.push(hashKey(`${host.address}_${n}`));
        owners.push(i);
        n++;
        current++;
      }
    }
    const order = hashes.map((_, i) => i).sort((a, b) => (hashes[a]! < hashes[b]! ? -1 : hashes[a]! > hashes[b]! ? 1 : 0));
    this.hi = new Uint32Array(order.length);
    this.lo = new Uint32Array(order.length);
    this.owner = new Int32Array(order.length);
    order.forEach((src, k) => {
      const h = hashes[src]!;
      this.hi[k] = Number(h >> 32n);
      this.lo[k] = Number(h & 0xffffffffn);
      this.owner[k] = owners[src]!;
    });
  }

  get size(): number {
    return this.owner.length;
  }

  pick(_hashed: boolean, hi: number, lo: number, attempt: number): Host | undefined {
    const n = this.owner.length;
    if (n === 0) return undefined;
    // Ketama search, as Envoy ports it: the first entry whose hash is ≥ h, wrapping to 0.
    let low = 0;
    let high = n;
    let mid = 0;
    for (;;) {
      mid = Math.floor((low + high) / 2);
      if (mid === n) {
        mid = 0;
        break;
      }
      const midHi = this.hi[mid]!;
      const midLo = this.lo[mid]!;
      const hLeMid = hi < midHi || (hi === midHi && lo <= midLo);
      const hGtPrev = mid === 0 ? hi !== 0 || lo !== 0 : hi > this.hi[mid - 1]! || (hi === this.hi[mid - 1]! && lo > this.lo[mid - 1]!);
      if (hLeMid && hGtPrev) break;
      if (!hLeMid) low = mid + 1;
      else high = mid - 1;
      if (low > high) {
        mid = 0;
        break;
      }
    }
    if (attempt > 0) mid = (mid + attempt) % n;
    return this.hosts[this.owner[mid]!];
  }

  shares(): Float64Array {
    // The fraction of the 64-bit hash space each host owns: entry k owns (hash[k-1], hash[k]]; entry 0 also the wrap.
    const out = new Float64Array(this.hosts.length);
    const n = this.owner.length;
    if (n === 0) return out;
    const value = (k: number): number => this.hi[k]! * 4294967296 + this.lo[k]!;
    const space = 2 ** 64;
    for (let k = 1; k < n; k++) out[this.owner[k]!]! += (value(k) - value(k - 1)) / space;
    out[this.owner[0]!]! += (space - value(n - 1) + value(0)) / space;
    return out;
  }
}
