/**
 * The article's `service_cluster_discovery_refresh_service { service_name service_url }`: meshctl polls `service_url`
 * (HTTP GET) every `refresh_interval` (default 5 s) for the endpoints of one cluster (`cluster_name`, else the URL's
 * last path segment) and applies each good answer through HostSet.replace, so in-flight requests are never dropped.
 *
 * Accepted bodies (JSON):
 * - the simple shape: `{"endpoints": [{"address": "127.0.0.1", "port": 8080, "weight": 2, "priority": 0,
 *   "health": "healthy"|"degraded"|"unhealthy"}]}` (weight ≥ 1, default 1; priority default 0);
 * - Envoy's `ClusterLoadAssignment` (proto3 JSON, snake_case or lowerCamelCase);
 * - a v3 `DiscoveryResponse` whose `resources` hold ClusterLoadAssignments (the one named for the cluster is used).
 * An ETag is sent back as If-None-Match; 304 means unchanged. Errors (HTTP status, bad JSON, invalid endpoints,
 * timeouts) keep the last good set, and polling backs off exponentially (up to 32× the interval, capped at 5 min).
 */
import type { DiscoveryRefreshService } from '../config/model.js';
import { durationToMs } from '../config/model.js';
import type { HostHealth, HostInit } from '../balancer/types.js';
import { refreshServiceCluster } from '../config/normalize.js';
import type { TimerHandle } from '../time/timers.js';
import { backoffMs, type DiscoveryDeps, type DiscoveryHandle, type EndpointSink } from './types.js';
import { decodeLoadAssignment, hostsFromAssignment } from './envoy-json.js';
import { ENDPOINT_TYPE } from '../config/envoy-api/xds-protocol.js';

const DEFAULT_REFRESH_MS = 5000;

interface RefreshStats {
  update_attempt: number;
  update_success: number;
  update_failure: number;
  update_no_rebuild: number;
}

/** Parse a refresh-service body into hosts, or explain why it is not usable. */
export function parseEndpointsBody(text: string, cluster: string): { hosts?: HostInit[]; error?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { error: `body is not JSON: ${(err as Error).message}` };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { error: 'body must be a JSON object' };
  const obj = doc as Record<string, unknown>;
  if (Array.isArray(obj.resources)) {
    const resources = obj.resources as unknown[];
    const pick =
      resources.find((r) => {
        const o = r as Record<string, unknown>;
        return (o.cluster_name ?? o.clusterName) === cluster;
      }) ?? (resources.length === 1 ? resources[0] : undefined);
    if (pick === undefined) return { error: `no ClusterLoadAssignment for cluster "${cluster}" in resources` };
    const t = (pick as Record<string, unknown>)['@type'];
    if (t !== undefined && t !== ENDPOINT_TYPE) return { error: `resource type ${String(t)} is not ${ENDPOINT_TYPE}` };
    return fromAssignment(pick, cluster);
  }
  const eps = obj.endpoints;
  if (!Array.isArray(eps)) return { error: 'body has no "endpoints" list' };
  const looksEnvoy = eps.some((e) => e !== null && typeof e === 'object' && ('lb_endpoints' in e || 'lbEndpoints' in e));
  if (looksEnvoy || 'cluster_name' in obj || 'clusterName' in obj) return fromAssignment(obj, cluster);
  return fromSimple(eps);
}

function fromAssignment(resource: unknown, cluster: string): { hosts?: HostInit[]; error?: string } {
  // The assignment is for this cluster whatever it calls itself (the body may leave cluster_name out).
  const o = resource as Record<string, unknown>;
  const named = o.cluster_name ?? o.clusterName ? o : { ...o, cluster_name: cluster };
  const d = decodeLoadAssignment(named, 'refresh-service');
  if (d.value === undefined) return { error: d.errors.join('; ') };
  return { hosts: hostsFromAssignment(d.value) };
}

const HEALTH: ReadonlySet<string> = new Set(['healthy', 'degraded', 'unhealthy']);

