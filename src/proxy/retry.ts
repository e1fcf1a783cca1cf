/**
 * Route retry policies (Envoy's docs: "Retry semantics" and config.route.v3.RetryPolicy), compiled once per route:
 * which outcomes retry, how many times, per-try timeout and the fully jittered exponential back-off (base 25 ms, max 10 × base).
 */
import { durationToMs, type RetryPolicy } from '../config/model.js';
import type { Random } from '../balancer/types.js';
import type { UpstreamErrorKind } from '../upstream/pool.js';

export interface CompiledRetry {
  readonly numRetries: number;
  readonly perTryTimeoutMs: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly on5xx: boolean;
  readonly onGatewayError: boolean;
  readonly onReset: boolean;
  readonly onConnectFailure: boolean;
  readonly onRetriable4xx: boolean;
  readonly statusCodes: ReadonlySet<number>;
  /** retry_host_predicate envoy.retry_host_predicates.previous_hosts: a retry's host pick is rejected when the host
   * was tried already, and the balancer asked again, up to `reselectAttempts` times (then the last pick stands). */
  readonly previousHosts: boolean;
  /** host_selection_retry_max_attempts (Envoy's default 1). */
  readonly reselectAttempts: number;
  /** retry_priority envoy.retry_priorities.previous_priorities: its update_frequency (balancer/retry-priority.ts). */
  readonly previousPriorities: number | undefined;
}

/** The previous_priorities retry priority's update_frequency, when the policy names it (by name or typed_config type). */
function previousPrioritiesFrequency(p: RetryPolicy): number | undefined {
  const rp = (p as { unmodeled?: { retry_priority?: { name?: unknown; typed_config?: { '@type'?: unknown; update_frequency?: unknown } } } }).unmodeled?.retry_priority;
  if (rp === undefined) return undefined;
  const tc = rp.typed_config;
  const named = rp.name === 'envoy.retry_priorities.previous_priorities' || (typeof tc?.['@type'] === 'string' && tc['@type'].endsWith('.PreviousPrioritiesConfig'));
  if (!named) return undefined;
  // validate refuses a missing or non-positive update_frequency, as Envoy's config validation does (gt: 0).
  const f = Number(tc?.update_frequency ?? 0);
  return Number.isInteger(f) && f > 0 ? f : undefined;
}

/** The previous_hosts predicate by its extension name or its typed_config type. */
function hasPreviousHostsPredicate(p: RetryPolicy): boolean {
  return (p.retry_host_predicate ?? []).some((pr) => {
    const tc = pr.typed_config as { '@type'?: unknown } | undefined;
    return pr.name === 'envoy.retry_host_predicates.previous_hosts' || (typeof tc?.['@type'] === 'string' && tc['@type'].endsWith('.PreviousHostsPredicate'));
  });
}

export function compileRetry(p: RetryPolicy | undefined): CompiledRetry | null {
  if (p === undefined) return null;
  const tokens = new Set(
    (p.retry_on ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  );
  if (tokens.size === 0) return null;
  const base = p.retry_back_off?.base_interval ? Math.max(1, durationToMs(p.retry_back_off.base_interval)) : 25;
  const max = p.retry_back_off?.max_interval ? Math.max(base, durationToMs(p.retry_back_off.max_interval)) : base * 10;
  return {
    numRetries: p.num_retries ?? 1,
    perTryTimeoutMs: p.per_try_timeout ? durationToMs(p.per_try_timeout) : 0,
    baseMs: base,
    maxMs: max,
    on5xx: tokens.has('5xx'),
    onGatewayError: tokens.has('gateway-error'),
    onReset: tokens.has('reset') || tokens.has('reset-before-request'),
    onConnectFailure: tokens.has('connect-failure'),
    onRetriable4xx: tokens.has('retriable-4xx'),
    statusCodes: new Set(tokens.has('retriable-status-codes') ? (p.retriable_status_codes ?? []) : []),
    previousHosts: hasPreviousHostsPredicate(p),
    reselectAttempts: p.host_selection_retry_max_attempts ?? 1,
    previousPriorities: previousPrioritiesFrequency(p),
  };
}

export function retriableStatus(r: CompiledRetry, status: number): boolean {
  if (r.on5xx && status >= 500) return true;
  if (r.onGatewayError && (status === 502 || status === 503 || status === 504)) return true;
  if (r.onRetriable4xx && status === 409) return true;
  return r.statusCodes.has(status);
}

/** Whether a failure without a response is retried. Per-try timeouts count as resets; the global timeout never retries. */
export function retriableFailure(r: CompiledRetry, kind: UpstreamErrorKind | 'per-try-timeout'): boolean {
  switch (kind) {
    case 'connect-failure':
    case 'connect-timeout':
      return r.onConnectFailure || r.on5xx || r.onGatewayError || r.onReset;
    case 'reset':
    case 'termination':
    case 'per-try-timeout':
      return r.on5xx || r.onGatewayError || r.onReset;
    case 'protocol':
      return r.on5xx || r.onGatewayError;
    case 'aborted':
      return false;
  }
}

/** Envoy's back-off for retry number `n` (1-based): uniform in [0, (2^n − 1)·base), capped at max. */
export function backoffMs(r: CompiledRetry, n: number, random: Random): number {
  const ceiling = Math.min(r.maxMs, (Math.pow(2, n) - 1) * r.baseMs);
  return Math.floor(random.next() * ceiling);
}
