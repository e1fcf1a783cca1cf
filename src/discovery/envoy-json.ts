/**
 * Envoy v3 resources in proto3 JSON (as control planes and refresh services send them) → meshctl's model, through the
 * config layer's own Envoy reader, so a Cluster from CDS is read exactly as the same Cluster in a bootstrap file.
 * proto3 JSON writers use lowerCamelCase names (`connectTimeout`); readers must accept both, so keys are normalised
 * to snake_case first.
 */
import { parseConfig } from '../config/index.js';
import type { Cluster, ClusterLoadAssignment } from '../config/model.js';
import type { HostInit } from '../balancer/types.js';
import { hostsFromCluster } from '../balancer/host-set.js';

export const CLUSTER_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

/** Fields whose values are free-form (google.protobuf.Struct / Any payloads): their keys are data, not field names. */
const OPAQUE = new Set(['typed_extension_protocol_options', 'metadata', 'filter_metadata', 'typed_filter_metadata']);

/** lowerCamelCase keys → snake_case, recursively (`@type` and opaque payloads untouched). */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = k.startsWith('@') ? k : k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
    out[key] = OPAQUE.has(key) ? v : snakeKeys(v);
  }
  return out;
}

interface Decoded<T> {
  readonly value?: T;
  /** Errors that make the resource invalid (a NACK's error_detail). */
  readonly errors: string[];
}

function stripType(resource: unknown): Record<string, unknown> | undefined {
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) return undefined;
  const { ['@type']: _t, ...rest } = snakeKeys(resource) as Record<string, unknown>;
  return rest;
}

/** One `envoy.config.cluster.v3.Cluster` resource. */
export function decodeCluster(resource: unknown): Decoded<Cluster> {
  const body = stripType(resource);
  if (body === undefined) return { errors: ['a Cluster resource must be a JSON object'] };
  const r = parseConfig(JSON.stringify({ static_resources: { clusters: [body] } }), 'cds.json', { from: 'envoy' });
  const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
  const cluster = r.config?.static_resources?.clusters?.[0];
  if (errors.length === 0 && !cluster?.name) errors.push('a Cluster resource needs a name');
  return errors.length > 0 || cluster === undefined ? { errors } : { value: cluster, errors };
}

/** One `envoy.config.endpoint.v3.ClusterLoadAssignment` resource. */
export function decodeLoadAssignment(resource: unknown): Decoded<ClusterLoadAssignment> {
  const body = stripType(resource);
  if (body === undefined) return { errors: ['a ClusterLoadAssignment must be a JSON object'] };
  const r = parseConfig(JSON.stringify({ static_resources: { clusters: [{ name: 'eds', load_assignment: body }] } }), 'eds.json', { from: 'envoy' });
  const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
  const cla = r.config?.static_resources?.clusters?.[0]?.load_assignment ?? {};
  if (errors.length === 0) errors.push(...endpointErrors(cla));
  return errors.length > 0 ? { errors } : { value: cla, errors };
}

/** What makes an endpoint list unusable: a missing address, a port outside 1..65535, a weight of 0. */
function endpointErrors(cla: ClusterLoadAssignment): string[] {
  const out: string[] = [];
  for (const loc of cla.endpoints ?? []) {
    for (const lbe of loc.lb_endpoints ?? []) {
      const sa = lbe.endpoint?.address?.socket_address;
      if (!sa?.address) out.push('an lb_endpoint has no socket_address.address');
      else if (!Number.isInteger(sa.port_value) || sa.port_value! < 1 || sa.port_value! > 65535) out.push(`endpoint ${sa.address}: port_value must be 1..65535`);
      if (lbe.load_balancing_weight !== undefined && lbe.load_balancing_weight < 1) out.push(`endpoint ${sa?.address ?? '?'}: load_balancing_weight must be at least 1`);
    }
  }
  return out;
}

/** The hosts of a load assignment (priorities, weights, health_status as Envoy reads them). */
export function hostsFromAssignment(cla: ClusterLoadAssignment): HostInit[] {
  return hostsFromCluster({ name: cla.cluster_name ?? '', load_assignment: cla });
}
