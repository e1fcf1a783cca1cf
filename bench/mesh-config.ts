/**
 * The config the proxy benchmarks run `meshctl run` with: one listener on 127.0.0.1, every request routed to one
 * cluster of one upstream. Shared by bench/proxy.ts (wall-clock, against nginx) and bench/instructions.ts
 * (callgrind), so both measure the same request path.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes the config into `dir` and returns its path; `listenPort` 0 lets the proxy pick (it announces the port).
 * `accessLogPath`: the connection manager writes Envoy's default access-log format there (the cost of logging). */
export function writeMeshConfig(dir: string, listenPort: number, upstreamPort: number, accessLogPath?: string): string {
  const accessLog =
    accessLogPath === undefined
      ? ''
      : `                access_log:
                  - name: envoy.access_loggers.file
                    typed_config: { path: ${accessLogPath} }
`;
  const file = join(dir, `mesh-${listenPort}.yaml`);
  writeFileSync(
    file,
    `static_resources:
  listeners:
    - name: bench
      address: { socket_address: { address: 127.0.0.1, port_value: ${listenPort} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                stat_prefix: bench
                codec_type: AUTO
${accessLog}                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: upstream }
  clusters:
    - name: upstream
      connect_timeout: 1s
      load_assignment:
        cluster_name: upstream
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }
`,
  );
  return file;
}
