/**
 * Real tools as judges: find a binary, or say why it is missing so the test can skip with that reason. The tests
 * never install anything; .ci/run installs every tool they use (Debian packages).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The path of `bin`, or the reason it is missing (naming the Debian package that has it). */
export function findTool(bin: string, pkg: string): { path: string } | { skip: string } {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  if (r.status === 0 && p !== '') return { path: p };
  return { skip: `${bin} not found (Debian package ${pkg})` };
}

export { freePort } from '../proxy/cli-helpers.js';

export function writeIn(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Envoy v3 YAML: a TLS listener (h2 + http/1.1 by ALPN) and a cleartext AUTO listener, both to one upstream. */
export function tlsConfigYaml(upstreamPort: number, cert: string, key: string, extra = ''): string {
  const hcm = (prefix: string): string => `            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ${prefix}
                codec_type: AUTO
                route_config:
                  name: ${prefix}_routes
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: echo }`;
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
${extra}static_resources:
  listeners:
    - name: tls
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              common_tls_context:
                alpn_protocols: [h2, http/1.1]
                tls_certificates:
                  - certificate_chain: { filename: ${cert} }
                    private_key: { filename: ${key} }
          filters:
${hcm('tls')}
    - name: plain
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
${hcm('plain')}
  clusters:
    - name: echo
      type: STATIC
      connect_timeout: 1s
      load_assignment:
        cluster_name: echo
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }
`;
}
