/**
 * Active health checking, as Envoy does it (config.core.v3.HealthCheck): one session per host and check, HTTP (path,
 * method, host header, expected_statuses) or TCP (connect, optional hex send, ordered receive blocks).
 *
 * Envoy semantics kept here:
 * - hosts start FAILED_ACTIVE_HC; the first successful check marks a host healthy at once, later recoveries need
 *   `healthy_threshold` consecutive successes;
 * - `unhealthy_threshold` counts only network failures (timeout, refused, reset); an HTTP status outside
 *   expected_statuses (default: 200 only) or `x-envoy-immediate-health-check-fail` fails the host at once;
 * - intervals: `no_traffic_interval` (60s) until the cluster has had traffic, then `interval`, `unhealthy_interval`,
 *   and the edge intervals while a transition is pending; `initial_jitter` once, `interval_jitter` every time.
 * The result is the HostSet's 'active-hc' flag, so the balancer, `/clusters` and `simulate` see it.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { HealthCheck, Int64Range } from '../config/model.js';
import { durationToMs } from '../config/model.js';
import type { Host, HostSetView, Random } from '../balancer/types.js';
import type { TimerHandle, Timers } from '../time/timers.js';
import type { UpstreamTlsOptions } from './upstream-tls.js';

interface HealthCheckStats {
  attempt: number;
  success: number;
  failure: number;
  network_failure: number;
}

export type CheckResult = 'healthy' | 'active-failure' | 'network-failure';

interface HealthCheckerDeps {
  readonly timers: Timers;
  readonly random: Random;
  /** Whether the cluster has carried traffic yet (Envoy checks at no_traffic_interval until it has). */
  readonly hadTraffic: () => boolean;
  /** Cluster name: the default Host header of HTTP checks, and log lines. */
  readonly cluster: string;
  readonly log?: (line: string) => void;
  /** Every finished check (outlier detection un-ejects a host that passes). */
  readonly onCheck?: (host: Host, result: CheckResult, nowHealthy: boolean) => void;
  /**
   * Hosts that passed the previous checker (a reload changing the health-check config): they keep serving until
   * their first check under the new config instead of starting failed.
   */
  readonly assumeHealthy?: ReadonlySet<Host>;
  /** The cluster's TLS client options: HTTP checks go over TLS as the cluster's traffic does (Envoy's default). */
  readonly tls?: UpstreamTlsOptions;
  /** Replace the network probe (tests of the state machine). */
  readonly probe?: (host: Host, hc: HealthCheck, timeoutMs: number) => Promise<CheckResult>;
}

interface Session {
  readonly host: Host;
  failed: boolean;
  firstCheck: boolean;
  numHealthy: number;
  numUnhealthy: number;
  pendingTransition: boolean;
  timer?: TimerHandle;
  stopped: boolean;
  checkedOnce: boolean;
}

/** The health checks of one cluster over its host set. */
export class HealthChecker {
  readonly stats: HealthCheckStats = { attempt: 0, success: 0, failure: 0, network_failure: 0 };
  private readonly checkers: SingleChecker[];
  private readonly unsubscribe: () => void;
  private firstRound: Promise<void>;

  constructor(hosts: HostSetView, checks: readonly HealthCheck[], deps: HealthCheckerDeps) {
    this.checkers = checks.map((hc) => new SingleChecker(hosts, hc, deps, this.stats, (h) => this.anyFailing(h)));
    // A host whose endpoint says disable_active_health_check is never actively checked (nor failed by a check).
    for (const h of hosts.hosts) hosts.setHealthFlag(h, 'active-hc', h.activeHealthCheckDisabled !== true && !deps.assumeHealthy?.has(h));
    for (const c of this.checkers) c.sync();
    this.firstRound = Promise.all(this.checkers.map((c) => c.firstRound)).then(() => undefined);
    this.unsubscribe = hosts.onChange(() => {
      for (const c of this.checkers) c.sync();
    });
  }

  /** Resolves when every host present at start has been checked once (Envoy's cluster warming). */
  ready(): Promise<void> {
    return this.firstRound;
  }

  /** Whether `host` currently fails any active check. */
  isFailing(host: Host): boolean {
    return this.anyFailing(host);
  }

  close(): void {
    this.unsubscribe();
    for (const c of this.checkers) c.close();
  }

  private anyFailing(host: Host): boolean {
    return this.checkers.some((c) => c.isFailing(host));
  }
}

class SingleChecker {
  private readonly sessions = new Map<Host, Session>();
  private readonly timeoutMs: number;
  private readonly intervalMs: number;
  private readonly unhealthyIntervalMs: number;
  private readonly unhealthyEdgeMs: number;
  private readonly healthyEdgeMs: number;
  private readonly noTrafficMs: number;
  private readonly jitterMs: number;
  private readonly initialJitterMs: number;
  private readonly healthyThreshold: number;
  private readonly unhealthyThreshold: number;
  private readonly agent: http.Agent | undefined;
  private readonly tls: UpstreamTlsOptions | undefined;
  private closed = false;
  private initial = new Set<Host>();
  private resolveFirst!: () => void;
  readonly firstRound: Promise<void>;

