/**
 * STRICT_DNS and LOGICAL_DNS clusters, resolved with node's c-ares `Resolver` pointed at the nameservers the config
 * names (dns-resolver-config.ts: the cluster's typed_dns_resolver_config, dns_resolution_config, dns_resolvers, its
 * `dns_query.nameservers`, then the bootstrap's; `ClusterManagerOptions.dnsServers` overrides the nameservers, which
 * is how tests aim at their own server on 127.0.0.1), or over TCP (dns-tcp.ts) with use_tcp_for_dns_lookups.
 *
 * Envoy semantics kept here:
 * - STRICT_DNS: every address of every name becomes a host (duplicates merged); an answer with no records (NOERROR
 *   empty, NXDOMAIN) empties that name's share of the cluster; LOGICAL_DNS: only the first address of its one name.
 * - Re-resolution every `dns_refresh_rate` (default 5000 ms); with `respect_dns_ttl` the record TTL sets the next
 *   refresh instead (TTL 0 → dns_refresh_rate).
 * - A failure (timeout, refused, SERVFAIL) keeps the last good hosts, counts `update_failure`, and retries after
 *   dns_refresh_rate when dns_failure_refresh_rate is unset; with it, after a jittered exponential back-off from its
 *   base_interval up to its max_interval (default 10 × base), reset by the next success (Envoy's strict_dns_cluster).
 * - `dns_lookup_family`: AUTO (AAAA, falling back to A when there are none: Envoy's default), V4_ONLY, V6_ONLY,
 *   V4_PREFERRED, ALL.
 */
import { getServers } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Bootstrap, Cluster, Cluster_DnsLookupFamily, Endpoint_HealthCheckConfig } from '../config/model.js';
import { durationToMs } from '../config/model.js';
import { parseDuration } from '../config/duration.js';
import type { HostInit } from '../balancer/types.js';
import { healthCheckOf, healthFromStatus } from '../balancer/host-set.js';
import type { TimerHandle } from '../time/timers.js';
import { backoffMs, type DiscoveryDeps, type DiscoveryHandle, type EndpointSink } from './types.js';
import { dnsResolverFor } from '../config/dns-resolver-config.js';
import type { JsonValue } from '../config/json-value.js';
import { queryOverTcp } from './dns-tcp.js';
import { writtenField } from '../config/node-meta.js';

const DEFAULT_DNS_REFRESH_MS = 5000;

interface DnsStats {
  update_attempt: number;
  update_success: number;
  update_failure: number;
  update_empty: number;
}

/** One name to resolve and what its addresses become. */
interface DnsTarget {
  readonly name: string;
  readonly port: number;
  readonly weight: number;
  readonly priority: number;
  readonly health?: HostInit['health'];
  /** The endpoint's health_check_config (where and how its addresses are actively checked). */
  readonly healthCheck?: Endpoint_HealthCheckConfig;
}

interface DnsClusterOptions {
  readonly servers: readonly string[] | undefined;
  /** Every query over TCP (use_tcp_for_dns_lookups). */
  readonly tcp: boolean;
  /** dns_failure_refresh_rate: the back-off after failures (ms), or undefined to retry after refreshMs. */
  readonly failureBackoff: { readonly baseMs: number; readonly maxMs: number } | undefined;
  readonly refreshMs: number;
  readonly respectTtl: boolean;
  readonly family: Cluster_DnsLookupFamily;
  readonly logical: boolean;
  readonly targets: readonly DnsTarget[];
  /** c-ares per-try timeout (ms) and tries. */
  readonly queryTimeoutMs?: number;
  readonly tries?: number;
}

/** The nameservers a cluster's resolver uses (dns-resolver-config.ts), undefined for the system's. */
export function dnsServersFor(cluster: Cluster, bootstrap: Bootstrap | undefined, override?: readonly string[]): string[] | undefined {
  const servers = dnsResolverFor(cluster, bootstrap, override).servers;
  return servers === undefined ? undefined : [...servers];
}

