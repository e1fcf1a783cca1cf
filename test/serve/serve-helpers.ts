/** Shared by the `meshctl serve` tests: start the real CLI as a control plane, read its status, write config files. */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
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
 * (CDS, EDS) come from the control plane on `xdsPort` over ADS. `xdsClusterExtra`: more lines of the control-plane
 * cluster (indented by 6), e.g. its transport_socket; `grpcService`: the ADS stream's GrpcService (flow YAML). */
export function runConfig(node: string, listenPort: number, xdsPort: number, nodeCluster: string, xdsClusterExtra = '', grpcService = '{ envoy_grpc: { cluster_name: xds } }'): string {
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
${xdsClusterExtra}dynamic_resources:
  cds_config: { ads: {}, resource_api_version: V3 }
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [${grpcService}]
`;
}

/** An HTTP backend answering its name. */
export async function backend(name: string): Promise<{ port: number; server: Server }> {
  const server = createServer((_req, res) => res.end(name));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, server };
}

/**
 * The served file: cluster `svc` on the given backend ports (STATIC: served as EDS; `timeout` its connect_timeout),
 * optionally cluster `spare`, and a listener whose route config `routes` (served as RDS) sends everything to `route`.
 */
export function servedConfig(svcPorts: readonly number[], o: { spare?: number; route?: string; timeout?: string } = {}): string {
  const ep = (p: number): string => `{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } } }`;
  const spare =
    o.spare === undefined
      ? ''
      : `    - name: spare
      connect_timeout: 2s
      load_assignment:
        cluster_name: spare
        endpoints: [{ lb_endpoints: [${ep(o.spare)}] }]
`;
  return `static_resources:
  clusters:
    - name: svc
      connect_timeout: ${o.timeout ?? '1s'}
      load_assignment:
        cluster_name: svc
        endpoints: [{ lb_endpoints: [${svcPorts.map(ep).join(', ')}] }]
${spare}  listeners:
    - name: front
      address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: front
                route_config:
                  name: routes
                  virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: ${o.route ?? 'svc'} } }] }]
                http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
`;
}

/** GET / through a run: the backend's name, or the status and body of anything else. */
export async function body(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
  const text = await res.text();
  return res.status === 200 ? text : `HTTP ${res.status}: ${text}`;
}