function fromSimple(eps: unknown[]): { hosts?: HostInit[]; error?: string } {
  const hosts: HostInit[] = [];
  for (const [i, e] of eps.entries()) {
    if (e === null || typeof e !== 'object') return { error: `endpoints[${i}] is not an object` };
    const { address, port, weight, priority, health, hostname } = e as Record<string, unknown>;
    if (typeof address !== 'string' || address === '') return { error: `endpoints[${i}].address must be a non-empty string` };
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return { error: `endpoints[${i}].port must be 1..65535` };
    if (weight !== undefined && (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1)) return { error: `endpoints[${i}].weight must be an integer ≥ 1` };
    if (priority !== undefined && (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0)) return { error: `endpoints[${i}].priority must be an integer ≥ 0` };
    if (health !== undefined && (typeof health !== 'string' || !HEALTH.has(health))) return { error: `endpoints[${i}].health must be healthy, degraded or unhealthy` };
    const h: { -readonly [K in keyof HostInit]: HostInit[K] } = { ip: address, port, weight: (weight as number | undefined) ?? 1, priority: (priority as number | undefined) ?? 0 };
    if (health !== undefined) h.health = health as HostHealth;
    if (typeof hostname === 'string' && hostname !== '') h.hostname = hostname;
    hosts.push(h);
  }
  return { hosts: hosts.sort((a, b) => a.priority - b.priority) };
}

interface RefreshServiceOptions {
  /** Per-request timeout (default: the interval, between 1 s and 10 s). */
  readonly timeoutMs?: number;
  /** Poll interval when the config names none. */
  readonly defaultIntervalMs?: number;
}

export class RefreshServiceClient implements DiscoveryHandle {
  readonly stats: RefreshStats = { update_attempt: 0, update_success: 0, update_failure: 0, update_no_rebuild: 0 };
  readonly ready: Promise<void>;
  readonly cluster: string;
  readonly intervalMs: number;
  private failures = 0;
  private etag: string | undefined;
  private lastBody: string | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;
  private abort: AbortController | undefined;
  private resolveReady!: () => void;
  lastError: string | undefined;

  constructor(
    readonly service: DiscoveryRefreshService,
    private readonly sink: EndpointSink,
    private readonly deps: DiscoveryDeps,
    private readonly opts: RefreshServiceOptions = {},
  ) {
    this.cluster = refreshServiceCluster(service) ?? '';
    const iv = service.refresh_interval !== undefined ? durationToMs(service.refresh_interval) : (opts.defaultIntervalMs ?? DEFAULT_REFRESH_MS);
    this.intervalMs = iv > 0 ? iv : DEFAULT_REFRESH_MS;
    this.ready = new Promise((r) => (this.resolveReady = r));
    void this.poll();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.abort?.abort();
    this.resolveReady();
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    this.stats.update_attempt++;
    let error: string | undefined;
    try {
      error = await this.fetchOnce();
    } catch (err) {
      error = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError' ? 'request timed out' : (err as Error).message;
    }
    if (this.closed) return;
    if (error === undefined) {
      this.stats.update_success++;
      this.failures = 0;
      this.lastError = undefined;
    } else {
      this.stats.update_failure++;
      this.failures++;
      if (error !== this.lastError) this.deps.log?.(`refresh service ${this.service.service_name ?? ''}: ${this.service.service_url}: ${error}; keeping the last good endpoints`);
      this.lastError = error;
    }
    this.resolveReady();
    const wait = this.failures === 0 ? this.intervalMs : backoffMs(this.failures, this.intervalMs, Math.min(this.intervalMs * 32, 300_000), this.deps.random);
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, wait);
  }

  /** One GET; returns an error message, or undefined when the answer was applied (or unchanged). */
  private async fetchOnce(): Promise<string | undefined> {
    const url = this.service.service_url;
    if (!url) return 'no service_url';
    this.abort = new AbortController();
    const timeout = this.opts.timeoutMs ?? Math.min(10_000, Math.max(1000, this.intervalMs));
    const timer = setTimeout(() => this.abort?.abort(), timeout);
    timer.unref();
    try {
      const res = await fetch(url, {
        headers: { accept: 'application/json', ...(this.etag ? { 'if-none-match': this.etag } : {}) },
        signal: this.abort.signal,
      });
      if (res.status === 304) {
        this.stats.update_no_rebuild++;
        await res.body?.cancel();
        return undefined;
      }
      const text = await res.text();
      if (res.status < 200 || res.status > 299) return `HTTP ${res.status}`;
      if (text === this.lastBody) {
        this.stats.update_no_rebuild++;
        return undefined;
      }
      const parsed = parseEndpointsBody(text, this.cluster);
      if (parsed.hosts === undefined) return parsed.error ?? 'invalid body';
      this.etag = res.headers.get('etag') ?? undefined;
      this.lastBody = text;
      this.sink(parsed.hosts);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