  constructor(
    private readonly hosts: HostSetView,
    private readonly hc: HealthCheck,
    private readonly deps: HealthCheckerDeps,
    private readonly stats: HealthCheckStats,
    private readonly anyFailing: (h: Host) => boolean,
  ) {
    const ms = (d: HealthCheck['interval'], dflt: number): number => (d !== undefined ? durationToMs(d) : dflt);
    this.timeoutMs = ms(hc.timeout, 1000);
    this.intervalMs = Math.max(1, ms(hc.interval, 10_000));
    this.unhealthyIntervalMs = ms(hc.unhealthy_interval, this.intervalMs);
    this.unhealthyEdgeMs = ms(hc.unhealthy_edge_interval, this.unhealthyIntervalMs);
    this.healthyEdgeMs = ms(hc.healthy_edge_interval, this.intervalMs);
    this.noTrafficMs = ms(hc.no_traffic_interval, 60_000);
    this.jitterMs = ms(hc.interval_jitter, 0);
    this.initialJitterMs = ms(hc.initial_jitter, 0);
    this.healthyThreshold = Math.max(1, hc.healthy_threshold ?? 1);
    this.unhealthyThreshold = Math.max(1, hc.unhealthy_threshold ?? 1);
    // reuse_connection (default true) keeps one connection per host between checks.
    const tls = deps.tls !== undefined ? { ...deps.tls, ALPNProtocols: ['http/1.1'] } : undefined;
    this.tls = tls;
    this.agent =
      hc.http_health_check && hc.reuse_connection !== false
        ? tls !== undefined
          ? new https.Agent({ keepAlive: true, maxSockets: 1, ...tls })
          : new http.Agent({ keepAlive: true, maxSockets: 1 })
        : undefined;
    this.firstRound = new Promise((r) => (this.resolveFirst = r));
    this.initial = new Set(hosts.hosts.filter((h) => h.activeHealthCheckDisabled !== true));
    if (this.initial.size === 0) this.resolveFirst();
  }

  isFailing(host: Host): boolean {
    return this.sessions.get(host)?.failed ?? false;
  }

  sync(): void {
    if (this.closed) return;
    const live = new Set(this.hosts.hosts.filter((h) => h.activeHealthCheckDisabled !== true));
    for (const [host, s] of this.sessions) {
      if (live.has(host)) continue;
      this.stop(s);
      // Still a member, now with checks disabled by its endpoint: no active check holds it out any more.
      if (host.activeHealthCheckDisabled === true) this.hosts.setHealthFlag(host, 'active-hc', false);
    }
    for (const host of live) {
      if (this.sessions.has(host)) continue;
      // New hosts (start, DNS, EDS) start failed until their first check passes.
      const assumed = this.deps.assumeHealthy?.has(host) === true && this.initial.has(host);
      if (!assumed) this.hosts.setHealthFlag(host, 'active-hc', true);
      const s: Session = { host, failed: !assumed, firstCheck: true, numHealthy: 0, numUnhealthy: 0, pendingTransition: false, stopped: false, checkedOnce: false };
      this.sessions.set(host, s);
      const jitter = this.initialJitterMs > 0 ? this.deps.random.next() * this.initialJitterMs : 0;
      this.schedule(s, jitter);
    }
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) this.stop(s);
    this.agent?.destroy();
    this.resolveFirst();
  }

  private stop(s: Session): void {
    s.stopped = true;
    if (s.timer !== undefined) this.deps.timers.clearTimeout(s.timer);
    this.sessions.delete(s.host);
    this.markChecked(s);
  }

  private schedule(s: Session, ms: number): void {
    if (s.stopped || this.closed) return;
    s.timer = this.deps.timers.setTimeout(() => {
      s.timer = undefined;
      void this.run(s);
    }, ms);
  }

  private nextInterval(s: Session): number {
    let base: number;
    if (!this.deps.hadTraffic()) base = this.noTrafficMs;
    else if (s.failed) base = s.pendingTransition ? this.unhealthyEdgeMs : this.unhealthyIntervalMs;
    else base = s.pendingTransition ? this.healthyEdgeMs : this.intervalMs;
    return base + (this.jitterMs > 0 ? this.deps.random.next() * this.jitterMs : 0);
  }

  private async run(s: Session): Promise<void> {
    this.stats.attempt++;
    let result: CheckResult;
    try {
      result = await (this.deps.probe ?? ((h, hc, t) => probe(h, hc, t, this.deps.cluster, this.agent, this.tls)))(s.host, this.hc, this.timeoutMs);
    } catch {
      result = 'network-failure';
    }
    if (s.stopped || this.closed) return;
    this.apply(s, result);
    this.markChecked(s);
    this.schedule(s, this.nextInterval(s));
  }

  private apply(s: Session, result: CheckResult): void {
    const before = s.failed;
    if (result === 'healthy') {
      this.stats.success++;
      s.numUnhealthy = 0;
      s.pendingTransition = false;
      if (s.failed) {
        if (s.firstCheck || ++s.numHealthy >= this.healthyThreshold) {
          s.failed = false;
          s.numHealthy = 0;
        } else {
          s.pendingTransition = true;
        }
      }
    } else {
      this.stats.failure++;
      if (result === 'network-failure') this.stats.network_failure++;
      s.numHealthy = 0;
      s.pendingTransition = false;
      if (!s.failed) {
        if (result === 'active-failure' || ++s.numUnhealthy >= this.unhealthyThreshold) {
          s.failed = true;
          s.numUnhealthy = 0;
        } else {
          s.pendingTransition = true;
        }
      }
    }
    s.firstCheck = false;
    if (s.failed !== before) {
      this.deps.log?.(`health check: ${this.deps.cluster} ${s.host.address} is now ${s.failed ? 'unhealthy' : 'healthy'} (${result})`);
    }
    this.hosts.setHealthFlag(s.host, 'active-hc', this.anyFailing(s.host));
    this.deps.onCheck?.(s.host, result, !this.anyFailing(s.host));
  }

  private markChecked(s: Session): void {
    if (s.checkedOnce) return;
    s.checkedOnce = true;
    if (this.initial.delete(s.host) && this.initial.size === 0) this.resolveFirst();
  }
}

