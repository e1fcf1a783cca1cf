/**
 * A host's health as Envoy's `/clusters` prints it: `healthy`, or the failed flags joined with `/`
 * (`/failed_active_hc/failed_outlier_check/failed_eds_health`, `/degraded_eds_health`), so the admin output tells why a
 * host is out of the balancer.
 */
import type { Host } from '../balancer/types.js';
import { HostImpl } from '../balancer/host-set.js';

export function envoyHealthFlags(host: Host): string {
  const flags: string[] = [];
  if (host instanceof HostImpl) {
    if (host.hasFlag('active-hc')) flags.push('failed_active_hc');
    if (host.hasFlag('outlier')) flags.push('failed_outlier_check');
    if (host.hasFlag('discovery') || host.declaredHealth === 'unhealthy') flags.push('failed_eds_health');
    if (host.declaredHealth === 'degraded') flags.push('degraded_eds_health');
  } else if (host.health !== 'healthy') {
    flags.push(host.health === 'degraded' ? 'degraded_eds_health' : 'failed_eds_health');
  }
  return flags.length === 0 ? 'healthy' : '/' + flags.join('/');
}
