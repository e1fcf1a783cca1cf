/**
 * ROUND_ROBIN as Envoy does it: equal weights → plain rotation starting at the LB's random seed; unequal weights →
 * EDF (smooth weighted round robin), pre-advanced by `seed % hosts` picks (Envoy's older createWithPicks rule; the
 * newest uses seed % 429496729, which has the same effect of a random start).
 */
import { EdfScheduler } from '../edf.js';
import type { Host } from '../types.js';
import { type PickerFactory, type SourcePicker, weightShares, weightsEqual } from './picker.js';

export const roundRobin: PickerFactory = (hosts, deps) => {
  const n = hosts.length;
  if (n === 0) return emptyPicker;
  if (n === 1 || weightsEqual(hosts)) return new RotationPicker(hosts, deps.seed % n);
  return new EdfPicker(hosts, deps.seed % n);
};

export const emptyPicker: SourcePicker = {
  pick: () => undefined,
  shares: () => new Float64Array(0),
};

class RotationPicker implements SourcePicker {
  private index: number;
  constructor(
    private readonly hosts: readonly Host[],
    start: number,
  ) {
    this.index = start;
  }
  pick(): Host | undefined {
    const hosts = this.hosts;
    const i = this.index;
    this.index = i + 1 === hosts.length ? 0 : i + 1;
    return hosts[i];
  }
  shares(): Float64Array {
    return weightShares(this.hosts);
  }
}

class EdfPicker implements SourcePicker {
  private readonly edf: EdfScheduler;
  constructor(
    private readonly hosts: readonly Host[],
    prePicks: number,
  ) {
    this.edf = new EdfScheduler(hosts.map((h) => h.weight));
    for (let i = 0; i < prePicks; i++) this.edf.pick();
  }
  pick(): Host | undefined {
    return this.hosts[this.edf.pick()];
  }
  shares(): Float64Array {
    return weightShares(this.hosts);
  }
}
