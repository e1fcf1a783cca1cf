/**
 * The simulation loop: requests arrive on a virtual clock (one every 1/rps seconds), go through the shared router and
 * balancer exactly as `meshctl run` would route them, and are tallied per listener → route → cluster → endpoint.
 * Endpoint latencies (optional) keep requests in flight on the virtual clock, so LEAST_REQUEST sees active requests;
 * timeline events flip health at given times. Only aggregates are kept: memory does not grow with the request count.
 */
import type { Bootstrap, Cluster } from '../config/model.js';
import { ClusterBalancer, createBalancer } from '../balancer/index.js';
import { HostSet, hostsFromCluster } from '../balancer/host-set.js';
import { RandomStreams } from '../balancer/random.js';
import type { Host, Random } from '../balancer/types.js';
import { RouteResult, compileRouter, routeRequest, type CompiledRoute, type HeaderLookup, type ListenerRouter } from '../router/index.js';
import { didYouMean } from '../config/suggest.js';
import { type LatencyDist, sampleLatency } from './latency.js';
import { type SimRequest, type SyntheticMix, SyntheticTraffic, readReplayFile } from './traffic.js';
import { chiSquareTest } from './stats.js';
import type { ClusterReport, EndpointReport, ListenerReport, PhaseReport, RouteReport, SimReport, TimelineEntry } from './report-types.js';

export interface TimelineEvent {
  readonly atMs: number;
  readonly action: 'down' | 'up';
  /** `ip:port` */
  readonly address: string;
}

export interface SimulateOptions {
  /** Number of requests; default 10,000 (or rps × duration, or the whole replay file). */
  readonly requests?: number;
  /** Arrival rate on the virtual clock; default 1000/s. */
  readonly rps?: number;
  readonly durationMs?: number;
  readonly seed?: number | string;
  readonly listener?: string;
  readonly hosts?: readonly string[];
  readonly paths?: readonly string[];
  readonly methods?: readonly string[];
  readonly headers?: ReadonlyMap<string, readonly string[]>;
  readonly requestsFile?: string;
  /** `ip:port` of hosts to mark unhealthy from the start. */
  readonly unhealthy?: readonly string[];
  /** `ip:port` (or `*` for every other host) → latency distribution. */
  readonly latency?: ReadonlyMap<string, LatencyDist>;
  readonly timeline?: readonly TimelineEvent[];
  /** meshctl's weighted variant of RANDOM (Envoy ignores weights). */
  readonly weightedRandom?: boolean;
  /** Called every `progressEvery` requests (default 50,000) with the running report; the loop yields to the event loop. */
  readonly onProgress?: (report: SimReport, done: number, total: number | undefined) => void;
  readonly progressEvery?: number;
  /** Label for the report. */
  readonly configName?: string;
}

export class SimulateError extends Error {}

class ClusterState {
  readonly hostSet: HostSet;
  readonly balancer: ClusterBalancer;
  readonly hosts: readonly Host[];
  readonly index = new Map<Host, number>();
  readonly latency: (LatencyDist | undefined)[];
  private sharesVersion = -1;
  private shares: Float64Array = new Float64Array(0);

  constructor(
    readonly name: string,
    readonly cluster: Cluster,
    random: Random,
    weightedRandom: boolean,
  ) {
    this.hostSet = new HostSet(hostsFromCluster(cluster));
    this.balancer = createBalancer(cluster, this.hostSet, random, { weightedRandom });
    this.hosts = [...this.hostSet.hosts];
    this.hosts.forEach((h, i) => this.index.set(h, i));
    this.latency = this.hosts.map(() => undefined);
  }

  /** Expected share of each host (index order) under the current host set. */
  sharesNow(): Float64Array {
    if (this.sharesVersion !== this.hostSet.version) {
      const m = this.balancer.expectedShares();
      this.shares = Float64Array.from(this.hosts, (h) => m.get(h) ?? 0);
      this.sharesVersion = this.hostSet.version;
    }
    return this.shares;
  }
}

class PhaseStats {
  requests = 0;
  noHost = 0;
  readonly counts: Float64Array;
  readonly expected: Float64Array;
  constructor(n: number) {
    this.counts = new Float64Array(n);
    this.expected = new Float64Array(n);
  }
}

/** Which timeline phase the clock is in (the number of --at events applied so far). */
interface PhaseClock {
  phase: number;
  readonly track: boolean;
}

