/**
 * The upstream side's numbers under Envoy's stat names, for the proxy's /stats and Prometheus output. Envoy's
 * configuration reference, "Cluster manager › Statistics", lists them: per cluster `membership_*`, `update_*`
 * (discovery), `health_check.*`, `outlier_detection.*` and `circuit_breakers.<priority>.*`, and `cluster_manager.*`.
 * Names here are relative to `cluster.<name>.` (the proxy writes the prefix); values are read at call time.
 *
 * Envoy writes a block's whole set once the block is configured. meshctl does the same, so dashboards built for Envoy
 * find every series; the counters of mechanisms meshctl does not have stay at 0: passive health-check failures (a
 * data-path response carrying x-envoy-immediate-health-check-fail), cluster-name verification (service_name_matcher,
 * not in the model), hosts degraded by a check (x-envoy-degraded), success-rate and failure-percentage ejections.
 * Only the DEFAULT priority's circuit breakers exist in meshctl, so only `circuit_breakers.default.*` is written.
 */
import type { ClusterManager, UpstreamCluster } from './types.js';
import { ClusterManagerImpl, ManagedCluster } from './cluster-manager.js';
import { DnsDiscovery } from '../discovery/dns.js';

/**
 * Numbers by how they add up across `--workers` processes. Every process runs its own cluster manager: counters count
 * what that process did and gauges in `gauges` measure its own share (remaining breaker capacity), so both are summed;
 * gauges in `state` read the cluster's state, of which every process holds a copy (membership, health, ejections,
 * breakers at capacity), so the merged value is the largest copy, not the sum.
 */
export interface UpstreamStatValues {
  readonly counters: Record<string, number>;
  readonly gauges: Record<string, number>;
  readonly state: Record<string, number>;
}

/** Envoy's `cluster.<c>.health_check.` counters (source/extensions/health_checkers/common/health_checker_base_impl.h). */
const HEALTH_CHECK_COUNTERS = ['attempt', 'failure', 'network_failure', 'passive_failure', 'success', 'verify_cluster'] as const;

/** Envoy's `cluster.<c>.outlier_detection.` counters (source/common/upstream/outlier_detection_impl.h). */
const OUTLIER_COUNTERS = [
  'ejections_consecutive_5xx',
  'ejections_detected_consecutive_5xx',
  'ejections_detected_consecutive_gateway_failure',
  'ejections_detected_success_rate',
  'ejections_detected_failure_percentage',
  'ejections_enforced_consecutive_5xx',
  'ejections_enforced_consecutive_gateway_failure',
  'ejections_enforced_success_rate',
  'ejections_enforced_failure_percentage',
  'ejections_detected_consecutive_local_origin_failure',
  'ejections_enforced_consecutive_local_origin_failure',
  'ejections_detected_local_origin_success_rate',
  'ejections_enforced_local_origin_success_rate',
  'ejections_detected_local_origin_failure_percentage',
  'ejections_enforced_local_origin_failure_percentage',
  'ejections_enforced_total',
  'ejections_overflow',
  'ejections_success_rate',
  'ejections_total',
] as const;

/** A stats object's count, 0 for a name it does not keep (a mechanism meshctl does not have). */
function count(stats: object, name: string): number {
  return (stats as Record<string, number>)[name] ?? 0;
}

/** One cluster's numbers, named relative to `cluster.<name>.`. */
export function upstreamClusterStats(uc: UpstreamCluster, cm: ClusterManager): UpstreamStatValues {
  const counters: Record<string, number> = {};
  const gauges: Record<string, number> = {};
  const state: Record<string, number> = {};
  const hosts = uc.hosts.hosts;
  state['membership_total'] = hosts.length;
  state['membership_healthy'] = hosts.filter((h) => h.health === 'healthy').length;
  state['membership_degraded'] = hosts.filter((h) => h.health === 'degraded').length;
  if (!(uc instanceof ManagedCluster)) return { counters, gauges, state };

  const b = uc.breaker;
  const cb = 'circuit_breakers.default.';
  state[cb + 'cx_open'] = b.isOpen('connections') ? 1 : 0;
  state[cb + 'rq_pending_open'] = b.isOpen('pending') ? 1 : 0;
  state[cb + 'rq_open'] = b.isOpen('requests') ? 1 : 0;
  state[cb + 'rq_retry_open'] = b.isOpen('retries') ? 1 : 0;
  // Envoy publishes the remaining_* gauges only with track_remaining.
  if (b.limits.trackRemaining) {
    gauges[cb + 'remaining_cx'] = b.remaining('connections');
    gauges[cb + 'remaining_pending'] = b.remaining('pending');
    gauges[cb + 'remaining_rq'] = b.remaining('requests');
    gauges[cb + 'remaining_retries'] = b.remaining('retries');
  }

  const od = uc.outlier;
  if (od !== undefined) {
    for (const k of OUTLIER_COUNTERS) counters[`outlier_detection.${k}`] = count(od.stats, k);
    state['outlier_detection.ejections_active'] = od.stats.ejections_active;
  }

  const hc = uc.healthChecker;
  if (hc !== undefined) {
    for (const k of HEALTH_CHECK_COUNTERS) counters[`health_check.${k}`] = count(hc.stats, k);
    state['health_check.healthy'] = hosts.filter((h) => !hc.isFailing(h)).length;
    state['health_check.degraded'] = 0;
  }

  if (uc.discovery instanceof DnsDiscovery) Object.assign(counters, uc.discovery.stats);
  const refresh = cm instanceof ClusterManagerImpl ? cm.refreshClient(uc.name) : undefined;
  if (refresh !== undefined) Object.assign(counters, refresh.stats);
  return { counters, gauges, state };
}

/** `cluster_manager.*`: the clusters in force (Envoy's active_clusters gauge). */
export function clusterManagerStats(cm: ClusterManager): UpstreamStatValues {
  let active = 0;
  for (const _ of cm.clusters()) active++;
  return { counters: {}, gauges: {}, state: { 'cluster_manager.active_clusters': active } };
}