/** Cluster.RefreshRate (dns_failure_refresh_rate): base_interval, max_interval (default 10 × base). */
function failureBackoffOf(cluster: Cluster): DnsClusterOptions['failureBackoff'] {
  const rate = writtenField(cluster, 'dns_failure_refresh_rate');
  if (rate === null || typeof rate !== 'object' || Array.isArray(rate)) return undefined;
  // Kept verbatim: a duration string ("1s", as YAML and JSON write it) or {seconds, nanos} (protobuf text).
  const ms = (v: JsonValue | undefined): number | undefined => {
    if (typeof v === 'string') {
      const d = parseDuration(v);
      return d === undefined ? undefined : durationToMs(d);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    return durationToMs({ seconds: Number(v.seconds ?? 0), nanos: Number(v.nanos ?? 0) });
  };
  const baseMs = ms(rate.base_interval);
  if (baseMs === undefined || baseMs <= 0) return undefined;
  return { baseMs, maxMs: ms(rate.max_interval) ?? baseMs * 10 };
}

/** The names a DNS cluster resolves: its endpoints' addresses, or its article-style `dns_query.name`. */
function dnsTargets(cluster: Cluster): DnsTarget[] {
  const out: DnsTarget[] = [];
  let firstPort: number | undefined;
  for (const loc of cluster.load_assignment?.endpoints ?? []) {
    for (const lbe of loc.lb_endpoints ?? []) {
      const sa = lbe.endpoint?.address?.socket_address;
      if (!sa?.address) continue;
      firstPort ??= sa.port_value;
      const w = lbe.load_balancing_weight;
      const t: { -readonly [K in keyof DnsTarget]: DnsTarget[K] } = {
        name: sa.address,
        port: sa.port_value ?? 80,
        weight: w !== undefined && w >= 1 ? w : 1,
        priority: loc.priority ?? 0,
      };
      if (lbe.health_status !== undefined) t.health = healthFromStatus(lbe.health_status);
      if (lbe.endpoint?.health_check_config !== undefined) t.healthCheck = lbe.endpoint.health_check_config;
      out.push(t);
    }
  }
  const qname = cluster.dns_query?.name;
  if (qname && !out.some((t) => t.name === qname)) out.push({ name: qname, port: firstPort ?? 80, weight: 1, priority: 0 });
  return out;
}

export function dnsOptionsFor(cluster: Cluster, bootstrap: Bootstrap | undefined, override?: readonly string[]): DnsClusterOptions {
  const refresh = cluster.dns_refresh_rate !== undefined ? durationToMs(cluster.dns_refresh_rate) : DEFAULT_DNS_REFRESH_MS;
  const resolver = dnsResolverFor(cluster, bootstrap, override);
  return {
    servers: resolver.servers,
    tcp: resolver.tcp,
    failureBackoff: failureBackoffOf(cluster),
    refreshMs: refresh > 1 ? refresh : DEFAULT_DNS_REFRESH_MS,
    respectTtl: cluster.respect_dns_ttl ?? false,
    family: cluster.dns_lookup_family ?? 'AUTO',
    logical: cluster.type === 'LOGICAL_DNS',
    targets: cluster.type === 'LOGICAL_DNS' ? dnsTargets(cluster).slice(0, 1) : dnsTargets(cluster),
  };
}

interface Answer {
  readonly addresses: string[];
  /** Smallest TTL in seconds, or undefined when there were no records. */
  readonly ttl: number | undefined;
}

/** Error codes that mean "the name has no such records": a successful, empty answer. */
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

interface TargetState {
  readonly target: DnsTarget;
  /** Last good addresses (kept on failure). */
  addresses: string[] | undefined;
  /** Failures in a row (dns_failure_refresh_rate's back-off). */
  failures: number;
  timer?: TimerHandle;
}

export class DnsDiscovery implements DiscoveryHandle {
  readonly stats: DnsStats = { update_attempt: 0, update_success: 0, update_failure: 0, update_empty: 0 };
  readonly ready: Promise<void>;
  private readonly resolver: Resolver;
  private readonly queryTimeoutMs: number;
  private readonly states: TargetState[];
  private closed = false;
  private lastPublished = '';

  constructor(
    private readonly opts: DnsClusterOptions,
    private readonly sink: EndpointSink,
    private readonly deps: DiscoveryDeps,
    private readonly cluster: string,
  ) {
    this.queryTimeoutMs = opts.queryTimeoutMs ?? Math.min(5000, Math.max(100, opts.refreshMs));
    this.resolver = new Resolver({ timeout: this.queryTimeoutMs, tries: opts.tries ?? 2 });
    if (opts.servers !== undefined) this.resolver.setServers([...opts.servers]);
    this.states = opts.targets.map((target) => ({ target, addresses: isIP(target.name) ? [target.name] : undefined, failures: 0 }));
    this.ready = Promise.all(this.states.map((s) => this.resolveTarget(s))).then(() => undefined);
  }

  /** The nameservers queries go to (tests assert the article's 8.8.8.8 is not among them). */
  servers(): string[] {
    return this.resolver.getServers();
  }

  close(): void {
    this.closed = true;
    for (const s of this.states) if (s.timer !== undefined) this.deps.timers.clearTimeout(s.timer);
  }

  private async resolveTarget(s: TargetState): Promise<void> {
    if (this.closed) return;
    if (isIP(s.target.name)) {
      this.publish();
      return; // an IP literal needs no lookups
    }
    this.stats.update_attempt++;
    let next = this.opts.refreshMs;
    try {
      const answer = await this.lookup(s.target.name);
      if (this.closed) return;
      this.stats.update_success++;
      s.failures = 0;
      if (answer.addresses.length === 0) this.stats.update_empty++;
      s.addresses = this.opts.logical ? answer.addresses.slice(0, 1) : [...new Set(answer.addresses)];
      if (this.opts.respectTtl && answer.ttl !== undefined && answer.ttl > 0) next = answer.ttl * 1000;
      this.publish();
    } catch (err) {
      if (this.closed) return;
      this.stats.update_failure++;
      s.failures++;
      const fb = this.opts.failureBackoff;
      if (fb !== undefined) next = backoffMs(s.failures - 1, fb.baseMs, fb.maxMs, this.deps.random);
      this.deps.log?.(`dns: ${this.cluster}: resolving ${s.target.name} failed (${(err as NodeJS.ErrnoException).code ?? String(err)}); keeping ${s.addresses?.length ?? 0} last known host(s)`);
      this.publish();
    }
    if (this.closed) return;
    s.timer = this.deps.timers.setTimeout(() => {
      s.timer = undefined;
      void this.resolveTarget(s);
    }, next);
  }

  private async lookup(name: string): Promise<Answer> {
    switch (this.opts.family) {
      case 'V4_ONLY':
        return this.query(name, 4);
      case 'V6_ONLY':
        return this.query(name, 6);
      case 'V4_PREFERRED': {
        const a = await this.query(name, 4);
        return a.addresses.length > 0 ? a : this.query(name, 6);
      }
      case 'ALL': {
        const [a, b] = await Promise.all([this.query(name, 4), this.query(name, 6)]);
        return { addresses: [...a.addresses, ...b.addresses], ttl: minTtl(a.ttl, b.ttl) };
      }
      default: {
        const six = await this.query(name, 6);
        return six.addresses.length > 0 ? six : this.query(name, 4);
      }
    }
  }

  private async query(name: string, family: 4 | 6): Promise<Answer> {
    try {
      const recs = this.opts.tcp
        ? await this.queryTcp(name, family)
        : family === 4
          ? await this.resolver.resolve4(name, { ttl: true })
          : await this.resolver.resolve6(name, { ttl: true });
      return { addresses: recs.map((r) => r.address), ttl: recs.reduce<number | undefined>((m, r) => minTtl(m, r.ttl), undefined) };
    } catch (err) {
      if (NO_RECORDS.has((err as NodeJS.ErrnoException).code ?? '')) return { addresses: [], ttl: undefined };
      throw err;
    }
  }

  /** use_tcp_for_dns_lookups: each nameserver in turn, `tries` times, until one answers (c-ares' order). */
  private async queryTcp(name: string, family: 4 | 6): Promise<{ address: string; ttl: number }[]> {
    const servers = this.opts.servers ?? getServers();
    let last: unknown = new Error('no nameserver');
    for (let t = 0; t < (this.opts.tries ?? 2); t++) {
      for (const server of servers) {
        try {
          return await queryOverTcp(server, name, family, this.queryTimeoutMs);
        } catch (err) {
          // An answer (no such name, no records) is final; a failed server gives way to the next.
          if (NO_RECORDS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
          last = err;
        }
      }
    }
    throw last;
  }

  private publish(): void {
    const hosts: HostInit[] = [];
    for (const s of this.states) {
      for (const ip of s.addresses ?? []) {
        const h: { -readonly [K in keyof HostInit]: HostInit[K] } = { ip, port: s.target.port, weight: s.target.weight, priority: s.target.priority };
        if (!isIP(s.target.name)) h.hostname = s.target.name;
        if (s.target.health !== undefined) h.health = s.target.health;
        // --map-endpoint applies to the health-check address with the host's (ClusterRuntime.setEndpoints).
        if (s.target.healthCheck !== undefined) Object.assign(h, healthCheckOf(s.target.healthCheck, ip, s.target.port, undefined));
        hosts.push(h);
      }
    }
    const key = JSON.stringify(hosts);
    if (key === this.lastPublished) return;
    this.lastPublished = key;
    this.sink(hosts);
  }
}

function minTtl(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
