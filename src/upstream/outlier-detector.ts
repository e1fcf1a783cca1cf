/**
 * Passive health: Envoy's consecutive-5xx, consecutive-gateway-failure and consecutive-local-origin-failure outlier
 * detection. Ejection happens inline, the moment a host's run of failures reaches the threshold; a host comes back at
 * the first interval sweep after base_ejection_time × (its ejection back-off), capped at max_ejection_time. Ejection is
 * refused (counted as overflow) when it would push the ejected share above max_ejection_percent. Ejected hosts carry
 * the HostSet's 'outlier' health flag, so the balancer, `/clusters` and `simulate` all see the same state.
 */
import type { OutlierDetection } from '../config/model.js';
import { durationToMs } from '../config/model.js';
import type { Clock, Host, HostSetView, Random } from '../balancer/types.js';
import type { TimerHandle, Timers } from '../time/timers.js';
import type { UpstreamOutcome } from './types.js';

type EjectionType = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'consecutive_local_origin_failure';

export interface OutlierSettings {
  readonly consecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly consecutiveLocalOriginFailure: number;
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
  readonly enforcingConsecutive5xx: number;
  readonly enforcingConsecutiveGatewayFailure: number;
  readonly enforcingConsecutiveLocalOriginFailure: number;
  readonly splitExternalLocalOriginErrors: boolean;
  /** Envoy's `always_eject_one_host` (not in meshctl's schema yet; an option): the first ejection ignores the percent cap. */
  readonly alwaysEjectOneHost: boolean;
  /** Envoy's `successful_active_health_check_uneject_host`, default true. */
  readonly successfulActiveHealthCheckUnejectHost: boolean;
}

/** Envoy's defaults applied to a cluster's `outlier_detection` block. */
export function outlierSettings(od: OutlierDetection, overrides: Partial<OutlierSettings> = {}): OutlierSettings {
  const ms = (d: OutlierDetection['interval'], dflt: number): number => (d !== undefined ? durationToMs(d) : dflt);
  const base = ms(od.base_ejection_time, 30_000);
  return {
    consecutive5xx: od.consecutive_5xx ?? 5,
    consecutiveGatewayFailure: od.consecutive_gateway_failure ?? 5,
    consecutiveLocalOriginFailure: od.consecutive_local_origin_failure ?? 5,
    intervalMs: ms(od.interval, 10_000),
    baseEjectionMs: base,
    // Envoy: max_ejection_time defaults to 300s, or base_ejection_time when that is larger.
    maxEjectionMs: Math.max(ms(od.max_ejection_time, 300_000), base),
    maxEjectionPercent: Math.min(100, od.max_ejection_percent ?? 10),
    enforcingConsecutive5xx: od.enforcing_consecutive_5xx ?? 100,
    enforcingConsecutiveGatewayFailure: od.enforcing_consecutive_gateway_failure ?? 0,
    enforcingConsecutiveLocalOriginFailure: 100,
    splitExternalLocalOriginErrors: od.split_external_local_origin_errors ?? false,
    alwaysEjectOneHost: false,
    successfulActiveHealthCheckUnejectHost: true,
    ...overrides,
  };
}

/** Counters under Envoy's `cluster.<c>.outlier_detection.` prefix. */
interface OutlierStats {
  ejections_active: number;
  ejections_overflow: number;
  ejections_enforced_total: number;
  ejections_enforced_consecutive_5xx: number;
  ejections_detected_consecutive_5xx: number;
  ejections_enforced_consecutive_gateway_failure: number;
  ejections_detected_consecutive_gateway_failure: number;
  ejections_enforced_consecutive_local_origin_failure: number;
  ejections_detected_consecutive_local_origin_failure: number;
  /** Envoy's deprecated counters, still written: consecutive-5xx detections, and those the percent cap let through. */
  ejections_consecutive_5xx: number;
  ejections_total: number;
}

interface OutlierEvent {
  readonly action: 'eject' | 'uneject';
  readonly host: Host;
  readonly type?: EjectionType;
  readonly enforced: boolean;
  readonly numEjections: number;
  readonly at: number;
}

