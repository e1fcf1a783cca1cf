/**
 * What the xDS client adds to the protocol's names and shapes (config/envoy-api/xds-protocol.ts): Envoy's REST-JSON
 * paths, the status a NACK carries, and the name a resource is known by.
 */
import type { ResourceJson, XdsKind } from '../config/envoy-api/xds-protocol.js';

/** Envoy's v3 REST-JSON paths (`POST /v3/discovery:clusters`). */
export const REST_PATH: Readonly<Record<XdsKind, string>> = {
  CDS: '/v3/discovery:clusters',
  EDS: '/v3/discovery:endpoints',
  LDS: '/v3/discovery:listeners',
  RDS: '/v3/discovery:routes',
};

/** gRPC status INVALID_ARGUMENT, what Envoy puts in a NACK's error_detail. */
export const INVALID_ARGUMENT = 3;

/** The name a resource is known by: `name`, or a load assignment's `cluster_name`. */
export function resourceName(kind: XdsKind, r: ResourceJson): string | undefined {
  const n = kind === 'EDS' ? (r.cluster_name ?? r.clusterName) : r.name;
  return typeof n === 'string' && n !== '' ? n : undefined;
}