class RouteClusterStats {
  requests = 0;
  noHost = 0;
  panicPicks = 0;
  readonly counts: Float64Array;
  readonly expected: Float64Array;
  readonly latencySum: Float64Array;
  /** Per timeline phase, only when there is a timeline. */
  readonly phases: (PhaseStats | undefined)[] = [];
  private epochVersion = -1;
  private epochPhase = -1;
  private epochCount = 0;
  private epochShares: Float64Array = new Float64Array(0);

  constructor(
    readonly cs: ClusterState,
    private readonly clock: PhaseClock,
  ) {
    const n = cs.hosts.length;
    this.counts = new Float64Array(n);
    this.expected = new Float64Array(n);
    this.latencySum = new Float64Array(n);
  }

  /** Account one request routed here (before the pick), under the host set's current version. */
  begin(): void {
    this.requests++;
    const v = this.cs.hostSet.version;
    const p = this.clock.phase;
    if (v !== this.epochVersion || p !== this.epochPhase) {
      this.flush();
      this.epochVersion = v;
      this.epochPhase = p;
      this.epochShares = this.cs.sharesNow();
    }
    this.epochCount++;
    if (this.clock.track) this.phase(p).requests++;
  }

  /** A pick of host `idx`. */
  record(idx: number): void {
    this.counts[idx]!++;
    if (this.clock.track) this.phase(this.clock.phase).counts[idx]!++;
  }

  recordNoHost(): void {
    this.noHost++;
    if (this.clock.track) this.phase(this.clock.phase).noHost++;
  }

  phase(p: number): PhaseStats {
    let ph = this.phases[p];
    if (ph === undefined) this.phases[p] = ph = new PhaseStats(this.cs.hosts.length);
    return ph;
  }

  flush(): void {
    if (this.epochCount === 0) return;
    const s = this.epochShares;
    const ph = this.clock.track ? this.phase(this.epochPhase).expected : undefined;
    for (let i = 0; i < s.length; i++) {
      this.expected[i]! += this.epochCount * s[i]!;
      if (ph) ph[i]! += this.epochCount * s[i]!;
    }
    this.epochCount = 0;
  }
}

class RouteStats {
  requests = 0;
  direct = 0;
  redirect = 0;
  /** cluster_header missing, weights summing to 0. */
  noCluster = 0;
  /** Route names a cluster the config does not define. */
  clusterNotFound = 0;
  readonly clusters = new Map<string, RouteClusterStats>();
  /** The same stats by cluster id, for the per-request path. */
  readonly byId: (RouteClusterStats | undefined)[] = [];
  constructor(readonly route: CompiledRoute) {}
}

class ListenerStats {
  requests = 0;
  notFound = 0;
  readonly routes = new Map<CompiledRoute, RouteStats>();
  readonly defaultAuthority: string;
  constructor(readonly router: ListenerRouter) {
    this.defaultAuthority = defaultAuthority(router);
  }
}

/** A Host header that reaches the listener's first virtual host: its first domain with wildcards filled in. */
function defaultAuthority(router: ListenerRouter): string {
  const d = router.virtualHosts[0]?.config.domains?.[0];
  if (d === undefined || d === '*') return 'localhost';
  if (d.startsWith('*')) return `www${d.slice(1)}`;
  if (d.endsWith('*')) return `${d.slice(0, -1)}local`;
  return d;
}

/** Min-heap of in-flight completions on the virtual clock. */
class CompletionQueue {
  private times: number[] = [];
  private hosts: Host[] = [];
  get size(): number {
    return this.times.length;
  }
  push(time: number, host: Host): void {
    const t = this.times;
    const h = this.hosts;
    let k = t.length;
    t.push(time);
    h.push(host);
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (t[p]! <= time) break;
      t[k] = t[p]!;
      h[k] = h[p]!;
      k = p;
    }
    t[k] = time;
    h[k] = host;
  }
  /** Completes (activeRequests--) everything due at or before `now`. */
  drain(now: number): void {
    const t = this.times;
    const h = this.hosts;
    while (t.length > 0 && t[0]! <= now) {
      h[0]!.activeRequests--;
      const lastT = t.pop()!;
      const lastH = h.pop()!;
      const n = t.length;
      if (n === 0) break;
      let k = 0;
      for (;;) {
        let c = 2 * k + 1;
        if (c >= n) break;
        if (c + 1 < n && t[c + 1]! < t[c]!) c++;
        if (t[c]! >= lastT) break;
        t[k] = t[c]!;
        h[k] = h[c]!;
        k = c;
      }
      t[k] = lastT;
      h[k] = lastH;
    }
  }
}

