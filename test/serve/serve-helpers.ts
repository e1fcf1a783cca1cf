/** Shared by the `meshctl serve` tests: start the real CLI as a control plane, read its status, write config files. */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli, type RunningCli } from '../proxy/cli-helpers.js';

export interface RunningServe {
  readonly cli: RunningCli;
  readonly xdsPort: number;
  readonly adminPort: number;
  status(): Promise<ServeStatusJson>;
  stop(): Promise<void>;
}

export interface TypeStatusJson {
  subscribed: string[];
  sent_version: string;
  acked_version: string;
  nacked?: { version: string; error_detail: string };
  pushes: number;
  acks: number;
  nacks: number;
}

export interface ServeStatusJson {
  address: string;
  config: { versions: Record<string, { version: string; resources: number }>; rejected?: { errors: number } };
  streams: { stream: number; kind: string; peer: string; node: { id: string; cluster: string; user_agent_name: string }; types: Record<string, TypeStatusJson> }[];
}

/** `meshctl serve FILE` on ephemeral ports; resolves once it serves. */
export async function startServe(file: string, extra: string[] = []): Promise<RunningServe> {
  const cli = spawnCli(['serve', file, '--address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0', ...extra]);
  try {
    const xds = await cli.waitFor(/xDS \(gRPC[^)]*\) on 127\.0\.0\.1:(\d+)/);
    const admin = await cli.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/);
    const adminPort = Number(admin[1]);
    return {
      cli,
      xdsPort: Number(xds[1]),
      adminPort,
      async status() {
        const res = await fetch(`http://127.0.0.1:${adminPort}/status`);
        return (await res.json()) as ServeStatusJson;
      },
      async stop() {
        cli.child.kill('SIGTERM');
        await cli.exit();
      },
    };
  } catch (err) {
    cli.kill();
    throw err;
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `meshctl-${prefix}-`));
}

/** Save a file as editors do (write aside, rename over): one change event, never a half-written file. */
export function saveFile(file: string, text: string): void {
  const aside = `${file}.tmp-${process.pid}`;
  writeFileSync(aside, text);
  renameSync(aside, file);
}

/** Polls `check` every 20 ms until it holds (bounded by `ms`). */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A run's bootstrap: node `node` of cluster `nodeCluster`, a listener whose routes (RDS `routes`) and clusters
 * (CDS, EDS) come from the control plane on `xdsPort` over ADS. */
export function runConfig(node: string, listenPort: number, xdsPort: number, nodeCluster: string): string {
  return `node: { id: ${node}, cluster: ${nodeCluster} }
static_resources:
  listeners:
    - name: ingress
      address: { socket_address: { address: 127.0.0.1, port_value: ${listenPort} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress
                rds: { route_config_name: routes, config_source: { ads: {}, resource_api_version: V3 } }
  clusters:
    - name: xds
      connect_timeout: 1s
      http2_protocol_options: {}
      load_assignment:
        cluster_name: xds
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${xdsPort} } } } }] }]
dynamic_resources:
  cds_config: { ads: {}, resource_api_version: V3 }
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{ envoy_grpc: { cluster_name: xds } }]
`;
}
