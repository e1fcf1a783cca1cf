/**
 * The contract between the proxy's data path (src/proxy) and the upstream side (src/upstream): clusters with their
 * host sets, balancers, circuit breakers, passive and active health, and discovery. The proxy asks for a cluster by
 * name, picks through its balancer, and reports every attempt's outcome back, so outlier detection sees what the
 * data path saw. Implemented by src/upstream/cluster-manager.ts.
 */
import type { Bootstrap, Cluster } from '../config/model.js';
import type { Balancer, Clock, Host, HostSetView } from '../balancer/types.js';
import type { RandomStreams } from '../balancer/random.js';
import type { Timers } from '../time/timers.js';
import type { XdsObserver } from '../discovery/xds.js';

/** How one upstream attempt ended. */
export type UpstreamOutcome =
  | { readonly kind: 'response'; readonly status: number }
  | { readonly kind: 'connect-failure' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'timeout' };

/** Circuit-breaker resources (Envoy's thresholds at default priority). */
export type BreakerResource = 'connections' | 'pending' | 'requests' | 'retries';

export interface UpstreamCluster {
  readonly name: string;
  readonly config: Cluster;
  readonly hosts: HostSetView;
  readonly balancer: Balancer;
  /** False when the resource is at its circuit-breaker limit (the caller answers 503 at once and counts overflow). */
  tryAcquire(resource: BreakerResource): boolean;
  release(resource: BreakerResource): void;
  /** An attempt to `host` starts (activeRequests++, for LEAST_REQUEST and /clusters). */
  onAttemptStart(host: Host): void;
  /** An attempt ended (activeRequests--, outlier detection, per-host counters). */
  onAttemptEnd(host: Host, outcome: UpstreamOutcome, latencyMs: number): void;
}

export interface ClusterManagerOptions {
  /** Each cluster draws from its own streams: one for its balancer, one for its health checks and outlier detection. */
  readonly random: RandomStreams;
  readonly clock: Clock;
  /** Rewrites an endpoint address before it is used (`meshctl run --map-endpoint 10.244.0.2:80=127.0.0.1:18080`). */
  readonly mapEndpoint?: (ip: string, port: number) => { ip: string; port: number };
  /** Overrides the config's DNS nameservers (tests point this at their own DNS server on 127.0.0.1). */
  readonly dnsServers?: readonly string[];
  /** Where discovery and health-check events are logged. */
  readonly log?: (line: string) => void;
  /** Timers for health checks, ejection sweeps and discovery polls (default: node's, unref'd). Tests pass a ManualClock. */
  readonly timers?: Timers;
  /** Disable active health checks (e.g. `simulate`, which models health from flags). Default false. */
  readonly disableHealthChecks?: boolean;
  /** Directory that relative TLS file names (a cluster's transport_socket) resolve against; default the cwd. */
  readonly baseDir?: string;
  /** Where listeners and route configurations from LDS/RDS go (the proxy); without it they are fetched but unused. */
  readonly xdsObserver?: XdsObserver;
}

export interface ClusterManager {
  get(name: string): UpstreamCluster | undefined;
  clusters(): Iterable<UpstreamCluster>;
  /** Hot reload: clusters added, removed or changed; hosts that stay keep their health and counters. */
  applyConfig(config: Bootstrap): void;
  /** Add or replace one cluster (CDS). */
  upsertCluster(cluster: Cluster): void;
  removeCluster(name: string): void;
  /** Stop health checks, discovery and timers. */
  close(): Promise<void>;
  /**
   * Resolves once initial discovery has had its first answer (DNS resolved, refresh service / xDS first response,
   * first health-check round), or failed: Envoy's cluster warming. Optional so fakes need not implement it.
   */
  ready?(): Promise<void>;
}
