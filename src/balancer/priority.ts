/**
 * Envoy's priority load and panic computation (`LoadBalancerBase::recalculatePerPriorityState`,
 * `recalculatePerPriorityPanic`, `recalculateLoadInTotalPanic`, `choosePriority`).
 *
 * health(P) = min(100, OPF·healthy/total) with OPF 140 by default; load is handed out in priority order against the
 * normalized total availability; a priority is in panic when healthy% + degraded% < the panic threshold (strict), in
 * which case its whole host list is used. All priorities in panic → load split by host counts.
 */
import type { Host } from './types.js';

/** One place a pick can land: a priority's healthy hosts, its degraded hosts, or (in panic) all its hosts. */
export interface Slot {
  readonly priority: number;
  readonly kind: 'healthy' | 'degraded';
  /** The hosts to balance over (all hosts of the priority when in panic). */
  readonly hosts: readonly Host[];
  readonly panic: boolean;
  /** Percent of traffic (0..100). */
  readonly load: number;
}

export interface PriorityPlan {
  /** Slots with load > 0, healthy slots by priority first, then degraded (Envoy's choosePriority order). */
  readonly slots: readonly Slot[];
  /** cumulative[i] = Σ load of slots[0..i]. */
  readonly cumulative: readonly number[];
  readonly totalPanic: boolean;
  readonly panicByPriority: readonly boolean[];
  /** Per priority, before normalization: min(100, OPF·healthy/total) and the same for degraded hosts. */
  readonly availability: { readonly healthy: readonly number[]; readonly degraded: readonly number[] };
  /** Per priority: every host, the healthy ones and the degraded ones. */
  readonly hostsByPriority: readonly PriorityHosts[];
}

export interface PriorityHosts {
  readonly all: readonly Host[];
  readonly healthy: readonly Host[];
  readonly degraded: readonly Host[];
}

interface PlanOptions {
  /** Percent, truncated; 0 disables panic. Default 50. */
  readonly panicThreshold?: number;
  /** Overprovisioning factor in percent (ClusterLoadAssignment.policy.overprovisioning_factor). Default 140. */
  readonly overprovisioningFactor?: number;
  /**
   * Envoy's worker LBs (round robin, least request, random) never declare panic while the normalized total
   * availability is 100; its hash LBs (ring hash, maglev) look at each priority alone. Default false (worker LB rule).
   */
  readonly panicPerPriorityOnly?: boolean;
}

