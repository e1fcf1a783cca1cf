/**
 * The shared modules the proxy runs on: the upstream cluster manager (src/upstream) and the router (src/router),
 * loaded lazily so the proxy's own modules stay importable on their own.
 */
import type { Bootstrap } from '../config/model.js';
import type { ClusterManager, ClusterManagerOptions } from '../upstream/types.js';
import type { RouterFactory } from './routing.js';

export async function defaultClusterManager(config: Bootstrap, opts: ClusterManagerOptions): Promise<ClusterManager> {
  const spec = '../upstream/cluster-manager.js';
  const m = (await import(spec)) as { createClusterManager(c: Bootstrap, o: ClusterManagerOptions): ClusterManager };
  return m.createClusterManager(config, opts);
}

export async function defaultRouterFactory(config: Bootstrap): Promise<RouterFactory> {
  void config;
  throw new Error('the shared router (src/router) is not available yet');
}
