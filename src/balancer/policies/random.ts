/**
 * RANDOM as Envoy does it: one random value r, host = hosts[r % n]; endpoint weights are ignored. `weighted: true`
 * is meshctl's variant (issue 4 asked for weighted random): a weighted draw over the cumulative weights.
 */
import type { Host } from '../types.js';
import { type PickerFactory, type SourcePicker, equalShares, weightShares } from './picker.js';
import { emptyPicker } from './round-robin.js';

export function randomPolicy(weighted: boolean): PickerFactory {
  return (hosts, deps) => {
    if (hosts.length === 0) return emptyPicker;
    const random = deps.random;
    if (!weighted) {
      const n = hosts.length;
      return {
        pick: () => hosts[random.nextU32() % n],
        shares: () => equalShares(n),
      };
    }
    return new WeightedRandomPicker(hosts, () => random.next());
  };
}

class WeightedRandomPicker implements SourcePicker {
  private readonly cumulative: Float64Array;
  private readonly total: number;
  constructor(
    private readonly hosts: readonly Host[],
    private readonly next: () => number,
  ) {
    this.cumulative = new Float64Array(hosts.length);
    let acc = 0;
    for (let i = 0; i < hosts.length; i++) this.cumulative[i] = acc += hosts[i]!.weight;
    this.total = acc;
  }
  pick(): Host | undefined {
    const target = this.next() * this.total;
    const c = this.cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return this.hosts[lo];
  }
  shares(): Float64Array {
    return weightShares(this.hosts);
  }
}
