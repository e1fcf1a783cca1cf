/**
 * The xDS protocol's names and message shapes, as Envoy's API declares them (envoy/service/discovery/v3/
 * discovery.proto, ads.proto and the per-type services; https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol):
 * the resource type URLs, the discovery services and their methods, and DiscoveryRequest/Response (state of the
 * world and delta) in proto3 JSON with proto field names. Both ends of xDS meshctl has use them: the client
 * (discovery/, `meshctl run`) and the control plane (control-plane/, `meshctl serve`).
 */

/** The message a type URL names: what follows its last `/` (https://protobuf.dev/programming-guides/proto3/#any). */
export function typeNameOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

export const LISTENER_TYPE = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE_TYPE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

/** The HTTP connection manager, whose `rds` names the RouteConfiguration a listener's routes come from. */
export const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** The four services of the xDS protocol, in the order Envoy initialises them (clusters before listeners). */
export type XdsKind = 'CDS' | 'EDS' | 'LDS' | 'RDS';

export const TYPE_URL: Readonly<Record<XdsKind, string>> = { CDS: CLUSTER_TYPE, EDS: ENDPOINT_TYPE, LDS: LISTENER_TYPE, RDS: ROUTE_TYPE };

const KIND_OF_URL = new Map<string, XdsKind>(Object.entries(TYPE_URL).map(([k, v]) => [v, k as XdsKind]));

export function kindOf(typeUrl: string): XdsKind | undefined {
  return KIND_OF_URL.get(typeUrl);
}

/** Types a client subscribes to as a whole when it names nothing (the xDS protocol's wildcard): LDS and CDS. */
export const WILDCARD_TYPES: ReadonlySet<string> = new Set([LISTENER_TYPE, CLUSTER_TYPE]);

export function isWildcardKind(kind: XdsKind): boolean {
  return WILDCARD_TYPES.has(TYPE_URL[kind]);
}

/** The messages of envoy.service.discovery.v3, by full name (what the wire codec encodes and decodes). */
export const DISCOVERY_REQUEST = 'envoy.service.discovery.v3.DiscoveryRequest';
export const DISCOVERY_RESPONSE = 'envoy.service.discovery.v3.DiscoveryResponse';
export const DELTA_DISCOVERY_REQUEST = 'envoy.service.discovery.v3.DeltaDiscoveryRequest';
export const DELTA_DISCOVERY_RESPONSE = 'envoy.service.discovery.v3.DeltaDiscoveryResponse';

/** A discovery service: its full name and the gRPC paths of its two streams, state of the world and delta. */
export interface XdsService {
  readonly name: string;
  readonly sotw: string;
  readonly delta: string;
}

function service(name: string, sotw: string, delta: string): XdsService {
  return { name, sotw: `/${name}/${sotw}`, delta: `/${name}/${delta}` };
}

/** ADS: every type on one stream. */
export const ADS_SERVICE = service('envoy.service.discovery.v3.AggregatedDiscoveryService', 'StreamAggregatedResources', 'DeltaAggregatedResources');

/** The per-type services (a config source with its own api_config_source instead of `ads: {}`). */
export const KIND_SERVICE: Readonly<Record<XdsKind, XdsService>> = {
  CDS: service('envoy.service.cluster.v3.ClusterDiscoveryService', 'StreamClusters', 'DeltaClusters'),
  EDS: service('envoy.service.endpoint.v3.EndpointDiscoveryService', 'StreamEndpoints', 'DeltaEndpoints'),
  LDS: service('envoy.service.listener.v3.ListenerDiscoveryService', 'StreamListeners', 'DeltaListeners'),
  RDS: service('envoy.service.route.v3.RouteDiscoveryService', 'StreamRoutes', 'DeltaRoutes'),
};

/** envoy.config.core.v3.Node, the fields meshctl sends and reads. */
export interface NodeJson {
  readonly id: string;
  readonly cluster: string;
  readonly user_agent_name?: string;
  readonly user_agent_version?: string;
}

/** google.rpc.Status, the error_detail of a NACK. */
export interface RpcStatus {
  readonly code: number;
  readonly message: string;
}

/** A resource in proto3 JSON: its fields, with `@type` naming its message. */
export type ResourceJson = Record<string, unknown>;

/**
 * A message as it is decoded: proto3 leaves a field at its default off the wire (an empty string, a zero code), so
 * any field, at any depth, may be absent. Lists stay lists.
 */
export type Decoded<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Decoded<T[K]> : T[K] };

/** A request as meshctl's client writes it: every field of state of the world set (a server reads a `Decoded` one). */
export interface DiscoveryRequestJson {
  version_info: string;
  node?: NodeJson;
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
  node?: NodeJson;
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  /** On a new stream: the versions the client already has, so the server sends only what changed. */
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

/** envoy.service.discovery.v3.Resource: one named, versioned resource of a delta response. */
interface DeltaResourceJson {
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
