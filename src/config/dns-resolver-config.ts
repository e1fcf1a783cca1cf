/**
 * Which nameservers a DNS cluster asks, and how: read from the config as Envoy reads it
 * (source/common/network/dns_resolver/dns_factory_util.cc, createDnsResolverFactoryFromProto and its helpers):
 * 1. the cluster's `typed_dns_resolver_config` (the c-ares resolver: `resolvers`, `dns_resolver_options`);
 * 2. else its deprecated `dns_resolution_config` (the same fields);
 * 3. else its deprecated `dns_resolvers` / `use_tcp_for_dns_lookups`, when either is set;
 * 4. else the bootstrap's resolver, in the same order (`typed_dns_resolver_config`, `dns_resolution_config`,
 *    `use_tcp_for_dns_lookups`).
 * meshctl's article dialect adds `dns_query.nameservers`, on the cluster (after the cluster's Envoy settings) and on
 * the bootstrap (after the bootstrap's). No nameserver anywhere: the system's (/etc/resolv.conf).
 * `run` (discovery/dns.ts) resolves through this choice; `validate` says where the queries will go (rule
 * dns-resolver).
 *
 * c-ares semantics kept: `use_resolvers_as_fallback` uses `resolvers` only when the system has no nameserver;
 * `use_tcp_for_dns_lookups` sends every query over TCP. Queries are sent for the name as written, which is what
 * `no_default_search_domain: true` asks; without it, c-ares would also try the system's search domains for a name
 * with fewer dots than `ndots` (meshctl does not: node's resolver queries names as given).
 */
import { getServers } from 'node:dns';
import type { Address, Bootstrap, Cluster } from './model.js';
import type { JsonObject, JsonValue } from './json-value.js';
import { writtenField } from './node-meta.js';

/** Where the config names a cluster's resolver (for validate's dns-resolver note); 'system' when it names none. */
export type DnsResolverSource =
  | 'typed_dns_resolver_config'
  | 'dns_resolution_config'
  | 'dns_resolvers'
  | 'cluster dns_query'
  | 'bootstrap typed_dns_resolver_config'
  | 'bootstrap dns_resolution_config'
  | 'bootstrap use_tcp_for_dns_lookups'
  | 'bootstrap dns_query'
  | 'system';

export interface DnsResolverSettings {
  /** Nameservers as `ip`, `ip:port` or `[ip6]:port`; undefined for the system's. */
  readonly servers: readonly string[] | undefined;
  /** Every query over TCP (use_tcp_for_dns_lookups). */
  readonly tcp: boolean;
  readonly from: DnsResolverSource;
}

/** Whether a cluster finds its hosts through DNS (Envoy's STRICT_DNS and LOGICAL_DNS discovery types). */
export function resolvesThroughDns(cluster: Cluster): boolean {
  return cluster.type === 'STRICT_DNS' || cluster.type === 'LOGICAL_DNS';
}

function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

function formatServer(ip: string, port: number): string {
  if (port === 53) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Envoy Address values (socket_address) as nameserver strings. */
function serversOf(list: JsonValue | readonly Address[] | undefined): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const a of list as readonly (Address | JsonValue)[]) {
    const sa = obj((a as JsonObject | undefined)?.socket_address as JsonValue | undefined);
    const ip = sa?.address;
    if (typeof ip !== 'string' || ip === '') continue;
    out.push(formatServer(ip, Number(sa?.port_value ?? 53) || 53));
  }
  return out;
}

/** A CaresDnsResolverConfig / DnsResolutionConfig body. `useFallback`: honour use_resolvers_as_fallback. */
function fromCares(c: JsonObject, from: DnsResolverSource): DnsResolverSettings {
  const options = obj(c.dns_resolver_options);
  const tcp = options?.use_tcp_for_dns_lookups === true;
  const servers = serversOf(c.resolvers);
  // use_resolvers_as_fallback: the system's nameservers when it has any, the configured ones otherwise.
  if (c.use_resolvers_as_fallback === true && getServers().length > 0) return { servers: undefined, tcp, from: 'system' };
  return servers.length > 0 ? { servers, tcp, from } : { servers: undefined, tcp, from: 'system' };
}

const CARES_TYPE = 'envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig';

/** typed_dns_resolver_config: the c-ares resolver's settings; another resolver (getaddrinfo, Apple) asks the system. */
function fromTyped(t: JsonObject, from: DnsResolverSource): DnsResolverSettings {
  const tc = obj(t.typed_config);
  const url = typeof tc?.['@type'] === 'string' ? tc['@type'] : '';
  if (url.endsWith(CARES_TYPE) || (url === '' && t.name === 'envoy.network.dns_resolver.cares')) return fromCares(tc ?? {}, from);
  return { servers: undefined, tcp: false, from: 'system' };
}

/** One level (cluster or bootstrap) of Envoy's resolver settings, or undefined when it sets none. */
function envoyLevel(node: object | undefined, deprecatedServers: readonly Address[] | undefined, bootstrap: boolean): DnsResolverSettings | undefined {
  const typed = obj(writtenField(node, 'typed_dns_resolver_config'));
  if (typed !== undefined) return fromTyped(typed, bootstrap ? 'bootstrap typed_dns_resolver_config' : 'typed_dns_resolver_config');
  const resolution = obj(writtenField(node, 'dns_resolution_config'));
  if (resolution !== undefined) return fromCares(resolution, bootstrap ? 'bootstrap dns_resolution_config' : 'dns_resolution_config');
  const servers = serversOf(deprecatedServers);
  const tcp = writtenField(node, 'use_tcp_for_dns_lookups') === true;
  if (servers.length > 0) return { servers, tcp, from: 'dns_resolvers' };
  if (tcp) return { servers: undefined, tcp, from: bootstrap ? 'bootstrap use_tcp_for_dns_lookups' : 'dns_resolvers' };
  return undefined;
}

function nameservers(list: readonly string[] | undefined): string[] | undefined {
  const s = list?.filter((x) => x !== '');
  return s !== undefined && s.length > 0 ? s : undefined;
}

/** The resolver a cluster's queries use. `override` (tests' --dns-server) replaces every nameserver. */
export function dnsResolverFor(cluster: Cluster, bootstrap: Bootstrap | undefined, override?: readonly string[]): DnsResolverSettings {
  const chosen =
    envoyLevel(cluster, cluster.dns_resolvers, false) ??
    ((): DnsResolverSettings | undefined => {
      const own = nameservers(cluster.dns_query?.nameservers);
      return own === undefined ? undefined : { servers: own, tcp: false, from: 'cluster dns_query' };
    })() ??
    envoyLevel(bootstrap, undefined, true) ??
    ((): DnsResolverSettings => {
      const global = nameservers(bootstrap?.dns_query?.nameservers);
      return global === undefined ? { servers: undefined, tcp: false, from: 'system' } : { servers: global, tcp: false, from: 'bootstrap dns_query' };
    })();
  if (override !== undefined && override.length > 0) return { servers: [...override], tcp: chosen.tcp, from: chosen.from };
  return chosen;
}