export async function runSimulation(config: Bootstrap, opts: SimulateOptions = {}): Promise<SimReport> {
  const seed = opts.seed ?? 1;
  // The same streams `run --seed` draws from (weighted clusters, each cluster's balancer), plus the simulator's own.
  const random = new RandomStreams(seed);
  const trafficRandom = random.stream('traffic');
  const latencyRandom = random.stream('latency');
  const rps = opts.rps ?? 1000;
  if (!(rps > 0)) throw new SimulateError('--rps must be greater than 0');
  const interval = 1000 / rps;

  const router = compileRouter(config);
  let listeners = router.listeners.map((l) => new ListenerStats(l));
  if (listeners.length === 0) throw new SimulateError('the config has no listener with an HTTP connection manager and routes to simulate');
  if (opts.listener !== undefined) {
    const only = listeners.find((l) => l.router.name === opts.listener);
    if (!only) {
      const names = listeners.map((l) => l.router.name);
      const hint = didYouMean(opts.listener, names);
      throw new SimulateError(`no listener named ${JSON.stringify(opts.listener)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; listeners: ${names.join(', ')}`);
    }
    listeners = [only];
  }
  const listenerByName = new Map(listeners.map((l) => [l.router.name, l]));
  const clusterNames = router.clusterIds.names;

  const clusters = new Map<string, ClusterState>();
  (config.static_resources?.clusters ?? []).forEach((c, i) => {
    const name = c.name ?? `cluster-${i}`;
    if (!clusters.has(name)) clusters.set(name, new ClusterState(name, c, random.balancer(name), opts.weightedRandom ?? false));
  });

  const clusterById = clusterNames.map((n) => clusters.get(n));
  const hostsAt = (address: string, what: string): { cs: ClusterState; host: Host }[] => {
    const found: { cs: ClusterState; host: Host }[] = [];
    for (const cs of clusters.values()) for (const h of cs.hosts) if (h.address === address) found.push({ cs, host: h });
    if (found.length === 0) {
      const all = [...new Set([...clusters.values()].flatMap((cs) => cs.hosts.map((h) => h.address)))];
      const hint = didYouMean(address, all);
      throw new SimulateError(`${what}: no endpoint ${address} in any cluster${hint ? ` (did you mean ${hint}?)` : ''}; endpoints: ${all.join(', ') || 'none'}`);
    }
    return found;
  };
  for (const a of opts.unhealthy ?? []) for (const { cs, host } of hostsAt(a, '--unhealthy')) cs.hostSet.setHealthFlag(host, 'active-hc', true);
  let anyLatency = false;
  if (opts.latency && opts.latency.size > 0) {
    const fallback = opts.latency.get('*');
    for (const [address, d] of opts.latency) {
      if (address === '*') continue;
      for (const { cs, host } of hostsAt(address, '--latency')) cs.latency[cs.index.get(host)!] = d;
    }
    if (fallback) for (const cs of clusters.values()) cs.latency.forEach((d, i) => (cs.latency[i] = d ?? fallback));
    anyLatency = true;
  }
  const timeline = [...(opts.timeline ?? [])].sort((a, b) => a.atMs - b.atMs);
  const timelineTargets = timeline.map((e) => hostsAt(e.address, `--at ${e.atMs}ms:${e.action}`));
  const timelineDone: TimelineEntry[] = [];
  const phaseClock: PhaseClock = { phase: 0, track: timeline.length > 0 };

  const total =
    opts.requests ?? (opts.durationMs !== undefined ? Math.floor((rps * opts.durationMs) / 1000) : opts.requestsFile !== undefined ? undefined : 10_000);
  const synthetic = new SyntheticTraffic(
    {
      hosts: opts.hosts ?? [],
      paths: opts.paths && opts.paths.length > 0 ? opts.paths : ['/'],
      methods: opts.methods && opts.methods.length > 0 ? opts.methods : ['GET'],
      headers: opts.headers ?? new Map(),
    } satisfies SyntheticMix,
    trafficRandom,
  );

  // Synthetic traffic without --host goes to each listener's first virtual host.
  const fillAuthority = (opts.hosts ?? []).length === 0 && opts.requestsFile === undefined;
  let current: SimRequest = synthetic.next('');
  const lookup: HeaderLookup = (name) => current.headers[name];
  const sourceIp = (): string | undefined => current.sourceIp;
  const routed = new RouteResult();
  const completions = new CompletionQueue();
  let timelineIndex = 0;
  let done = 0;
  let now = 0;
  const progressEvery = opts.progressEvery ?? 50_000;
  const report = (): SimReport =>
    buildReport(listeners, {
      config: opts.configName,
      seed,
      rps,
      requests: done,
      virtualMs: now,
      timeline: timelineDone,
      latency: anyLatency,
      phaseBounds: [0, ...timeline.map((e) => e.atMs)],
    });

  const simulateOne = (req: SimRequest): void => {
    now = done * interval;
    while (timelineIndex < timeline.length && timeline[timelineIndex]!.atMs <= now) {
      const e = timeline[timelineIndex]!;
      for (const { cs, host } of timelineTargets[timelineIndex]!) cs.hostSet.setHealthFlag(host, 'active-hc', e.action === 'down');
      timelineDone.push({ atMs: e.atMs, action: e.action, address: e.address, afterRequests: done });
      timelineIndex++;
      phaseClock.phase = timelineIndex;
    }
    if (anyLatency) completions.drain(now);
    done++;
    current = req;
    let ls: ListenerStats | undefined;
    if (req.listener !== undefined) {
      ls = listenerByName.get(req.listener);
      if (!ls) throw new SimulateError(`request ${done}: no listener named ${JSON.stringify(req.listener)}`);
    } else ls = listeners.length === 1 ? listeners[0]! : listeners[done % listeners.length]!;
    ls.requests++;
    const authority = fillAuthority && req.authority === '' ? ls.defaultAuthority : req.authority;
    const route = routeRequest(ls.router, authority, req.path, req.method, lookup, sourceIp, random.route, routed);
    if (route === undefined) {
      ls.notFound++;
      return;
    }
    let rs = ls.routes.get(route);
    if (!rs) ls.routes.set(route, (rs = new RouteStats(route)));
    rs.requests++;
    if (route.kind === 'direct_response') {
      rs.direct++;
      return;
    }
    if (route.kind === 'redirect') {
      rs.redirect++;
      return;
    }
    const cid = routed.clusterId;
    let rcs = cid >= 0 ? rs.byId[cid] : undefined;
    if (rcs === undefined) {
      // First request of this route to this cluster (or a cluster_header naming a cluster no route names).
      const clusterName = routed.clusterName;
      if (clusterName === undefined) {
        rs.noCluster++;
        return;
      }
      const cs = cid >= 0 ? clusterById[cid] : clusters.get(clusterName);
      if (!cs) {
        rs.clusterNotFound++;
        return;
      }
      rcs = rs.clusters.get(clusterName);
      if (!rcs) rs.clusters.set(clusterName, (rcs = new RouteClusterStats(cs, phaseClock)));
      if (cid >= 0) rs.byId[cid] = rcs;
    }
    const cs = rcs.cs;
    rcs.begin();
    const hash = routed.hash;
    const host = cs.balancer.pick(hash === undefined ? undefined : { hash });
    if (host === undefined) {
      rcs.recordNoHost();
      return;
    }
    if (cs.balancer.lastPickInPanic) rcs.panicPicks++;
    const idx = cs.index.get(host)!;
    rcs.record(idx);
    if (anyLatency) {
      const d = cs.latency[idx];
      if (d !== undefined) {
        const ms = sampleLatency(d, latencyRandom);
        rcs.latencySum[idx]! += ms;
        if (ms > 0) {
          host.activeRequests++;
          completions.push(now + ms, host);
        }
      }
    }
  };

  const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));
  if (opts.requestsFile !== undefined) {
    for (;;) {
      let replayed = 0;
      for await (const req of readReplayFile(opts.requestsFile)) {
        if (total !== undefined && done >= total) break;
        simulateOne(req);
        replayed++;
        if (opts.onProgress && done % progressEvery === 0) opts.onProgress(report(), done, total);
      }
      // With --requests larger than the file, the file is replayed again until the count is reached.
      if (total === undefined || done >= total || replayed === 0) break;
    }
  } else {
    const n = total ?? 10_000;
    while (done < n) {
      const end = Math.min(n, done + progressEvery);
      while (done < end) {
        const req = synthetic.next('');
        simulateOne(req);
      }
      if (opts.onProgress) {
        opts.onProgress(report(), done, n);
        await yieldNow();
      }
    }
  }
  return report();
}

