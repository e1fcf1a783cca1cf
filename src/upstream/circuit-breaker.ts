/**
 * Envoy's per-cluster circuit breakers (DEFAULT priority): max_connections, max_pending_requests, max_requests and
 * max_retries (or a retry budget), all 1024/1024/1024/3 by default. The data path asks `tryAcquire` before it uses a
 * resource and answers 503 UO at once when it is refused; every refusal is counted as an overflow.
 */
import type { Cluster, CircuitBreakers_Thresholds } from '../config/model.js';
import type { BreakerResource } from './types.js';

const DEFAULT_MAX_CONNECTIONS = 1024;
const DEFAULT_MAX_PENDING_REQUESTS = 1024;
const DEFAULT_MAX_REQUESTS = 1024;
const DEFAULT_MAX_RETRIES = 3;

interface RetryBudget {
  /** Percent of (active + pending) requests that may be retries at once; Envoy's default 20. */
  readonly budgetPercent: number;
  /** Retries always allowed whatever the load; Envoy's default 3. */
  readonly minRetryConcurrency: number;
}

interface BreakerLimits {
  readonly connections: number;
  readonly pending: number;
  readonly requests: number;
  /** max_retries; ignored when `retryBudget` is set (Envoy: the budget overrides it). */
  readonly retries: number;
  readonly retryBudget?: RetryBudget;
  readonly trackRemaining: boolean;
}

const RESOURCES: readonly BreakerResource[] = ['connections', 'pending', 'requests', 'retries'];

/** The DEFAULT-priority thresholds of a cluster with Envoy's defaults filled in (the first DEFAULT entry wins). */
export function breakerLimits(cluster: Cluster): BreakerLimits {
  const th: CircuitBreakers_Thresholds | undefined = cluster.circuit_breakers?.thresholds?.find(
    (t) => (t.priority ?? 'DEFAULT') === 'DEFAULT',
  );
  const budget = th?.retry_budget;
  const limits: { -readonly [K in keyof BreakerLimits]: BreakerLimits[K] } = {
    connections: th?.max_connections ?? DEFAULT_MAX_CONNECTIONS,
    pending: th?.max_pending_requests ?? DEFAULT_MAX_PENDING_REQUESTS,
    requests: th?.max_requests ?? DEFAULT_MAX_REQUESTS,
    retries: th?.max_retries ?? DEFAULT_MAX_RETRIES,
    trackRemaining: th?.track_remaining ?? false,
  };
  if (budget !== undefined) {
    limits.retryBudget = {
      budgetPercent: budget.budget_percent?.value ?? 20,
      minRetryConcurrency: budget.min_retry_concurrency ?? 3,
    };
  }
  return limits;
}

/** Counts in-use resources against the limits; overflows are counted per resource. */
export class CircuitBreaker {
  private readonly used: Record<BreakerResource, number> = { connections: 0, pending: 0, requests: 0, retries: 0 };
  private readonly overflows: Record<BreakerResource, number> = { connections: 0, pending: 0, requests: 0, retries: 0 };

  constructor(private lim: BreakerLimits) {}

  get limits(): BreakerLimits {
    return this.lim;
  }

  /** New limits (hot reload); resources in use stay counted. */
  setLimits(limits: BreakerLimits): void {
    this.lim = limits;
  }

  /** The limit in force for a resource now (a retry budget moves with the load). */
  limit(resource: BreakerResource): number {
    switch (resource) {
      case 'connections':
        return this.lim.connections;
      case 'pending':
        return this.lim.pending;
      case 'requests':
        return this.lim.requests;
      case 'retries': {
        const b = this.lim.retryBudget;
        if (b === undefined) return this.lim.retries;
        const load = this.used.requests + this.used.pending;
        return Math.max(b.minRetryConcurrency, Math.floor((b.budgetPercent / 100) * load));
      }
    }
  }

  tryAcquire(resource: BreakerResource): boolean {
    if (this.used[resource] >= this.limit(resource)) {
      this.overflows[resource]++;
      return false;
    }
    this.used[resource]++;
    return true;
  }

  release(resource: BreakerResource): void {
    if (this.used[resource] > 0) this.used[resource]--;
  }

  /** Resources in use. */
  inUse(resource: BreakerResource): number {
    return this.used[resource];
  }

  /** Refusals so far (upstream_cx_overflow, upstream_rq_pending_overflow, upstream_rq_retry_overflow). */
  overflowCount(resource: BreakerResource): number {
    return this.overflows[resource];
  }

  /** Whether the breaker is open (at its limit): Envoy's `circuit_breakers.default.{cx,rq_pending,rq,rq_retry}_open`. */
  isOpen(resource: BreakerResource): boolean {
    return this.used[resource] >= this.limit(resource);
  }

  /** `remaining_*` gauges (Envoy publishes them only with track_remaining). */
  remaining(resource: BreakerResource): number {
    return Math.max(0, this.limit(resource) - this.used[resource]);
  }

  snapshot(): Record<BreakerResource, { used: number; limit: number; overflow: number }> {
    const out = {} as Record<BreakerResource, { used: number; limit: number; overflow: number }>;
    for (const r of RESOURCES) out[r] = { used: this.used[r], limit: this.limit(r), overflow: this.overflows[r] };
    return out;
  }
}
