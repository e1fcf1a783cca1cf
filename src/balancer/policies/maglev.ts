/**
 * MAGLEV as Envoy builds it (`maglev_lb.cc`): per host offset = xxHash64(key) % M and skip = xxHash64(key, seed 1) %
 * (M − 1) + 1; rounds hand out slots by each host's permutation, a host taking a slot on round i only while
 * i·w ≥ its target (so weights shape the table); lookup is table[hash % M]. M defaults to 65537 and must be prime.
 */
import { xxHash64 } from '../xxhash64.js';
import type { Host } from '../types.js';
import type { PickerFactory, SourcePicker } from './picker.js';
import { emptyPicker } from './round-robin.js';

export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

export function maglev(tableSize: number): PickerFactory {
  return (hosts) => (hosts.length === 0 ? emptyPicker : new MaglevPicker(hosts, tableSize));
}

export function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

export class MaglevPicker implements SourcePicker {
  readonly table: Int32Array;
  private readonly mod32: number;
  constructor(
    private readonly hosts: readonly Host[],
    readonly tableSize: number,
  ) {
    const m = tableSize;
    const bm = BigInt(m);
    let total = 0;
    for (const h of hosts) total += h.weight;
    const weight = hosts.map((h) => h.weight / total);
    const maxWeight = Math.max(...weight);
    const offset = hosts.map((h) => Number(xxHash64(h.address) % bm));
    const skip = hosts.map((h) => Number(xxHash64(h.address, 1n) % (bm - 1n)) + 1);
    const next = new Float64Array(hosts.length);
    const target = Float64Array.from(weight);
    const table = new Int32Array(m).fill(-1);
    let filled = 0;
    for (let iteration = 1; filled < m; iteration++) {
      for (let i = 0; i < hosts.length && filled < m; i++) {
        if (iteration * weight[i]! < target[i]!) continue;
        target[i]! += maxWeight;
        let c = (offset[i]! + skip[i]! * next[i]!) % m;
        while (table[c] !== -1) {
          next[i]!++;
          c = (offset[i]! + skip[i]! * next[i]!) % m;
        }
        table[c] = i;
        next[i]!++;
        filled++;
      }
    }
    this.table = table;
    this.mod32 = 4294967296 % m;
  }

  pick(_hashed: boolean, hi: number, lo: number, attempt: number): Host | undefined {
    if (attempt > 0) {
      // Envoy: hash ^= ~0 - attempt + 1, a large change so retries spread.
      const x = BigInt.asUintN(64, (BigInt(hi) << 32n) | BigInt(lo)) ^ BigInt.asUintN(64, -BigInt(attempt));
      hi = Number(x >> 32n);
      lo = Number(x & 0xffffffffn);
    }
    const m = this.tableSize;
    const idx = ((hi % m) * this.mod32 + (lo % m)) % m;
    return this.hosts[this.table[idx]!];
  }

  shares(): Float64Array {
    const out = new Float64Array(this.hosts.length);
    for (let i = 0; i < this.table.length; i++) out[this.table[i]!]! += 1 / this.table.length;
    return out;
  }
}
