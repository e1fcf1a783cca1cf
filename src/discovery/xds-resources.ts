/**
 * The xDS resource types meshctl speaks, and the DiscoveryRequest/Response shapes (state of the world and delta) in
 * proto3 JSON with proto field names — the form REST-JSON carries as is and the gRPC codecs (xds-messages.ts) turn
 * into bytes. Shared by the client (`meshctl run`) and any control plane built on these pieces.
 */

export const LISTENER_TYPE = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE_TYPE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

/** The four services of the xDS protocol, in the order Envoy initialises them (clusters before listeners). */
export type XdsKind = 'CDS' | 'EDS' | 'LDS' | 'RDS';

export const TYPE_URL: Readonly<Record<XdsKind, string>> = { CDS: CLUSTER_TYPE, EDS: ENDPOINT_TYPE, LDS: LISTENER_TYPE, RDS: ROUTE_TYPE };

const KIND_OF_URL = new Map<string, XdsKind>(Object.entries(TYPE_URL).map(([k, v]) => [v, k as XdsKind]));

export function kindOf(typeUrl: string): XdsKind | undefined {
  return KIND_OF_URL.get(typeUrl);
}

/** CDS and LDS subscribe to everything (wildcard); EDS and RDS by name. */
export function isWildcardKind(kind: XdsKind): boolean {
  return kind === 'CDS' || kind === 'LDS';
}

/** Envoy's v3 REST-JSON paths (`POST /v3/discovery:clusters`). */
export const REST_PATH: Readonly<Record<XdsKind, string>> = {
  CDS: '/v3/discovery:clusters',
  EDS: '/v3/discovery:endpoints',
  LDS: '/v3/discovery:listeners',
  RDS: '/v3/discovery:routes',
};

/** The gRPC methods: ADS (every type on one stream), and the per-type services. */
export const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
export const DELTA_ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';

/** A gRPC stream's two methods: state of the world and delta. */
export interface XdsMethods {
  readonly sotw: string;
  readonly delta: string;
}

export const ADS_METHODS: XdsMethods = { sotw: ADS_METHOD, delta: DELTA_ADS_METHOD };

/** The per-type services (a config source with its own api_config_source instead of `ads: {}`). */
export const SERVICE_METHODS: Readonly<Record<XdsKind, XdsMethods>> = {
  CDS: { sotw: '/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters', delta: '/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters' },
  EDS: { sotw: '/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints', delta: '/envoy.service.endpoint.v3.EndpointDiscoveryService/DeltaEndpoints' },
  LDS: { sotw: '/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners', delta: '/envoy.service.listener.v3.ListenerDiscoveryService/DeltaListeners' },
  RDS: { sotw: '/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes', delta: '/envoy.service.route.v3.RouteDiscoveryService/DeltaRoutes' },
};

export interface XdsNode {
  readonly id: string;
  readonly cluster: string;
  readonly user_agent_name?: string;
}

/** google.rpc.Status, the error_detail of a NACK. */
export interface RpcStatus {
  readonly code: number;
  readonly message: string;
}

/** gRPC status INVALID_ARGUMENT, what Envoy puts in a NACK's error_detail. */
export const INVALID_ARGUMENT = 3;

/** A resource in proto3 JSON: its fields, with `@type` naming its message. */
export type ResourceJson = Record<string, unknown>;

export interface DiscoveryRequestJson {
  version_info: string;
  node?: XdsNode;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: RpcStatus;
}

export interface DiscoveryResponseJson {
  readonly version_info?: string;
  readonly resources?: readonly ResourceJson[];
  readonly type_url?: string;
  readonly nonce?: string;
}

export interface DeltaDiscoveryRequestJson {
  node?: XdsNode;
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  /** On a new stream: the versions the client already has, so the server sends only what changed. */
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

/** envoy.service.discovery.v3.Resource: one named, versioned resource of a delta response. */
export interface DeltaResourceJson {
  readonly name?: string;
  readonly version?: string;
  readonly resource?: ResourceJson;
}

export interface DeltaDiscoveryResponseJson {
  readonly system_version_info?: string;
  readonly resources?: readonly DeltaResourceJson[];
  readonly type_url?: string;
  readonly removed_resources?: readonly string[];
  readonly nonce?: string;
}

/** The name a resource is known by: `name`, or a load assignment's `cluster_name`. */
export function resourceName(kind: XdsKind, r: ResourceJson): string | undefined {
  const n = kind === 'EDS' ? (r.cluster_name ?? r.clusterName) : r.name;
  return typeof n === 'string' && n !== '' ? n : undefined;
}
