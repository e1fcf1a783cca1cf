/**
 * The hosts of one cluster: membership from config or discovery, health from declared status, active health checks,
 * outlier detection and discovery. Balancers only read it and rebuild their tables when `version` moves.
 */
import type { Cluster, Endpoint_HealthCheckConfig, LbEndpoint_HealthStatus } from '../config/model.js';
import type { HealthFlag, Host, HostHealth, HostInit, HostSetView } from './types.js';

const FLAG_BITS: Record<HealthFlag, number> = { 'active-hc': 1, outlier: 2, discovery: 4 };

/** A host as the HostSet keeps it: the public Host plus the flags its health derives from. */
export class HostImpl implements Host {
  readonly address: string;
  readonly ip: string;
  readonly port: number;
  weight: number;
  priority: number;
  hostname?: string;
  locality?: string;
  localityWeight?: number;
  healthCheckAddress?: { readonly ip: string; readonly port: number };
  healthCheckHostname?: string;
  activeHealthCheckDisabled?: boolean;
  health: HostHealth;
  activeRequests = 0;
  /** The health the source declared (health_status, discovery); flags override it. */
  declaredHealth: HostHealth;
  /** Bit set of HealthFlag. */
  flags = 0;

  constructor(init: HostInit) {
    this.ip = init.ip;
    this.port = init.port;
    this.address = formatAddress(init.ip, init.port);
    this.weight = init.weight;
    this.priority = init.priority;
    if (init.hostname !== undefined) this.hostname = init.hostname;
    if (init.locality !== undefined) this.locality = init.locality;
    if (init.localityWeight !== undefined) this.localityWeight = init.localityWeight;
    if (init.healthCheckAddress !== undefined) this.healthCheckAddress = init.healthCheckAddress;
    if (init.healthCheckHostname !== undefined) this.healthCheckHostname = init.healthCheckHostname;
    if (init.activeHealthCheckDisabled === true) this.activeHealthCheckDisabled = true;
    this.declaredHealth = init.health ?? 'healthy';
    this.health = this.declaredHealth;
  }

  /** Whether a given health flag is set. */
  hasFlag(flag: HealthFlag): boolean {
    return (this.flags & FLAG_BITS[flag]) !== 0;
  }
}

