/**
 * The upstream side's numbers under Envoy's stat names, for the proxy's /stats and Prometheus output:
 * `cluster.<c>.outlier_detection.*`, `cluster.<c>.health_check.*`, `cluster.<c>.update_*` (DNS, refresh service),
 * `cluster.<c>.circuit_breakers.default.*_open` and `upstream_*_overflow` as counted by the breaker itself.
 * Names are relative to `cluster.<c>.`; values are read at call time.
 */
import type { ClusterManager, UpstreamCluster } from './types.js';
import { ClusterManagerImpl, ManagedCluster } from './cluster-manager.js';
import { DnsDiscovery } from '../discovery/dns.js';

export function upstreamClusterStats(uc: UpstreamCluster, cm?: ClusterManager): Record<string, number> {
  const out: Record<string, number> = {};
  if (!(uc instanceof ManagedCluster)) return out;
  const b = uc.breaker;
  out['circuit_breakers.default.cx_open'] = b.isOpen('connections') ? 1 : 0;
  out['circuit_breakers.default.rq_pending_open'] = b.isOpen('pending') ? 1 : 0;
  out['circuit_breakers.default.rq_open'] = b.isOpen('requests') ? 1 : 0;
  out['circuit_breakers.default.rq_retry_open'] = b.isOpen('retries') ? 1 : 0;
  if (b.limits.trackRemaining) {
    out['circuit_breakers.default.remaining_cx'] = b.remaining('connections');
    out['circuit_breakers.default.remaining_pending'] = b.remaining('pending');
    out['circuit_breakers.default.remaining_rq'] = b.remaining('requests');
    out['circuit_breakers.default.remaining_retries'] = b.remaining('retries');
  }
  if (uc.outlier) for (const [k, v] of Object.entries(uc.outlier.stats)) out[`outlier_detection.${k}`] = v;
  if (uc.healthChecker) {
    for (const [k, v] of Object.entries(uc.healthChecker.stats)) out[`health_check.${k}`] = v;
    out['health_check.healthy'] = uc.hosts.hosts.filter((h) => !uc.healthChecker!.isFailing(h)).length;
  }
  if (uc.discovery instanceof DnsDiscovery) for (const [k, v] of Object.entries(uc.discovery.stats)) out[k] = v;
  const refresh = cm instanceof ClusterManagerImpl ? cm.refreshClient(uc.name) : undefined;
  if (refresh) for (const [k, v] of Object.entries(refresh.stats)) out[k] = v;
  return out;
}

/** `cluster_manager.*` numbers: clusters by origin and the xDS session's CDS/EDS update counts. */
export function clusterManagerStats(cm: ClusterManager): Record<string, number> {
  const out: Record<string, number> = {};
  let active = 0;
  for (const _ of cm.clusters()) active++;
  out['cluster_manager.active_clusters'] = active;
  if (cm instanceof ClusterManagerImpl) {
    const xds = cm.xdsState();
    if (xds) for (const [k, v] of Object.entries(xds.stats)) out[`cluster_manager.xds.${k}`] = v;
  }
  return out;
}
