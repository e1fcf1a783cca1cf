/**
 * LEAST_REQUEST as Envoy does it. Equal weights: power of `choice_count` choices (default 2), samples drawn with
 * replacement as random % n, the fewest active requests wins, ties keep the earlier sample. Unequal weights: EDF with
 * effective weight = weight / (active + 1)^active_request_bias (bias default 1.0; 0 = plain weighted round robin),
 * recomputed each time a host is put back after a pick.
 */
import { EdfScheduler } from '../edf.js';
import type { Host } from '../types.js';
import { type PickerFactory, type SourcePicker, weightShares, weightsEqual } from './picker.js';
import { emptyPicker } from './round-robin.js';

interface LeastRequestOptions {
  readonly choiceCount: number;
  readonly activeRequestBias: number;
}

export function leastRequest(opts: LeastRequestOptions): PickerFactory {
  const choices = Math.max(2, Math.trunc(opts.choiceCount));
  const bias = Number.isFinite(opts.activeRequestBias) && opts.activeRequestBias >= 0 ? opts.activeRequestBias : 1;
  return (hosts, deps) => {
    const n = hosts.length;
    if (n === 0) return emptyPicker;
    if (n === 1 || weightsEqual(hosts)) {
      const random = deps.random;
      return {
        pick(): Host | undefined {
          let best = hosts[random.nextU32() % n]!;
          for (let c = 1; c < choices; c++) {
            const h = hosts[random.nextU32() % n]!;
            if (h.activeRequests < best.activeRequests) best = h;
          }
          return best;
        },
        shares: () => weightShares(hosts),
      };
    }
    const weightOf =
      bias === 0
        ? (i: number) => hosts[i]!.weight
        : bias === 1
          ? (i: number) => hosts[i]!.weight / (hosts[i]!.activeRequests + 1)
          : (i: number) => hosts[i]!.weight / Math.pow(hosts[i]!.activeRequests + 1, bias);
    const edf = new EdfScheduler(
      hosts.map((_, i) => weightOf(i)),
      weightOf,
    );
    const picker: SourcePicker = {
      pick: () => hosts[edf.pick()],
      shares: () => weightShares(hosts),
    };
    return picker;
  };
}
