/**
 * STRICT_DNS and LOGICAL_DNS clusters, resolved with node's c-ares `Resolver` pointed at the nameservers the config
 * names (the cluster's `dns_resolvers`, its `dns_query.nameservers`, else the bootstrap's `dns_query.nameservers`;
 * `ClusterManagerOptions.dnsServers` overrides them all, which is how tests aim at their own server on 127.0.0.1).
 *
 * Envoy semantics kept here:
 * - STRICT_DNS: every address of every name becomes a host (duplicates merged); an answer with no records (NOERROR
 *   empty, NXDOMAIN) empties that name's share of the cluster; LOGICAL_DNS: only the first address of its one name.
 * - Re-resolution every `dns_refresh_rate` (default 5000 ms); with `respect_dns_ttl` the record TTL sets the next
 *   refresh instead (TTL 0 → dns_refresh_rate).
 * - A failure (timeout, refused, SERVFAIL) keeps the last good hosts, counts `update_failure`, and retries after
 *   dns_refresh_rate (Envoy's fixed failure back-off when dns_failure_refresh_rate is unset).
 * - `dns_lookup_family`: AUTO (AAAA, falling back to A when there are none: Envoy's default), V4_ONLY, V6_ONLY,
 *   V4_PREFERRED, ALL.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Bootstrap, Cluster, Cluster_DnsLookupFamily } from '../config/model.js';
import { durationToMs } from '../config/model.js';
import { configNameservers } from '../config/dns-nameservers.js';
import type { HostInit } from '../balancer/types.js';
import { healthFromStatus } from '../balancer/host-set.js';
import type { TimerHandle } from '../time/timers.js';
import type { DiscoveryDeps, DiscoveryHandle, EndpointSink } from './types.js';

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
}

interface DnsClusterOptions {
  readonly servers: readonly string[] | undefined;
  readonly refreshMs: number;
  readonly respectTtl: boolean;
  readonly family: Cluster_DnsLookupFamily;
  readonly logical: boolean;
  readonly targets: readonly DnsTarget[];
  /** c-ares per-try timeout (ms) and tries. */
  readonly queryTimeoutMs?: number;
  readonly tries?: number;
}

/** The nameservers a cluster's resolver uses: the override (`--dns-server`), else the config's (configNameservers). */
export function dnsServersFor(cluster: Cluster, bootstrap: Bootstrap | undefined, override?: readonly string[]): string[] | undefined {
  if (override && override.length > 0) return [...override];
  return configNameservers(cluster, bootstrap)?.servers;
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
      out.push(t);
    }
  }
  const qname = cluster.dns_query?.name;
  if (qname && !out.some((t) => t.name === qname)) out.push({ name: qname, port: firstPort ?? 80, weight: 1, priority: 0 });
  return out;
}

export function dnsOptionsFor(cluster: Cluster, bootstrap: Bootstrap | undefined, override?: readonly string[]): DnsClusterOptions {
  const refresh = cluster.dns_refresh_rate !== undefined ? durationToMs(cluster.dns_refresh_rate) : DEFAULT_DNS_REFRESH_MS;
  return {
    servers: dnsServersFor(cluster, bootstrap, override),
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
  timer?: TimerHandle;
}

export class DnsDiscovery implements DiscoveryHandle {
  readonly stats: DnsStats = { update_attempt: 0, update_success: 0, update_failure: 0, update_empty: 0 };
  readonly ready: Promise<void>;
  private readonly resolver: Resolver;
  private readonly states: TargetState[];
  private closed = false;
  private lastPublished = '';

  constructor(
    private readonly opts: DnsClusterOptions,
    private readonly sink: EndpointSink,
    private readonly deps: DiscoveryDeps,
    private readonly cluster: string,
  ) {
    this.resolver = new Resolver({ timeout: opts.queryTimeoutMs ?? Math.min(5000, Math.max(100, opts.refreshMs)), tries: opts.tries ?? 2 });
    if (opts.servers !== undefined) this.resolver.setServers([...opts.servers]);
    this.states = opts.targets.map((target) => ({ target, addresses: isIP(target.name) ? [target.name] : undefined }));
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
      if (answer.addresses.length === 0) this.stats.update_empty++;
      s.addresses = this.opts.logical ? answer.addresses.slice(0, 1) : [...new Set(answer.addresses)];
      if (this.opts.respectTtl && answer.ttl !== undefined && answer.ttl > 0) next = answer.ttl * 1000;
      this.publish();
    } catch (err) {
      if (this.closed) return;
      this.stats.update_failure++;
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
      const recs = family === 4 ? await this.resolver.resolve4(name, { ttl: true }) : await this.resolver.resolve6(name, { ttl: true });
      return { addresses: recs.map((r) => r.address), ttl: recs.reduce<number | undefined>((m, r) => minTtl(m, r.ttl), undefined) };
    } catch (err) {
      if (NO_RECORDS.has((err as NodeJS.ErrnoException).code ?? '')) return { addresses: [], ttl: undefined };
      throw err;
    }
  }

  private publish(): void {
    const hosts: HostInit[] = [];
    for (const s of this.states) {
      for (const ip of s.addresses ?? []) {
        const h: { -readonly [K in keyof HostInit]: HostInit[K] } = { ip, port: s.target.port, weight: s.target.weight, priority: s.target.priority };
        if (!isIP(s.target.name)) h.hostname = s.target.name;
        if (s.target.health !== undefined) h.health = s.target.health;
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
