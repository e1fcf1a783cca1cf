/**
 * Locality-weighted balancing (`common_lb_config.locality_weighted_lb_config`): within a priority, a locality is chosen
 * first — weighted round robin (EDF) on its effective weight = load_balancing_weight × min(1, OPF × available/total)
 * — then a host inside it by the cluster's policy. A locality without a weight gets no traffic (as in Envoy).
 */
import { EdfScheduler } from '../edf.js';
import type { Host } from '../types.js';
import type { PickerDeps, PickerFactory, SourcePicker } from './picker.js';
import { emptyPicker } from './round-robin.js';

export function localityWeighted(
  inner: PickerFactory,
  /** Every host of the slot's priority (availability is counted against them). */
  priorityHosts: readonly Host[],
  /** True when the slot balances over all hosts (panic): availability is then 100%. */
  panic: boolean,
  overprovisioningFactor: number,
): PickerFactory {
  return (hosts: readonly Host[], deps: PickerDeps): SourcePicker => {
    const groups = new Map<string, Host[]>();
    for (const h of hosts) {
      const key = h.locality ?? '';
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(h);
    }
    const totals = new Map<string, number>();
    for (const h of priorityHosts) totals.set(h.locality ?? '', (totals.get(h.locality ?? '') ?? 0) + 1);
    const members: Host[][] = [];
    const weights: number[] = [];
    for (const [key, g] of groups) {
      const w = g[0]!.localityWeight ?? 0;
      const availability = panic ? 1 : Math.min(1, (overprovisioningFactor / 100) * (g.length / (totals.get(key) ?? g.length)));
      const effective = w * availability;
      if (effective > 0) {
        members.push(g);
        weights.push(effective);
      }
    }
    if (members.length === 0) return emptyPicker;
    const pickers = members.map((g) => inner(g, deps));
    if (members.length === 1) return pickers[0]!;
    const edf = new EdfScheduler(weights);
    const total = weights.reduce((a, b) => a + b, 0);
    return {
      pick: (hashed, hi, lo, attempt) => pickers[edf.pick()]!.pick(hashed, hi, lo, attempt),
      shares: () => {
        const out = new Float64Array(hosts.length);
        const index = new Map(hosts.map((h, i) => [h, i]));
        members.forEach((g, k) => {
          const inner = pickers[k]!.shares();
          g.forEach((h, i) => (out[index.get(h)!] = (weights[k]! / total) * inner[i]!));
        });
        return out;
      },
    };
  };
}
