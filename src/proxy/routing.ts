/**
 * The proxy's view of routing: one match function per listener, built once per config. Backed by the shared router
 * (src/router), so `simulate` and `run` route identically.
 */
import type { ClusterWeight, HttpConnectionManager, Route, RouteConfiguration, VirtualHost } from '../config/model.js';

export type Decision =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'cluster';
      readonly route: Route;
      readonly vhost: VirtualHost;
      readonly clusterName: string;
      readonly weighted: ClusterWeight | undefined;
      /** The route's hash_policy result, for RING_HASH / MAGLEV. */
      readonly hash?: bigint | undefined;
    }
  | { readonly kind: 'direct'; readonly route: Route; readonly vhost: VirtualHost }
  | { readonly kind: 'redirect'; readonly route: Route; readonly vhost: VirtualHost };

export type HeaderLookup = (name: string) => string | undefined;
/** The downstream peer's address, asked for only by a hash policy on the source IP. */
export type PeerLookup = () => string | undefined;

export interface ListenerRouter {
  readonly routeConfig: RouteConfiguration | undefined;
  match(authority: string, path: string, method: string, header: HeaderLookup, sourceIp?: PeerLookup): Decision;
}

export type RouterFactory = (hcm: HttpConnectionManager, listenerIndex: number) => ListenerRouter;