interface ReportMeta {
  config: string | undefined;
  seed: number | string;
  rps: number;
  requests: number;
  virtualMs: number;
  timeline: TimelineEntry[];
  latency: boolean;
  /** Start time of each timeline phase (phase 0 starts at 0). */
  phaseBounds: number[];
}

function buildReport(listeners: ListenerStats[], meta: ReportMeta): SimReport {
  const out: ListenerReport[] = listeners.map((ls) => {
    const routes: RouteReport[] = [];
    // Report routes in config order (virtual host, then route), whatever order traffic found them in.
    const ordered = [...ls.routes.values()].sort((a, b) => a.route.vhost.index - b.route.vhost.index || a.route.index - b.route.index);
    for (const rs of ordered) {
      const r = rs.route;
      const clusters: ClusterReport[] = [];
      const weights = r.weighted;
      const names = weights ? weights.clusters.map((c) => c.name) : r.cluster !== undefined ? [r.cluster] : [];
      for (const name of new Set([...names, ...rs.clusters.keys()])) {
        const rcs = rs.clusters.get(name);
        const weight = weights?.clusters.filter((c) => c.name === name).reduce((a, c) => a + c.weight, 0);
        const expectedShare = weights ? (weights.total > 0 ? weight! / weights.total : 0) : r.kind === 'cluster' ? 1 : undefined;
        clusters.push(clusterReport(name, rcs, rs.requests, expectedShare, meta.latency, meta.phaseBounds));
      }
      routes.push({
        id: r.id,
        virtualHost: r.vhost.name,
        route: r.name,
        match: r.matchText,
        kind: r.kind,
        requests: rs.requests,
        directResponses: rs.direct,
        redirects: rs.redirect,
        noCluster: rs.noCluster,
        clusterNotFound: rs.clusterNotFound,
        clusterNotFoundStatus: r.clusterNotFoundStatus,
        directResponseStatus: r.directResponse?.status,
        clusters,
      });
    }
    return { name: ls.router.name, requests: ls.requests, notFound: ls.notFound, routes };
  });
  return {
    version: 1,
    config: meta.config ?? null,
    seed: meta.seed,
    requests: meta.requests,
    rps: meta.rps,
    virtualDurationMs: meta.virtualMs,
    listeners: out,
    timeline: [...meta.timeline],
  };
}

