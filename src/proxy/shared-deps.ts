/**
 * The shared modules the proxy runs on: the upstream cluster manager (src/upstream) and the router (src/router,
 * the same one `simulate` uses), adapted to the proxy's per-listener match function.
 */
import type { Bootstrap, ClusterWeight, HttpConnectionManager } from '../config/model.js';
import type { Random } from '../balancer/types.js';
import type { ClusterManager, ClusterManagerOptions } from '../upstream/types.js';
import { compileRouter, routeHash, selectCluster, type ListenerRouter as SharedListenerRouter } from '../router/index.js';
import type { Decision, ListenerRouter, RouterFactory } from './routing.js';

export async function defaultClusterManager(config: Bootstrap, opts: ClusterManagerOptions): Promise<ClusterManager> {
  const m = await import('../upstream/cluster-manager.js');
  return m.createClusterManager(config, opts);
}

const NONE: Decision = { kind: 'none' };

/** Routes through src/router: `compileRouter` once per config, `match` + `selectCluster` + `routeHash` per request. */
export function sharedRouterFactory(random: Random): (config: Bootstrap) => RouterFactory {
  return (config) => {
    const compiled = compileRouter(config);
    const listeners = config.static_resources?.listeners ?? [];
    return (hcm: HttpConnectionManager, index: number): ListenerRouter => {
      const l = listeners[index];
      const shared: SharedListenerRouter | undefined = compiled.listeners.find((r) => r.listener === l);
      if (shared === undefined) return { routeConfig: hcm.route_config, match: () => NONE };
      // Weighted-cluster entries by route and name, so per-cluster headers and host rewrites apply.
      const weightedByRoute = new WeakMap<object, Map<string, ClusterWeight>>();
      return {
        routeConfig: hcm.route_config,
        match(authority, path, method, header, sourceIp): Decision {
          const r = shared.match(authority, path, method, header);
          if (r === undefined) return NONE;
          const route = r.config;
          const vhost = r.vhost.config;
          if (r.kind === 'redirect') return { kind: 'redirect', route, vhost };
          if (r.kind === 'direct_response') return { kind: 'direct', route, vhost };
          const clusterName = selectCluster(r, random, header) ?? '';
          let weighted: ClusterWeight | undefined;
          if (r.kind === 'weighted_clusters') {
            let m = weightedByRoute.get(route);
            if (m === undefined) {
              m = new Map((route.route?.weighted_clusters?.clusters ?? []).map((c) => [c.name ?? '', c]));
              weightedByRoute.set(route, m);
            }
            weighted = m.get(clusterName);
          }
          const hash = r.hashPolicies !== undefined ? routeHash(r, header, { sourceIp: sourceIp?.(), path }) : undefined;
          return { kind: 'cluster', route, vhost, clusterName, weighted, hash };
        },
      };
    };
  };
}
