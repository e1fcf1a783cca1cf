/**
 * The shares the simulator expects, before any request is simulated: a route's split over its clusters (from
 * weighted_clusters weights) and a cluster's split over its endpoints (from its balancer under the declared health).
 * The report (./report.ts) and `meshctl graph` (src/graph/) both read them here, so a picture and a simulation never
 * disagree on what a weight means.
 */
import type { Cluster } from '../config/model.js';
import { RandomStreams } from '../balancer/random.js';
import type { CompiledRoute } from '../router/index.js';
import { ClusterState } from './tally.js';

/**
 * The share of a route's requests `cluster` is expected to get: its weighted_clusters weight over the total (Envoy
 * ignores total_weight since 1.24), 1 for a route that names one cluster, undefined when no weight decides it
 * (cluster_header, redirect, direct response).
 */
export function expectedClusterShare(route: CompiledRoute<unknown>, cluster: string): number | undefined {
  const weights = route.weighted;
  if (weights) return weights.total > 0 ? clusterWeight(route, cluster) / weights.total : 0;
  return route.kind === 'cluster' ? 1 : undefined;
}

/** A cluster's weight in a route's weighted_clusters: Envoy adds up the entries that name it (0 when none does). */
export function clusterWeight(route: CompiledRoute<unknown>, cluster: string): number {
  return (route.weighted?.clusters ?? []).filter((c) => c.name === cluster).reduce((a, c) => a + c.weight, 0);
}

/**
 * Each endpoint's expected share of the cluster's picks, keyed by `ip:port`, from the same balancer `simulate` and
 * `run` build (weights, priorities, localities, declared health, panic).
 */
export function expectedEndpointShares(name: string, cluster: Cluster, weightedRandom = false): Map<string, number> {
  const cs = new ClusterState(name, cluster, new RandomStreams(1).balancer(name), weightedRandom);
  const shares = cs.sharesNow();
  return new Map(cs.hosts.map((h, i) => [h.address, shares[i]!]));
}