function clusterReport(
  name: string,
  rcs: RouteClusterStats | undefined,
  routeRequests: number,
  expectedShare: number | undefined,
  latency: boolean,
  phaseBounds: number[],
): ClusterReport {
  if (!rcs) {
    return {
      name,
      policy: undefined,
      requests: 0,
      share: 0,
      expectedShare,
      noHost: 0,
      panicPicks: 0,
      chiSquare: undefined,
      degreesOfFreedom: 0,
      pValue: undefined,
      endpoints: [],
    };
  }
  rcs.flush();
  const cs = rcs.cs;
  const picked = rcs.requests - rcs.noHost;
  const endpoints: EndpointReport[] = cs.hosts.map((h, i) => {
    const count = rcs.counts[i]!;
    const share = picked > 0 ? count / picked : 0;
    const exp = rcs.requests > 0 ? rcs.expected[i]! / rcs.requests : 0;
    const e: EndpointReport = {
      address: h.address,
      priority: h.priority,
      weight: h.weight,
      health: h.health,
      count,
      share,
      expectedShare: exp,
      deviation: share - exp,
    };
    if (latency) e.meanLatencyMs = count > 0 ? rcs.latencySum[i]! / count : undefined;
    return e;
  });
  const chi = chiSquareTest(rcs.counts, Array.from(rcs.expected));
  const out: ClusterReport = {
    name,
    policy: cs.balancer.settings.policy,
    requests: rcs.requests,
    share: routeRequests > 0 ? rcs.requests / routeRequests : 0,
    expectedShare,
    noHost: rcs.noHost,
    panicPicks: rcs.panicPicks,
    chiSquare: Number.isFinite(chi.statistic) ? chi.statistic : undefined,
    degreesOfFreedom: chi.degreesOfFreedom,
    pValue: chi.pValue,
    endpoints,
  };
  if (rcs.phases.length > 0) {
    const phases: PhaseReport[] = [];
    rcs.phases.forEach((ph, p) => {
      if (ph === undefined || ph.requests === 0) return;
      const picked = ph.requests - ph.noHost;
      phases.push({
        fromMs: phaseBounds[p] ?? 0,
        toMs: p + 1 < phaseBounds.length ? phaseBounds[p + 1]! : null,
        requests: ph.requests,
        noHost: ph.noHost,
        endpoints: cs.hosts.map((h, i) => ({
          address: h.address,
          count: ph.counts[i]!,
          share: picked > 0 ? ph.counts[i]! / picked : 0,
          expectedShare: ph.expected[i]! / ph.requests,
        })),
      });
    });
    out.phases = phases;
  }
  if (latency) {
    const sum = rcs.latencySum.reduce((a, b) => a + b, 0);
    out.meanLatencyMs = picked > 0 ? sum / picked : undefined;
  }
  return out;
}
