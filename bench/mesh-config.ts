/**
 * The config the proxy benchmarks run `meshctl run` with: one listener on 127.0.0.1, every request routed to one
 * cluster of one upstream. Shared by bench/proxy.ts (wall-clock, against nginx) and bench/instructions.ts
 * (callgrind), so both measure the same request path.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** HTTP filters for measuring the filter chain's cost: RBAC (an ALLOW policy over the method, the path and the
 * peer's address, which every bench request matches) and a local rate limit whose bucket never runs dry. */
export const BENCH_FILTERS = `                http_filters:
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      rules:
                        action: ALLOW
                        policies:
                          bench:
                            permissions: [ { and_rules: { rules: [ { header: { name: ":method", string_match: { exact: GET } } }, { url_path: { path: { prefix: / } } } ] } } ]
                            principals: [ { direct_remote_ip: { address_prefix: 127.0.0.0, prefix_len: 8 } } ]
                  - name: envoy.filters.http.local_ratelimit
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                      stat_prefix: bench
                      token_bucket: { max_tokens: 1000000000, tokens_per_fill: 1000000000, fill_interval: 1s }
                      filter_enabled: { default_value: { numerator: 100 } }
                      filter_enforced: { default_value: { numerator: 100 } }
                  - name: envoy.filters.http.router
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
`;

/** Writes the config into `dir` and returns its path; `listenPort` 0 lets the proxy pick (it announces the port).
 * `accessLogPath`: the connection manager writes Envoy's default access-log format there (the cost of logging).
 * `httpFilters`: an http_filters block (BENCH_FILTERS) for the connection manager. */
export function writeMeshConfig(dir: string, listenPort: number, upstreamPort: number, accessLogPath?: string, httpFilters = '', tls?: { cert: string; key: string }): string {
  const accessLog =
    accessLogPath === undefined
      ? ''
      : `                access_log:
                  - name: envoy.access_loggers.file
                    typed_config: { path: ${accessLogPath} }
`;
  // `tls`: the listener serves TLS with this certificate, h2 and http/1.1 offered by ALPN (codec AUTO).
  const tlsSocket =
    tls === undefined
      ? ''
      : `transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              common_tls_context:
                alpn_protocols: [h2, http/1.1]
                tls_certificates: [{ certificate_chain: { filename: ${tls.cert} }, private_key: { filename: ${tls.key} } }]
          `;
  const file = join(dir, `mesh-${listenPort}.yaml`);
  writeFileSync(
    file,
    `static_resources:
  listeners:
    - name: bench
      address: { socket_address: { address: 127.0.0.1, port_value: ${listenPort} } }
      filter_chains:
        - ${tlsSocket}filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: bench
                codec_type: AUTO
${accessLog}${httpFilters}                route_config:
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