/** `ip:port`, with brackets around IPv6 literals (Envoy's address string, also the ring-hash key). */
export function formatAddress(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export class HostSet implements HostSetView {
  private list: HostImpl[] = [];
  private ver = 0;
  private readonly listeners = new Set<() => void>();

  constructor(hosts: readonly HostInit[] = []) {
    this.list = sortByPriority(hosts.map((h) => new HostImpl(h)));
  }

  get hosts(): readonly Host[] {
    return this.list;
  }

  get version(): number {
    return this.ver;
  }

  /** The host with this `ip:port` address, if any. */
  find(address: string): Host | undefined {
    return this.list.find((h) => h.address === address);
  }

  replace(hosts: readonly HostInit[]): void {
    const old = new Map(this.list.map((h) => [h.address, h]));
    const next: HostImpl[] = [];
    const seen = new Set<string>();
    for (const init of hosts) {
      const address = formatAddress(init.ip, init.port);
      if (seen.has(address)) continue; // a duplicate address would double its share; the first one wins
      seen.add(address);
      const kept = old.get(address);
      if (kept) {
        kept.weight = init.weight;
        kept.priority = init.priority;
        if (init.hostname !== undefined) kept.hostname = init.hostname;
        kept.locality = init.locality;
        kept.localityWeight = init.localityWeight;
        kept.healthCheckAddress = init.healthCheckAddress;
        kept.healthCheckHostname = init.healthCheckHostname;
        kept.activeHealthCheckDisabled = init.activeHealthCheckDisabled;
        kept.declaredHealth = init.health ?? 'healthy';
        recompute(kept);
        next.push(kept);
      } else {
        next.push(new HostImpl(init));
      }
    }
    this.list = sortByPriority(next);
    this.changed();
  }

  setHealthFlag(host: Host, flag: HealthFlag, failed: boolean): void {
    const h = host as HostImpl;
    if (!this.list.includes(h)) return;
    const before = h.flags;
    h.flags = failed ? h.flags | FLAG_BITS[flag] : h.flags & ~FLAG_BITS[flag];
    if (h.flags === before) return;
    const health = h.health;
    recompute(h);
    if (h.health !== health) this.changed();
  }

  /** Change a host's declared health (discovery's health_status, `simulate --unhealthy`). */
  setDeclaredHealth(host: Host, health: HostHealth): void {
    const h = host as HostImpl;
    if (h.declaredHealth === health) return;
    h.declaredHealth = health;
    recompute(h);
    this.changed();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.ver++;
    for (const l of this.listeners) l();
  }
}

function recompute(h: HostImpl): void {
  h.health = h.flags !== 0 ? 'unhealthy' : h.declaredHealth;
}

function sortByPriority(hosts: HostImpl[]): HostImpl[] {
  // Stable: source order within a priority.
  return hosts
    .map((h, i) => ({ h, i }))
    .sort((x, y) => x.h.priority - y.h.priority || x.i - y.i)
    .map((x) => x.h);
}

/** Envoy's health_status as the load balancer sees it: UNHEALTHY, DRAINING and TIMEOUT leave the healthy set. */
export function healthFromStatus(status: LbEndpoint_HealthStatus | undefined): HostHealth {
  switch (status) {
    case 'UNHEALTHY':
    case 'DRAINING':
    case 'TIMEOUT':
      return 'unhealthy';
    case 'DEGRADED':
      return 'degraded';
    default:
      return 'healthy';
  }
}

interface HostsFromClusterOptions {
  /** Rewrites an endpoint address (e.g. the article's 10.244.0.2:8080 to a local test server). */
  readonly mapEndpoint?: (ip: string, port: number) => { ip: string; port: number };
}

/** The hosts a cluster's load_assignment declares, in priority then source order (pipes and unresolved entries skipped). */
export function hostsFromCluster(cluster: Cluster, opts: HostsFromClusterOptions = {}): HostInit[] {
  const out: HostInit[] = [];
  for (const locality of cluster.load_assignment?.endpoints ?? []) {
    const priority = locality.priority ?? 0;
    const loc = locality.locality;
    const localityKey = loc && (loc.region || loc.zone || loc.sub_zone) ? `${loc.region ?? ''}/${loc.zone ?? ''}/${loc.sub_zone ?? ''}` : undefined;
    for (const lbe of locality.lb_endpoints ?? []) {
      const sa = lbe.endpoint?.address?.socket_address;
      if (!sa || sa.address === undefined || sa.address === '') continue;
      let ip = sa.address;
      let port = sa.port_value ?? 0;
      if (opts.mapEndpoint) ({ ip, port } = opts.mapEndpoint(ip, port));
      const weight = lbe.load_balancing_weight !== undefined && lbe.load_balancing_weight >= 1 ? lbe.load_balancing_weight : 1;
      const init: { -readonly [K in keyof HostInit]: HostInit[K] } = {
        ip,
        port,
        weight,
        priority,
        health: healthFromStatus(lbe.health_status),
      };
      const hostname = lbe.endpoint?.hostname;
      if (hostname) init.hostname = hostname;
      // Envoy: health_check_config.port_value (non-zero) sends active health checks to that port of the endpoint's
      // address; its hostname is their Host header (EDS's Endpoint.HealthCheckConfig).
      const hc = lbe.endpoint?.health_check_config;
      if (hc !== undefined) Object.assign(init, healthCheckOf(hc, sa.address, sa.port_value ?? 0, opts.mapEndpoint));
      if (localityKey !== undefined) init.locality = localityKey;
      if (locality.load_balancing_weight !== undefined) init.localityWeight = locality.load_balancing_weight;
      out.push(init);
    }
  }
  return out.sort((a, b) => a.priority - b.priority);
}

/**
 * What an endpoint's health_check_config says (Envoy's Endpoint.HealthCheckConfig): active checks go to `address`
 * (an IP) or the endpoint's own, on `port_value` when non-zero, with `hostname` as Host; `disable_active_health_check`
 * keeps the cluster's checkers away from it. `address` and the flag are read from the decoder's verbatim copy.
 */
export function healthCheckOf(
  hc: Endpoint_HealthCheckConfig,
  ip: string,
  port: number,
  map: HostsFromClusterOptions['mapEndpoint'],
): Pick<HostInit, 'healthCheckAddress' | 'healthCheckHostname' | 'activeHealthCheckDisabled'> {
  const extra = (hc as { unmodeled?: { address?: { socket_address?: { address?: unknown } }; disable_active_health_check?: unknown } }).unmodeled;
  const altIp = typeof extra?.address?.socket_address?.address === 'string' ? extra.address.socket_address.address : undefined;
  const out: { -readonly [K in 'healthCheckAddress' | 'healthCheckHostname' | 'activeHealthCheckDisabled']?: HostInit[K] } = {};
  if (hc.port_value || altIp !== undefined) {
    const target = { ip: altIp ?? ip, port: hc.port_value || port };
    out.healthCheckAddress = map ? map(target.ip, target.port) : target;
  }
  if (hc.hostname) out.healthCheckHostname = hc.hostname;
  if (extra?.disable_active_health_check === true) out.activeHealthCheckDisabled = true;
  return out;
}
