/**
 * Wires xDS into the cluster manager: reads `dynamic_resources` (cds_config, ads_config) and the EDS clusters'
 * eds_config, finds the control plane's address through the static cluster the config source names, and runs one
 * session, REST-JSON or gRPC ADS (the gRPC stack is imported only then). Accepted CDS sets replace the API-added
 * clusters; accepted load assignments go to the EDS clusters by service name (and are cached for clusters CDS adds
 * later).
 */
import type { ApiConfigSource, Bootstrap, Cluster, ClusterLoadAssignment } from '../config/model.js';
import { durationToMs } from '../config/model.js';
import type { HostInit } from '../balancer/types.js';
import type { DiscoveryDeps, DiscoveryHandle } from './types.js';
import { hostsFromAssignment } from './envoy-json.js';
import { XdsState, edsServiceName, type XdsSink } from './xds-core.js';

/** What the controller needs from the cluster manager. */
export interface XdsHost {
  /** The full CDS set: add/replace these as API clusters, remove API clusters not in it. */
  applyApiClusters(clusters: readonly Cluster[]): void;
  /** Every EDS cluster now (static or from CDS). */
  edsClusters(): { config: Cluster; setEndpoints(hosts: readonly HostInit[]): void }[];
  /** `ip:port` of a static cluster's first host (the control plane), after --map-endpoint. */
  addressOf(cluster: string): string | undefined;
}

interface XdsPlan {
  readonly transport: 'rest' | 'grpc';
  readonly source: ApiConfigSource;
  readonly cds: boolean;
  readonly eds: boolean;
  readonly controlCluster: string;
}

/** Which xDS session a bootstrap asks for, or undefined for none. */
export function xdsPlan(config: Bootstrap): XdsPlan | undefined {
  const dr = config.dynamic_resources;
  const edsClusters = (config.static_resources?.clusters ?? []).filter((c) => c.type === 'EDS');
  const cds = dr?.cds_config;
  let source: ApiConfigSource | undefined;
  if (cds?.ads) source = dr?.ads_config;
  else if (cds?.api_config_source) source = cds.api_config_source;
  const edsSource = edsClusters.map((c) => c.eds_cluster_config?.eds_config).find((s) => s !== undefined);
  if (source === undefined && edsSource !== undefined) source = edsSource.ads ? dr?.ads_config : edsSource.api_config_source;
  if (source === undefined) return undefined;
  const transport = source.api_type === 'REST' ? 'rest' : 'grpc';
  const controlCluster = transport === 'rest' ? source.cluster_names?.[0] : source.grpc_services?.[0]?.envoy_grpc?.cluster_name;
  if (!controlCluster) return undefined;
  return { transport, source, cds: cds !== undefined, eds: true, controlCluster };
}

export async function startXds(config: Bootstrap, plan: XdsPlan, host: XdsHost, deps: DiscoveryDeps): Promise<DiscoveryHandle & { state: XdsState }> {
  const cache = new Map<string, ClusterLoadAssignment>();
  const applyCached = (): void => {
    for (const c of host.edsClusters()) {
      const cla = cache.get(edsServiceName(c.config));
      if (cla) c.setEndpoints(hostsFromAssignment(cla));
    }
  };
  const sink: XdsSink = {
    applyClusters(clusters) {
      host.applyApiClusters(clusters);
      applyCached();
    },
    applyAssignments(clas) {
      for (const cla of clas) cache.set(cla.cluster_name!, cla);
      const byName = new Map(clas.map((c) => [c.cluster_name!, c]));
      for (const c of host.edsClusters()) {
        const cla = byName.get(edsServiceName(c.config));
        if (cla) c.setEndpoints(hostsFromAssignment(cla));
      }
    },
    edsNames() {
      return [...new Set(host.edsClusters().map((c) => edsServiceName(c.config)))].sort();
    },
  };
  const node = { id: config.node?.id || 'meshctl', cluster: config.node?.cluster || 'meshctl', user_agent_name: 'meshctl' };
  const state = new XdsState(node, sink, deps.log);
  const address = host.addressOf(plan.controlCluster);
  if (address === undefined) {
    deps.log?.(`xds: control-plane cluster "${plan.controlCluster}" has no host; xDS is off`);
    return { state, ready: Promise.resolve(), close: () => undefined };
  }
  if (plan.transport === 'rest') {
    const { XdsRestClient } = await import('./xds-rest.js');
    const refresh = plan.source.refresh_delay !== undefined ? durationToMs(plan.source.refresh_delay) : 1000;
    const timeout = plan.source.request_timeout !== undefined ? durationToMs(plan.source.request_timeout) : 1000;
    const client = new XdsRestClient(
      state,
      { baseUrl: `http://${address}`, refreshMs: refresh > 0 ? refresh : 1000, requestTimeoutMs: timeout > 0 ? timeout : 1000, cds: plan.cds, eds: plan.eds },
      deps,
    );
    return Object.assign(client, { state });
  }
  const { XdsGrpcClient } = await import('./xds-grpc.js');
  const client = new XdsGrpcClient(state, { address, cds: plan.cds, eds: plan.eds }, deps);
  return Object.assign(client, { state });
}
