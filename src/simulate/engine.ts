/**
 * The simulation loop: requests arrive on a virtual clock (one every 1/rps seconds), go through the shared router and
 * balancer exactly as `meshctl run` would route them, and are tallied per listener → route → cluster → endpoint.
 * Endpoint latencies (optional) keep requests in flight on the virtual clock, so LEAST_REQUEST sees active requests;
 * timeline events flip health at given times. Only aggregates are kept: memory does not grow with the request count.
 */
import type { Bootstrap } from '../config/model.js';
import { UsageError } from '../config/usage-error.js';
import { RandomStreams } from '../balancer/random.js';
import type { Host } from '../balancer/types.js';
import { RouteResult, compileRouter, routeRequest, type HeaderLookup } from '../router/index.js';
import { didYouMean } from '../config/suggest.js';
import { type LatencyDist, sampleLatency } from './latency.js';
import { type SimRequest, type SyntheticMix, SyntheticTraffic, readReplayFile } from './traffic.js';
import { buildReport } from './report.js';
import { ClusterState, ListenerStats, RouteClusterStats, RouteStats, type PhaseClock } from './tally.js';
import type { SimReport, TimelineEntry } from './report-types.js';

export interface TimelineEvent {
  readonly atMs: number;
  readonly action: 'down' | 'up';
  /** `ip:port` */
  readonly address: string;
}

interface SimulateOptions {
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

export class SimulateError extends UsageError {}

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
    if (hash !== undefined && cs.balancer.hashPolicy) rcs.recordHash(hash, idx);
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
