/** What every load-balancing policy provides for one list of hosts (one priority's healthy, degraded or panic set). */
import type { Host, Random } from '../types.js';

export interface SourcePicker {
  /**
   * Picks a host. `hashed` says whether (hi, lo) carry the request's 64-bit hash (high and low 32 bits); `attempt` > 0
   * when the previous choice was rejected (retry to another host).
   */
  pick(hashed: boolean, hi: number, lo: number, attempt: number): Host | undefined;
  /** The long-run share of each host of the list (same order), for the simulator's expected column. */
  shares(): Float64Array;
}

export interface PickerDeps {
  readonly random: Random;
  /** A per-balancer 53-bit seed (Envoy's `seed_`), used for round robin's starting point. */
  readonly seed: number;
}

export type PickerFactory = (hosts: readonly Host[], deps: PickerDeps) => SourcePicker;

/** True when every host has the same weight (Envoy then skips the EDF scheduler). */
export function weightsEqual(hosts: readonly Host[]): boolean {
  for (let i = 1; i < hosts.length; i++) if (hosts[i]!.weight !== hosts[0]!.weight) return false;
  return true;
}

export function weightShares(hosts: readonly Host[]): Float64Array {
  const out = new Float64Array(hosts.length);
  let total = 0;
  for (const h of hosts) total += h.weight;
  for (let i = 0; i < hosts.length; i++) out[i] = total > 0 ? hosts[i]!.weight / total : 0;
  return out;
}

export function equalShares(n: number): Float64Array {
  return new Float64Array(n).fill(n > 0 ? 1 / n : 0);
}