/** Whether `status` falls in one of the [start, end) ranges; Envoy's default is 200 only. */
export function statusExpected(status: number, ranges: readonly Int64Range[] | undefined): boolean {
  if (ranges === undefined || ranges.length === 0) return status === 200;
  return ranges.some((r) => status >= (r.start ?? 0) && status < (r.end ?? 0));
}

/** One real check against a host. */
function probe(host: Host, hc: HealthCheck, timeoutMs: number, cluster: string, agent?: http.Agent, tls?: UpstreamTlsOptions): Promise<CheckResult> {
  if (hc.http_health_check) return httpProbe(host, hc, timeoutMs, cluster, agent, tls);
  if (hc.tcp_health_check) return tcpProbe(host, hc, timeoutMs);
  // A check with no checker type configured: a plain TCP connect is the least surprising reading.
  return tcpProbe(host, { ...hc, tcp_health_check: {} }, timeoutMs);
}

function httpProbe(host: Host, hc: HealthCheck, timeoutMs: number, cluster: string, agent?: http.Agent, tls?: UpstreamTlsOptions): Promise<CheckResult> {
  const h = hc.http_health_check!;
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: CheckResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = (tls !== undefined ? https : http).request({
      ...(tls ?? {}),
      host: host.healthCheckAddress?.ip ?? host.ip,
      port: host.healthCheckAddress?.port ?? host.port,
      method: h.method || 'GET',
      path: h.path || '/',
      headers: { host: host.healthCheckHostname || h.host || cluster, 'user-agent': 'Envoy/HC', 'x-envoy-expected-rq-timeout-ms': String(Math.round(timeoutMs)) },
      agent: agent ?? false,
    });
    const timer = setTimeout(() => {
      finish('network-failure');
      req.destroy();
    }, timeoutMs);
    req.on('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const immediateFail = res.headers['x-envoy-immediate-health-check-fail'] !== undefined;
      res.on('end', () => finish(!immediateFail && statusExpected(status, h.expected_statuses) ? 'healthy' : 'active-failure'));
      res.on('error', () => finish('network-failure'));
    });
    req.on('error', () => finish('network-failure'));
    req.end();
  });
}

function tcpProbe(host: Host, hc: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  const t = hc.tcp_health_check!;
  const send = t.send?.text ? Buffer.from(t.send.text, 'hex') : undefined;
  const expect = (t.receive ?? []).filter((p) => p.text).map((p) => Buffer.from(p.text!, 'hex'));
  return new Promise((resolve) => {
    let done = false;
    const sock = net.connect({ host: host.healthCheckAddress?.ip ?? host.ip, port: host.healthCheckAddress?.port ?? host.port });
    const finish = (r: CheckResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish('network-failure'), timeoutMs);
    let got = Buffer.alloc(0);
    sock.on('connect', () => {
      if (send) sock.write(send);
      if (expect.length === 0) finish('healthy');
    });
    sock.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (receivedInOrder(got, expect)) finish('healthy');
    });
    sock.on('end', () => finish(receivedInOrder(got, expect) ? 'healthy' : 'active-failure'));
    sock.on('error', () => finish('network-failure'));
  });
}

/** Envoy's TCP receive rule: every block appears, in order, not necessarily adjacent. */
export function receivedInOrder(data: Buffer, blocks: readonly Buffer[]): boolean {
  let from = 0;
  for (const b of blocks) {
    const at = data.indexOf(b, from);
    if (at < 0) return false;
    from = at + b.length;
  }
  return true;
}
