/**
 * One Envoy ClusterLoadAssignment (proto3 JSON, snake_case or lowerCamelCase) → the hosts the balancer takes, judged
 * as the same assignment in a file would be (resource-judge.ts). The refresh service and EDS share it.
 */
import type { ClusterLoadAssignment } from '../config/model.js';
import type { HostInit } from '../balancer/types.js';
import { hostsFromCluster } from '../balancer/host-set.js';
import { judgeResources } from './resource-judge.js';

interface Decoded<T> {
  readonly value?: T;
  /** Errors that make the resource invalid (a NACK's error_detail). */
  readonly errors: string[];
}

/** One `envoy.config.endpoint.v3.ClusterLoadAssignment` resource. */
export function decodeLoadAssignment(resource: unknown, origin: string): Decoded<ClusterLoadAssignment> {
  const judged = judgeResources('EDS', [resource as Record<string, unknown>], origin);
  const value = judged.values.values().next().value;
  return judged.errors.length > 0 || value === undefined ? { errors: judged.errors } : { value, errors: [] };
}

/** The hosts of a load assignment (priorities, weights, health_status as Envoy reads them). */
export function hostsFromAssignment(cla: ClusterLoadAssignment): HostInit[] {
  return hostsFromCluster({ name: cla.cluster_name ?? '', load_assignment: cla });
}
