/**
 * The admin server's JSON bodies in Envoy's own shapes (envoy/admin/v3/config_dump_shared.proto, clusters.proto), so
 * tools written for Envoy's admin read meshctl's:
 * - /config_dump: BootstrapConfigDump, then ClustersConfigDump (static_clusters, dynamic_active_clusters,
 *   dynamic_warming_clusters with version_info and last_updated), ListenersConfigDump (static_listeners,
 *   dynamic_listeners with active_state / warming_state) and RoutesConfigDump (static_route_configs — the inline
 *   ones —, dynamic_route_configs), each resource packed as an Any with Envoy's type URL;
 * - /clusters?format=json: Clusters { cluster_statuses: ClusterStatus { name, added_via_api, circuit_breakers,
 *   host_statuses: HostStatus { address.socket_address, stats (SimpleMetric), health_status, weight, priority } } }.
 * Fields follow proto3 JSON: defaults left out, uint64 written as text.
 */
import type { Bootstrap, Listener, RouteConfiguration } from '../config/model.js';
import { connectionManager } from '../config/connection-manager.js';
import type { XdsDump } from '../discovery/xds.js';
import type { XdsResource } from '../discovery/xds-core.js';
import { CLUSTER_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../config/envoy-api/xds-protocol.js';
import type { ClusterHostStatus, ClusterStatus } from './admin.js';

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';

type Json = Record<string, unknown>;

function any(typeUrl: string, value: object): Json {
  return { '@type': typeUrl, ...(value as Json) };
}

/** A resource as received (its `@type` already there, or added). */
function dynamicAny(typeUrl: string, r: XdsResource<unknown>): Json {
  return { ...r.json, '@type': typeUrl };
}

function dynamicEntry(field: string, typeUrl: string, r: XdsResource<unknown>): Json {
  return { version_info: r.version, [field]: dynamicAny(typeUrl, r), last_updated: r.lastUpdated.toISOString() };
}

export function configDump(config: Bootstrap, xds: XdsDump | undefined, loadedAt: Date): Json {
  const at = loadedAt.toISOString();
  const staticListeners = config.static_resources?.listeners ?? [];
  const inlineRoutes = (ls: readonly Listener[]): RouteConfiguration[] =>
    ls.map((l) => connectionManager(l)?.route_config).filter((rc): rc is RouteConfiguration => rc !== undefined);
  const listenerState = (r: XdsResource<Listener> | undefined): Json | undefined =>
    r === undefined ? undefined : { version_info: r.version, listener: dynamicAny(LISTENER_TYPE, r), last_updated: r.lastUpdated.toISOString() };
  return {
    configs: [
      { '@type': `${ADMIN}BootstrapConfigDump`, bootstrap: config, last_updated: at },
      {
        '@type': `${ADMIN}ClustersConfigDump`,
        ...(xds?.clusters.version ? { version_info: xds.clusters.version } : {}),
        static_clusters: (config.static_resources?.clusters ?? []).map((c) => ({ cluster: any(CLUSTER_TYPE, c), last_updated: at })),
        dynamic_active_clusters: (xds?.clusters.active ?? []).map((r) => dynamicEntry('cluster', CLUSTER_TYPE, r)),
        dynamic_warming_clusters: (xds?.clusters.warming ?? []).map((r) => dynamicEntry('cluster', CLUSTER_TYPE, r)),
      },
      {
        '@type': `${ADMIN}ListenersConfigDump`,
        ...(xds?.listeners.version ? { version_info: xds.listeners.version } : {}),
        static_listeners: staticListeners.map((l) => ({ listener: any(LISTENER_TYPE, l), last_updated: at })),
        dynamic_listeners: (xds?.listeners.entries ?? []).map((e) => {
          const active = listenerState(e.active);
          const warming = listenerState(e.warming);
          return { name: e.name, ...(active ? { active_state: active } : {}), ...(warming ? { warming_state: warming } : {}) };
        }),
      },
      {
        '@type': `${ADMIN}RoutesConfigDump`,
        static_route_configs: inlineRoutes(staticListeners).map((rc) => ({ route_config: any(ROUTE_TYPE, rc), last_updated: at })),
        dynamic_route_configs: (xds?.routes ?? []).map((r) => dynamicEntry('route_config', ROUTE_TYPE, r)),
      },
    ],
  };
}

/** `ip:port` / `[v6]:port` → Envoy's Address. */
function socketAddress(address: string): Json {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { socket_address: { address: host, port_value: Number(address.slice(i + 1)) } };
}

/** SimpleMetric: the value as text (uint64), left out when 0; type COUNTER (the default) left out. */
function metric(name: string, value: number, gauge = false): Json {
  return { name, ...(value !== 0 ? { value: String(value) } : {}), ...(gauge ? { type: 'GAUGE' } : {}) };
}

/** HostHealthStatus from the flags /clusters prints (`/failed_active_hc/failed_outlier_check`, `healthy`). */
function healthStatus(flags: string): Json {
  const set = new Set(flags.split('/'));
  return {
    ...(set.has('failed_active_hc') ? { failed_active_health_check: true } : {}),
    ...(set.has('failed_outlier_check') ? { failed_outlier_check: true } : {}),
    eds_health_status: set.has('failed_eds_health') ? 'UNHEALTHY' : set.has('degraded_eds_health') ? 'DEGRADED' : 'HEALTHY',
  };
}

function hostStatus(h: ClusterHostStatus): Json {
  return {
    address: socketAddress(h.address),
    stats: [
      metric('cx_active', h.cx_active, true),
      metric('cx_connect_fail', h.cx_connect_fail),
      metric('cx_total', h.cx_total),
      metric('rq_active', h.rq_active, true),
      metric('rq_error', h.rq_error),
      metric('rq_success', h.rq_success),
      metric('rq_timeout', h.rq_timeout),
      metric('rq_total', h.rq_total),
    ],
    health_status: healthStatus(h.health),
    weight: h.weight,
    ...(h.hostname ? { hostname: h.hostname } : {}),
    ...(h.priority !== 0 ? { priority: h.priority } : {}),
  };
}

export function clustersJson(clusters: readonly ClusterStatus[]): Json {
  return {
    cluster_statuses: clusters.map((c) => ({
      name: c.name,
      ...(c.added_via_api ? { added_via_api: true } : {}),
      // Priority DEFAULT is the enum's zero: proto3 JSON leaves it out.
      circuit_breakers: { thresholds: [{ ...c.thresholds }] },
      host_statuses: c.hosts.map(hostStatus),
      observability_name: c.observability_name,
    })),
  };
}