interface Monitor {
  consecutive5xx: number;
  consecutiveGateway: number;
  consecutiveLocal: number;
  numEjections: number;
  /** Envoy's ejectTimeBackoff: grows with each ejection, shrinks by one per healthy interval. */
  backoff: number;
  lastEjection?: number;
  lastUnejection?: number;
  ejected: boolean;
}

interface OutlierDeps {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  readonly log?: (line: string) => void;
  readonly onEvent?: (event: OutlierEvent) => void;
  /** Cluster name for log lines. */
  readonly cluster?: string;
}

export class OutlierDetector {
  readonly stats: OutlierStats = {
    ejections_active: 0,
    ejections_overflow: 0,
    ejections_enforced_total: 0,
    ejections_enforced_consecutive_5xx: 0,
    ejections_detected_consecutive_5xx: 0,
    ejections_enforced_consecutive_gateway_failure: 0,
    ejections_detected_consecutive_gateway_failure: 0,
    ejections_enforced_consecutive_local_origin_failure: 0,
    ejections_detected_consecutive_local_origin_failure: 0,
    ejections_consecutive_5xx: 0,
    ejections_total: 0,
  };
  private readonly monitors = new Map<Host, Monitor>();
  private timer: TimerHandle | undefined;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly hosts: HostSetView,
    private cfg: OutlierSettings,
    private readonly deps: OutlierDeps,
  ) {
    this.sync();
    this.unsubscribe = hosts.onChange(() => this.sync());
    this.arm();
  }

  get settings(): OutlierSettings {
    return this.cfg;
  }

  /** New settings (hot reload): counters and ejections stay; the sweep is re-armed with the new interval. */
  setSettings(cfg: OutlierSettings): void {
    const rearm = cfg.intervalMs !== this.cfg.intervalMs;
    this.cfg = cfg;
    if (rearm) this.arm();
  }

  isEjected(host: Host): boolean {
    return this.monitors.get(host)?.ejected ?? false;
  }

  numEjections(host: Host): number {
    return this.monitors.get(host)?.numEjections ?? 0;
  }

  /** One attempt's result, as the data path saw it. */
  onResult(host: Host, outcome: UpstreamOutcome): void {
    const m = this.monitors.get(host);
    if (m === undefined) return;
    const c = this.cfg;
    if (outcome.kind !== 'response' && c.splitExternalLocalOriginErrors) {
      // Local-origin errors (connect failure, reset, timeout) are counted apart from the upstream's own answers.
      if (++m.consecutiveLocal >= c.consecutiveLocalOriginFailure) {
        this.detected(host, m, 'consecutive_local_origin_failure');
      }
      return;
    }
    // Without the split, Envoy charges local-origin errors as the status the router would answer with.
    const status = outcome.kind === 'response' ? outcome.status : outcome.kind === 'timeout' ? 504 : 503;
    if (outcome.kind === 'response') m.consecutiveLocal = 0;
    if (status >= 500 && status <= 599) {
      if (status === 502 || status === 503 || status === 504) {
        if (++m.consecutiveGateway >= c.consecutiveGatewayFailure) this.detected(host, m, 'consecutive_gateway_failure');
      } else {
        m.consecutiveGateway = 0;
      }
      if (++m.consecutive5xx >= c.consecutive5xx) this.detected(host, m, 'consecutive_5xx');
    } else {
      m.consecutive5xx = 0;
      m.consecutiveGateway = 0;
    }
  }

  /** An active health check passed (the host is not failing active HC): Envoy un-ejects it at once by default. */
  onActiveHealthCheckSuccess(host: Host): void {
    if (!this.cfg.successfulActiveHealthCheckUnejectHost) return;
    const m = this.monitors.get(host);
    if (m?.ejected) this.uneject(host, m);
  }

  /** Run the interval sweep now (un-ejects hosts whose time is up). Normally driven by the timer. */
  sweep(): void {
    const now = this.deps.clock.now();
    for (const [host, m] of this.monitors) {
      if (!m.ejected) continue;
      const ejectFor = Math.min(this.cfg.baseEjectionMs * m.backoff, this.cfg.maxEjectionMs);
      if (now - (m.lastEjection ?? now) >= ejectFor) this.uneject(host, m);
    }
    for (const m of this.monitors.values()) {
      if (!m.ejected && m.lastUnejection !== undefined && now - m.lastUnejection >= this.cfg.intervalMs && m.backoff > 0) {
        m.backoff--;
      }
    }
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      this.sweep();
      this.arm();
    }, this.cfg.intervalMs);
  }

  private sync(): void {
    const live = new Set(this.hosts.hosts);
    for (const [host, m] of this.monitors) {
      if (!live.has(host)) {
        if (m.ejected) this.stats.ejections_active--;
        this.monitors.delete(host);
      }
    }
    for (const host of live) {
      if (!this.monitors.has(host)) {
        this.monitors.set(host, { consecutive5xx: 0, consecutiveGateway: 0, consecutiveLocal: 0, numEjections: 0, backoff: 0, ejected: false });
      }
    }
  }

  private detected(host: Host, m: Monitor, type: EjectionType): void {
    if (m.ejected) return;
    this.stats[`ejections_detected_${type}`]++;
    if (type === 'consecutive_5xx') this.stats.ejections_consecutive_5xx++;
    this.eject(host, m, type);
    if (type === 'consecutive_5xx') m.consecutive5xx = 0;
    else if (type === 'consecutive_gateway_failure') m.consecutiveGateway = 0;
    else m.consecutiveLocal = 0;
  }

  private eject(host: Host, m: Monitor, type: EjectionType): void {
    const c = this.cfg;
    // Envoy: the share of hosts ejected *after* this ejection must stay within max_ejection_percent.
    const share = (100 * (this.stats.ejections_active + 1)) / this.monitors.size;
    const allowed = share <= c.maxEjectionPercent || (c.alwaysEjectOneHost && this.stats.ejections_active === 0);
    if (!allowed) {
      this.stats.ejections_overflow++;
      this.deps.log?.(`outlier: ${this.deps.cluster ?? ''} ${host.address} ${type} ejection refused: max_ejection_percent ${c.maxEjectionPercent}%`);
      return;
    }
    // Envoy (DetectorImpl::ejectHost) still counts its deprecated ejections_total for 5xx ejections the cap allows.
    if (type === 'consecutive_5xx') this.stats.ejections_total++;
    const enforcing =
      type === 'consecutive_5xx'
        ? c.enforcingConsecutive5xx
        : type === 'consecutive_gateway_failure'
          ? c.enforcingConsecutiveGatewayFailure
          : c.enforcingConsecutiveLocalOriginFailure;
    const enforced = enforcing >= 100 || (enforcing > 0 && this.deps.random.nextU32() % 100 < enforcing);
    if (!enforced) {
      this.deps.onEvent?.({ action: 'eject', host, type, enforced: false, numEjections: m.numEjections, at: this.deps.clock.now() });
      return;
    }
    const now = this.deps.clock.now();
    m.ejected = true;
    m.numEjections++;
    m.lastEjection = now;
    if (m.backoff * c.baseEjectionMs < c.maxEjectionMs + c.baseEjectionMs) m.backoff++;
    this.stats.ejections_active++;
    this.stats.ejections_enforced_total++;
    this.stats[`ejections_enforced_${type}`]++;
    this.hosts.setHealthFlag(host, 'outlier', true);
    const ms = Math.min(c.baseEjectionMs * m.backoff, c.maxEjectionMs);
    this.deps.log?.(`outlier: ${this.deps.cluster ?? ''} ${host.address} ejected (${type}) for ${ms}ms, ejection #${m.numEjections}`);
    this.deps.onEvent?.({ action: 'eject', host, type, enforced: true, numEjections: m.numEjections, at: now });
  }

  private uneject(host: Host, m: Monitor): void {
    const now = this.deps.clock.now();
    m.ejected = false;
    m.lastUnejection = now;
    m.consecutive5xx = 0;
    m.consecutiveGateway = 0;
    m.consecutiveLocal = 0;
    this.stats.ejections_active--;
    this.hosts.setHealthFlag(host, 'outlier', false);
    this.deps.log?.(`outlier: ${this.deps.cluster ?? ''} ${host.address} returned to service`);
    this.deps.onEvent?.({ action: 'uneject', host, enforced: true, numEjections: m.numEjections, at: now });
  }
}
