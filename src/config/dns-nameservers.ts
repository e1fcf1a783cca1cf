/**
 * Which nameservers a DNS cluster's queries go to, from the config alone: the cluster's `dns_resolvers`, else its
 * own `dns_query.nameservers`, else the bootstrap's `dns_query.nameservers`, else none (the system resolver, as
 * Envoy's c-ares resolver reads /etc/resolv.conf when no resolvers are configured). `run` (discovery/dns.ts) resolves
 * through these unless `--dns-server` overrides them; `validate` says where the queries will go (rule dns-resolver).
 */
import type { Bootstrap, Cluster } from './model.js';

interface ConfigNameservers {
  /** `ip` or `ip:port` / `[ip6]:port` (port 53 is left out), as node:dns takes them. */
  readonly servers: string[];
  /** Where the config names them. */
  readonly from: 'dns_resolvers' | 'cluster dns_query' | 'bootstrap dns_query';
}

export function configNameservers(cluster: Cluster, bootstrap: Bootstrap | undefined): ConfigNameservers | undefined {
  const fromResolvers = (cluster.dns_resolvers ?? [])
    .map((a) => a.socket_address)
    .filter((sa) => sa?.address)
    .map((sa) => formatServer(sa!.address!, sa!.port_value ?? 53));
  if (fromResolvers.length > 0) return { servers: fromResolvers, from: 'dns_resolvers' };
  const own = cluster.dns_query?.nameservers?.filter((s) => s !== '');
  if (own && own.length > 0) return { servers: own, from: 'cluster dns_query' };
  const global = bootstrap?.dns_query?.nameservers?.filter((s) => s !== '');
  if (global && global.length > 0) return { servers: global, from: 'bootstrap dns_query' };
  return undefined;
}

/** Whether a cluster finds its hosts through DNS (Envoy's STRICT_DNS and LOGICAL_DNS discovery types). */
export function resolvesThroughDns(cluster: Cluster): boolean {
  return cluster.type === 'STRICT_DNS' || cluster.type === 'LOGICAL_DNS';
}

function formatServer(ip: string, port: number): string {
  if (port === 53) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
