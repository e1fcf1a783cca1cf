/**
 * Envoy's `envoy.retry_priorities.previous_priorities` (extensions.retry.priority.previous_priorities.v3): a request's
 * retries move away from the priorities its earlier attempts went to, the load re-spread over the rest by their
 * availability as regular host selection spreads it. One instance per request, fed every attempt's host.
 *
 * - The first `update_frequency` attempts use the cluster's own load. Whenever the number of attempts is a multiple of
 *   `update_frequency`, the priorities of every attempt so far are excluded and the load recomputed; in between, the
 *   last recomputed load stands.
 * - With every priority excluded (nothing available), the exclusions and the attempts are forgotten and the load is
 *   computed afresh (the proto's example: P0, P2, P0, P2 for availabilities 100/0/50); with no host available at all,
 *   the cluster's own load (and its panic handling) applies.
 */
import type { PriorityPlan } from './priority.js';
import type { Host } from './types.js';

export interface PriorityLoad {
  readonly healthy: readonly number[];
  readonly degraded: readonly number[];
}

export class PreviousPriorities {
  /** The priorities of the attempts since the last reset, in order. */
  private readonly attempted: number[] = [];
  private readonly excluded: boolean[] = [];
  private load: PriorityLoad | undefined;

  constructor(private readonly updateFrequency: number) {}

  onHostAttempted(host: Host): void {
    this.attempted.push(host.priority);
  }

  /** The load the next pick uses, or undefined for the cluster's own. */
  priorityLoad(plan: PriorityPlan): PriorityLoad | undefined {
    const n = this.attempted.length;
    if (n < this.updateFrequency) return undefined;
    if (n % this.updateFrequency === 0) {
      for (const p of this.attempted) this.excluded[p] = true;
      if (!this.adjust(plan)) return undefined;
    }
    return this.load;
  }

  private adjust(plan: PriorityPlan): boolean {
    const { healthy, degraded } = plan.availability;
    let total = this.available(healthy, degraded);
    if (total === 0) {
      this.excluded.fill(false);
      this.attempted.length = 0;
      total = this.available(healthy, degraded);
    }
    if (total === 0) return false;
    const h = healthy.map((v, p) => (this.excluded[p] === true ? 0 : v));
    const d = degraded.map((v, p) => (this.excluded[p] === true ? 0 : v));
    const healthyLoad = new Array<number>(h.length).fill(0);
    const degradedLoad = new Array<number>(d.length).fill(0);
    // Envoy hands the load out in priority order, healthy before degraded, and goes round again with what integer
    // division left over, which lands on the first available priority.
    let left = 100;
    while (left !== 0) {
      for (let p = 0; p < h.length; p++) {
        const delta = Math.min(left, Math.floor((h[p]! * 100) / total));
        healthyLoad[p]! += delta;
        left -= delta;
      }
      for (let p = 0; p < d.length; p++) {
        const delta = Math.min(left, Math.floor((d[p]! * 100) / total));
        degradedLoad[p]! += delta;
        left -= delta;
      }
    }
    this.load = { healthy: healthyLoad, degraded: degradedLoad };
    return true;
  }

  /** The availability left with the excluded priorities at zero, at most 100. */
  private available(healthy: readonly number[], degraded: readonly number[]): number {
    let total = 0;
    for (let p = 0; p < healthy.length; p++) if (this.excluded[p] !== true) total += healthy[p]! + (degraded[p] ?? 0);
    return Math.min(total, 100);
  }
}