export function planPriorities(hosts: readonly Host[], opts: PlanOptions = {}): PriorityPlan {
  const threshold = Math.min(100, Math.max(0, Math.trunc(opts.panicThreshold ?? 50)));
  const opf = opts.overprovisioningFactor ?? 140;
  const all: Host[][] = [];
  const healthy: Host[][] = [];
  const degraded: Host[][] = [];
  for (const h of hosts) {
    const p = h.priority;
    while (all.length <= p) {
      all.push([]);
      healthy.push([]);
      degraded.push([]);
    }
    all[p]!.push(h);
    if (h.health === 'healthy') healthy[p]!.push(h);
    else if (h.health === 'degraded') degraded[p]!.push(h);
  }
  const n = all.length;
  const health = new Array<number>(n).fill(0);
  const degradedAvail = new Array<number>(n).fill(0);
  for (let p = 0; p < n; p++) {
    const total = all[p]!.length;
    if (total === 0) continue;
    health[p] = Math.min(100, Math.floor((opf * healthy[p]!.length) / total));
    degradedAvail[p] = Math.min(100, Math.floor((opf * degraded[p]!.length) / total));
  }
  const normalized = Math.min(100, health.reduce((a, b) => a + b, 0) + degradedAvail.reduce((a, b) => a + b, 0));
  const healthyLoad = new Array<number>(n).fill(0);
  const degradedLoad = new Array<number>(n).fill(0);
  if (normalized > 0) {
    const [firstHealthy, rest] = distribute(healthyLoad, health, 100, normalized);
    const [firstDegraded, remaining] = distribute(degradedLoad, degradedAvail, rest, normalized);
    if (remaining !== 0) {
      if (firstHealthy !== undefined) healthyLoad[firstHealthy]! += remaining;
      else if (firstDegraded !== undefined) degradedLoad[firstDegraded]! += remaining;
    }
  }
  const panic = new Array<boolean>(n).fill(false);
  let totalPanic = false;
  const noHostsUsable = normalized === 0 && threshold === 0;
  if (!noHostsUsable && n > 0) {
    totalPanic = true;
    for (let p = 0; p < n; p++) {
      const total = all[p]!.length;
      const available = total === 0 ? 0 : (100 * healthy[p]!.length) / total + (100 * degraded[p]!.length) / total;
      const inPanic = available < threshold;
      panic[p] = !opts.panicPerPriorityOnly && normalized === 100 ? false : inPanic;
      totalPanic = totalPanic && panic[p]!;
    }
    if (totalPanic) {
      // Load by host count, degraded load none; rounding remainder to the first non-empty priority.
      const totalHosts = hosts.length;
      if (totalHosts > 0) {
        let assigned = 0;
        let first: number | undefined;
        for (let p = 0; p < n; p++) {
          healthyLoad[p] = Math.floor((100 * all[p]!.length) / totalHosts);
          degradedLoad[p] = 0;
          assigned += healthyLoad[p]!;
          if (first === undefined && all[p]!.length > 0) first = p;
        }
        if (first !== undefined) healthyLoad[first]! += 100 - assigned;
      }
    }
  }
  const slots: Slot[] = [];
  for (let p = 0; p < n; p++) {
    if (healthyLoad[p]! > 0) {
      slots.push({ priority: p, kind: 'healthy', hosts: panic[p] ? all[p]! : healthy[p]!, panic: panic[p]!, load: healthyLoad[p]! });
    }
  }
  for (let p = 0; p < n; p++) {
    if (degradedLoad[p]! > 0) {
      slots.push({ priority: p, kind: 'degraded', hosts: panic[p] ? all[p]! : degraded[p]!, panic: panic[p]!, load: degradedLoad[p]! });
    }
  }
  const cumulative: number[] = [];
  let acc = 0;
  for (const s of slots) cumulative.push((acc += s.load));
  const hostsByPriority = all.map((a, p) => ({ all: a, healthy: healthy[p]!, degraded: degraded[p]! }));
  return { slots, cumulative, totalPanic, panicByPriority: panic, availability: { healthy: health, degraded: degradedAvail }, hostsByPriority };
}

/**
 * The same hosts and panic state under other loads (a retry priority's, Envoy's RetryPriority::determinePriorityLoad):
 * slots in choosePriority's order, healthy by priority then degraded; a priority in panic balances over all its hosts.
 */
export function planWithLoads(plan: PriorityPlan, healthyLoad: readonly number[], degradedLoad: readonly number[]): PriorityPlan {
  const slots: Slot[] = [];
  const byPriority = plan.hostsByPriority;
  for (let p = 0; p < byPriority.length; p++) {
    const load = healthyLoad[p] ?? 0;
    const panic = plan.panicByPriority[p] ?? false;
    if (load > 0) slots.push({ priority: p, kind: 'healthy', hosts: panic ? byPriority[p]!.all : byPriority[p]!.healthy, panic, load });
  }
  for (let p = 0; p < byPriority.length; p++) {
    const load = degradedLoad[p] ?? 0;
    const panic = plan.panicByPriority[p] ?? false;
    if (load > 0) slots.push({ priority: p, kind: 'degraded', hosts: panic ? byPriority[p]!.all : byPriority[p]!.degraded, panic, load });
  }
  const cumulative: number[] = [];
  let acc = 0;
  for (const s of slots) cumulative.push((acc += s.load));
  return { ...plan, slots, cumulative };
}

function distribute(load: number[], availability: number[], totalLoad: number, normalized: number): [number | undefined, number] {
  let first: number | undefined;
  for (let i = 0; i < availability.length; i++) {
    if (first === undefined && availability[i]! > 0) first = i;
    load[i] = Math.min(totalLoad, Math.floor((availability[i]! * 100) / normalized));
    totalLoad -= load[i]!;
  }
  return [first, totalLoad];
}

/** The slot index for `value` in 1..100 (Envoy: hash % 100 + 1 against the cumulative loads), or -1 when none. */
export function chooseSlot(plan: PriorityPlan, value: number): number {
  const c = plan.cumulative;
  for (let i = 0; i < c.length; i++) if (value <= c[i]!) return i;
  return c.length - 1;
}
