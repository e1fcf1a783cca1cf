/**
 * The balancer's contracts. src/balancer imports only model types and these interfaces, never node:net or http, so
 * `meshctl simulate` (seeded Random, virtual Clock) and `meshctl run` (real random, real clock) drive the very same
 * code: the simulator predicts the proxy.
 */
import type { PriorityPlan } from './priority.js';

/** A source of randomness. The simulator passes a seeded generator; the proxy a fast non-crypto one. */
export interface Random {
  /** A uniformly distributed integer in [0, 2^32). */
  nextU32(): number;
  /** A uniformly distributed float in [0, 1). */
  next(): number;
}

/** Monotonic milliseconds. The simulator passes a virtual clock; the proxy performance.now(). */
export interface Clock {
  now(): number;
}

/** Health of one host, as Envoy's health flags reduce to for load balancing. */
export type HostHealth = 'healthy' | 'degraded' | 'unhealthy';

/** One upstream host of a cluster, as the balancer sees it. Mutable state is updated by health checks, outlier
 * detection and discovery through the HostSet, never by the balancer itself. */
export interface Host {
  /** `ip:port` (or `[v6]:port`); unique within a cluster. */
  readonly address: string;
  readonly ip: string;
  readonly port: number;
  /** load_balancing_weight, ≥ 1. */
  readonly weight: number;
  readonly priority: number;
  /** Optional hostname (DNS-discovered hosts, endpoint.hostname). */
  readonly hostname?: string;
  /** `region/zone/sub_zone` of the endpoint's locality, when it has one (locality-weighted balancing). */
  readonly locality?: string;
  /** The locality's load_balancing_weight (LocalityLbEndpoints), when set. */
  readonly localityWeight?: number;
  health: HostHealth;
  /** Requests in flight to this host (maintained by the caller through onStart/onResult). */
  activeRequests: number;
  /** Where active health checks go when the endpoint's health_check_config names another port (after --map-endpoint). */
  readonly healthCheckAddress?: { readonly ip: string; readonly port: number };
  /** health_check_config.hostname: the Host of this endpoint's HTTP health checks, over the cluster's. */
  readonly healthCheckHostname?: string;
  /** health_check_config.disable_active_health_check: the cluster's health checkers leave this host alone. */
  readonly activeHealthCheckDisabled?: boolean;
}

/** Per-request inputs a policy may use. */
export interface PickContext {
  /** A 64-bit hash from the route's hash_policy (as a bigint), or undefined when none applies. */
  readonly hash?: bigint;
  /** Hosts to avoid (retries): a retry goes to a different host when one exists. */
  readonly exclude?: ReadonlySet<Host>;
  /** With `exclude`: ask the policy again at most this many times, then keep its last choice (Envoy's
   * host_selection_retry_max_attempts); unset: keep asking, then take any host not excluded. */
  readonly reselect?: number;
  /** A retry priority's load per priority (healthy, degraded) in place of the cluster's (retry-priority.ts). */
  readonly priorityLoad?: { readonly healthy: readonly number[]; readonly degraded: readonly number[] };
}

/** Picks a host for each request of one cluster. */
export interface Balancer {
  /** The chosen host, or undefined when the cluster has no host to send to (503 UH). */
  pick(ctx?: PickContext): Host | undefined;
  /** Whether the last pick was made in panic mode (too few healthy hosts). */
  readonly lastPickInPanic: boolean;
  /** The priority plan the picks follow now (loads, panic, per-priority availability). */
  currentPlan(): PriorityPlan;
}

/** Why a host is out of the healthy set. Envoy keeps these flags apart; a host is unhealthy while any is set. */
export type HealthFlag = 'active-hc' | 'outlier' | 'discovery';

/** What discovery and config loading know about a host before it has any runtime state. */
export interface HostInit {
  readonly ip: string;
  readonly port: number;
  readonly weight: number;
  readonly priority: number;
  readonly hostname?: string;
  /** `region/zone/sub_zone` of the endpoint's locality, when it has one. */
  readonly locality?: string;
  /** The locality's load_balancing_weight, when set (used with common_lb_config.locality_weighted_lb_config). */
  readonly localityWeight?: number;
  /** Health the source declares (lb_endpoints[].health_status, or a discovery answer). Default healthy. */
  readonly health?: HostHealth;
  readonly healthCheckAddress?: { readonly ip: string; readonly port: number };
  readonly healthCheckHostname?: string;
  readonly activeHealthCheckDisabled?: boolean;
}

/**
 * The hosts of one cluster, shared by its balancer (reads), health checking, outlier detection and discovery
 * (writes). Implemented by src/balancer/host-set.ts. Balancers rebuild their tables lazily when `version` moves.
 */
export interface HostSetView {
  /** All hosts, by priority, then in source order. */
  readonly hosts: readonly Host[];
  /** Bumped on every change of membership, weight or health. */
  readonly version: number;
  /** Replace the membership (discovery answer, reload); hosts whose address stays keep their runtime state. */
  replace(hosts: readonly HostInit[]): void;
  /** Set or clear one health flag; `health` is recomputed from the flags. */
  setHealthFlag(host: Host, flag: HealthFlag, failed: boolean): void;
  /** Listen for changes (returns an unsubscribe function). */
  onChange(listener: () => void): () => void;
}
