/**
 * What a simulation counts: per cluster its balancer and host set, per listener → route → cluster the requests,
 * picks per endpoint and the shares the balancer was expected to give (accumulated per host-set version, and per
 * timeline phase when there is a timeline).
 */
import type { Cluster } from '../config/model.js';
import { ClusterBalancer, createBalancer } from '../balancer/index.js';
import { HostSet, hostsFromCluster } from '../balancer/host-set.js';
import type { Host, Random } from '../balancer/types.js';
import type { CompiledRoute, ListenerRouter } from '../router/index.js';
import type { LatencyDist } from './latency.js';

export class ClusterState {
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
export interface PhaseClock {
  phase: number;
  readonly track: boolean;
}

/** Distinct hash keys remembered per route and cluster: beyond this many, the keys are plenty for the test. */
const MAX_HASH_KEYS = 100_000;

export class RouteClusterStats {
  requests = 0;
  noHost = 0;
  panicPicks = 0;
  /** Picks a request hash decided (RING_HASH / MAGLEV with a hash policy that yielded a value). */
  hashedPicks = 0;
  /** Distinct request hashes → the endpoint the last request with that hash went to (up to MAX_HASH_KEYS). */
  readonly hashKeys = new Map<bigint, number>();
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

  /** The pick of host `idx` was decided by request hash `hash`. */
  recordHash(hash: bigint, idx: number): void {
    this.hashedPicks++;
    if (this.hashKeys.size < MAX_HASH_KEYS || this.hashKeys.has(hash)) this.hashKeys.set(hash, idx);
  }

  /** Whether more distinct hashes were seen than are remembered. */
  get hashKeysCapped(): boolean {
    return this.hashKeys.size >= MAX_HASH_KEYS;
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

export class RouteStats {
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

export class ListenerStats {
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
