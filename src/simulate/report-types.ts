/**
 * The simulator's report: the shape `--format json` prints (stable; `version` changes if it ever must). Shares are
 * fractions in [0, 1]; `deviation` = share − expectedShare.
 */
export interface SimReport {
  readonly version: 1;
  readonly config: string | null;
  readonly seed: number | string;
  readonly requests: number;
  readonly rps: number;
  readonly virtualDurationMs: number;
  readonly listeners: readonly ListenerReport[];
  readonly timeline: readonly TimelineEntry[];
}

export interface TimelineEntry {
  readonly atMs: number;
  readonly action: 'down' | 'up';
  readonly address: string;
  /** Requests simulated before the event took effect. */
  readonly afterRequests: number;
}

export interface ListenerReport {
  readonly name: string;
  readonly requests: number;
  /** Requests that matched no virtual host or route (Envoy answers 404 NR). */
  readonly notFound: number;
  readonly routes: readonly RouteReport[];
}

export interface RouteReport {
  /** `<virtual host>/<route name or index>` */
  readonly id: string;
  readonly virtualHost: string;
  readonly route: string;
  readonly match: string;
  readonly kind: 'cluster' | 'weighted_clusters' | 'cluster_header' | 'redirect' | 'direct_response';
  readonly requests: number;
  readonly directResponses: number;
  readonly directResponseStatus: number | undefined;
  readonly redirects: number;
  /** No cluster could be chosen (missing cluster header, weights summing to 0). */
  readonly noCluster: number;
  /** The chosen cluster is not defined (answered with clusterNotFoundStatus, 503 by default). */
  readonly clusterNotFound: number;
  readonly clusterNotFoundStatus: number;
  readonly clusters: readonly ClusterReport[];
}

export interface ClusterReport {
  readonly name: string;
  readonly policy: string | undefined;
  readonly requests: number;
  /** Of the route's requests. */
  readonly share: number;
  /** From weighted_clusters weights (1 for a single cluster route). */
  readonly expectedShare: number | undefined;
  /** The balancer had no host (503 UH). */
  readonly noHost: number;
  /** Picks made in panic mode (too few healthy hosts: all hosts used). */
  readonly panicPicks: number;
  readonly chiSquare: number | undefined;
  readonly degreesOfFreedom: number;
  /** Chi-square goodness-of-fit p-value of the endpoint counts against the expected shares. */
  readonly pValue: number | undefined;
  /**
   * What the test counted: requests, or, when a request hash chose the endpoints (RING_HASH / MAGLEV with a hash
   * policy), distinct hash keys, since every request with one key goes to one endpoint. With too few keys for the
   * test, chiSquare and pValue are undefined and chiSquareNote says why.
   */
  readonly chiSquareSamples: 'requests' | 'hash-keys';
  /** Distinct hash keys that chose endpoints (undefined when no hash did). */
  readonly hashKeys: number | undefined;
  /** Why the test does not apply, or what it counted, in words; undefined for a test over requests. */
  readonly chiSquareNote: string | undefined;
  readonly endpoints: readonly EndpointReport[];
  /** Mean latency of the cluster's picked requests (only with --latency). */
  meanLatencyMs?: number | undefined;
  /** The split between timeline events (only with --at); phases this cluster saw no request in are left out. */
  phases?: PhaseReport[];
}

export interface PhaseReport {
  readonly fromMs: number;
  /** null for the last phase (until the end of the simulation). */
  readonly toMs: number | null;
  readonly requests: number;
  readonly noHost: number;
  /** Same order as the cluster's endpoints. */
  readonly endpoints: readonly { address: string; count: number; share: number; expectedShare: number }[];
}

export interface EndpointReport {
  readonly address: string;
  readonly priority: number;
  readonly weight: number;
  /** Health at the end of the simulation. */
  readonly health: string;
  readonly count: number;
  /** Of the cluster's picked requests. */
  readonly share: number;
  /** From weights, health, priorities and panic, averaged over the timeline. */
  readonly expectedShare: number;
  readonly deviation: number;
  meanLatencyMs?: number | undefined;
}
