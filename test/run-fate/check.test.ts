/** The run-fate walk over parsed configs: what meshctl run refuses, what it warns of, and where. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/index.js';
import { runFateFindings, type RunFateFinding } from '../../src/config/run-fate/check.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** A listener whose connection manager has these http_filters (YAML at 16 spaces) and extra lines. */
function listener(o: { filters?: string; hcmExtra?: string; chainExtra?: string; listenerExtra?: string; tls?: string } = {}): string {
  return `static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: 8080 } }
${o.listenerExtra ?? ''}
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": ${HCM}
                stat_prefix: main
${o.hcmExtra ?? ''}
                http_filters:
${o.filters ?? '                  - name: envoy.filters.http.router\n                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }'}
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }]
${o.chainExtra ?? ''}
`;
}

function findings(yaml: string, from: 'envoy' | 'yaml' = 'envoy'): RunFateFinding[] {
  const r = parseConfig(yaml, 'cfg.yaml', { from });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], 'the config parses');
  return runFateFindings(r.config!);
}

const ROUTER = '                  - name: envoy.filters.http.router\n                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }';

test('a plain listener with the router has nothing to report', () => {
  assert.deepEqual(findings(listener()), []);
});

test('ext_authz, jwt_authn, oauth2 and an unknown HTTP filter are refused at the filter name, all of them at once', () => {
  const f = findings(
    listener({
      filters: `                  - name: envoy.filters.http.ext_authz
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz, http_service: { server_uri: { uri: "http://a", cluster: a, timeout: 1s } } }
                  - name: envoy.filters.http.jwt_authn
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication }
                  - name: envoy.filters.http.oauth2
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.oauth2.v3.OAuth2 }
                  - name: my.custom.filter
${ROUTER}`,
    }),
  );
  assert.deepEqual(
    f.map((x) => [x.fate, x.what, x.span?.line]),
    [
      ['refused', 'HTTP filter `envoy.filters.http.ext_authz`', 14],
      ['refused', 'HTTP filter `envoy.filters.http.jwt_authn`', 16],
      ['refused', 'HTTP filter `envoy.filters.http.oauth2`', 18],
      ['refused', 'HTTP filter `my.custom.filter`', 20],
    ],
  );
  assert.match(f[0]!.hint, /is_optional: true/);
});

test('the type URL decides over the name, as in Envoy; a TypedStruct is seen through', () => {
  const f = findings(
    listener({
      filters: `                  - name: envoy.filters.http.rbac
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication }
                  - name: looks.unknown
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC, rules: {} }
                  - name: wrapped
                    typed_config: { "@type": type.googleapis.com/xds.type.v3.TypedStruct, type_url: type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz, value: {} }
${ROUTER}`,
    }),
  );
  assert.deepEqual(f.map((x) => [x.fate, x.what]), [
    ['refused', 'HTTP filter `envoy.filters.http.rbac`'],
    ['refused', 'HTTP filter `wrapped`'],
  ]);
  assert.match(f[0]!.note!, /JWT/);
  assert.match(f[1]!.note!, /external authorization/);
});

test('is_optional: true turns a refusal into a warning', () => {
  const f = findings(
    listener({
      filters: `                  - name: envoy.filters.http.ext_authz
                    is_optional: true
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz, http_service: { server_uri: { uri: "http://a", cluster: a, timeout: 1s } } }
${ROUTER}`,
    }),
  );
  assert.deepEqual(f.map((x) => [x.fate, x.what]), [['warned', 'HTTP filter `envoy.filters.http.ext_authz`']]);
  assert.match(f[0]!.note!, /is_optional/);
});

test('health_check: every form is enforced by the filter chain (pass-through, header matchers, cache_time)', () => {
  const hc = (tc: string): RunFateFinding[] =>
    findings(listener({ filters: `                  - name: envoy.filters.http.health_check\n                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck, ${tc} }\n${ROUTER}` }));
  assert.deepEqual(hc('pass_through_mode: false, headers: [{ name: ":path", string_match: { exact: /healthz } }]'), []);
  assert.deepEqual(hc('pass_through_mode: true, cache_time: 5s, headers: [{ name: ":path", string_match: { prefix: /health } }, { name: x-probe, present_match: true }]'), []);
});

test('network filters other than the connection manager are refused; listener filters are warned, proxy_protocol refused', () => {
  const f = findings(
    listener({
      listenerExtra: `      listener_filters:
        - name: envoy.filters.listener.tls_inspector
          typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
        - name: envoy.filters.listener.proxy_protocol
          typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol }`,
      chainExtra: `        - filters:
            - name: envoy.filters.network.tcp_proxy
              typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: c }
            - name: my.network.filter`,
    }),
  );
  assert.deepEqual(f.map((x) => [x.fate, x.what]), [
    ['refused', 'network filter `envoy.filters.network.tcp_proxy`'],
    ['refused', 'network filter `my.network.filter`'],
    ['warned', 'listener filter `envoy.filters.listener.tls_inspector`'],
    ['refused', 'listener filter `envoy.filters.listener.proxy_protocol`'],
  ]);
});

test('a field run does not act on is warned once, at its key, and nothing under it is reported', () => {
  const f = findings(listener({ hcmExtra: '                via: edge\n                add_user_agent: true\n                tracing: { random_sampling: { value: 50 } }' }));
  assert.deepEqual(f.map((x) => [x.fate, x.what, x.span?.line, x.span?.column]), [
    ['warned', '`via` (in HttpConnectionManager)', 12, 17],
    ['warned', '`add_user_agent` (in HttpConnectionManager)', 13, 17],
    ['warned', '`tracing` (in HttpConnectionManager)', 14, 17],
  ]);
  // An RDS connection manager (run fetches routes over RDS): nothing to say.
  const rds = findings(listener().replace(/                route_config:[\s\S]*$/, '                rds: { route_config_name: r, config_source: { ads: {} } }\n'));
  assert.deepEqual(rds.map((x) => x.what), []);
  assert.equal(f[0]!.path, 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.via');
});

test('unmodeled fields: warned, but refused where they guard access (client certificate checks, source-address chain matching)', () => {
  const tls = `          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              require_client_certificate: true
              common_tls_context:
                tls_certificates: [{ certificate_chain: { filename: c.pem }, private_key: { filename: k.pem } }]
                validation_context:
                  trusted_ca: { filename: ca.pem }
                  match_subject_alt_names: [{ exact: client.example }]
                  verify_certificate_hash: ["abababababababababababababababababababababababababababababababab"]
          filter_chain_match:
            source_prefix_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 8 }]`;
  const f = findings(listener({ chainExtra: '', listenerExtra: '' }).replace('      filter_chains:\n        - filters:', `      per_connection_buffer_limit_bytes: 1024\n      filter_chains:\n        - filters:`).replace(/\n\n$/, '\n' + tls + '\n'));
  assert.deepEqual(f.map((x) => [x.fate, x.what]), [
    ['refused', '`source_prefix_ranges` (in FilterChainMatch)'],
    ['refused', '`match_subject_alt_names` (in CertificateValidationContext)'],
    ['refused', '`verify_certificate_hash` (in CertificateValidationContext)'],
  ]);
});

test('match_subject_alt_names (StringMatchers): enforced towards an upstream, refused on a listener (client certificates are not matched)', () => {
  const cluster = (sans: string): string => `static_resources:
  clusters:
    - name: up
      connect_timeout: 1s
      load_assignment: { cluster_name: up, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9 } } } }] }] }
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
          sni: up.example
          common_tls_context:
            validation_context: { trusted_ca: { filename: ca.pem }, match_subject_alt_names: ${sans} }
`;
  assert.deepEqual(findings(cluster('[{ exact: up.example }]').replace(/\n\s+"@type".*\n/, '\n'), 'yaml'), []);
  assert.deepEqual(findings(cluster('[{ suffix: .example, ignore_case: true }]')), []);
});

test('values: a UDP listener is refused, an ORIGINAL_DST cluster and unknown retry conditions are warned, previous_hosts enforced', () => {
  const f = findings(
    listener().replace('port_value: 8080 }', 'port_value: 8080, protocol: UDP }') +
      `  clusters:
    - name: od
      type: ORIGINAL_DST
      lb_policy: CLUSTER_PROVIDED
      connect_timeout: 1s
`,
  );
  assert.deepEqual(f.map((x) => [x.fate, x.what]), [
    ['refused', '`protocol: UDP`'],
    ['warned', '`type: ORIGINAL_DST`'],
    ['warned', '`lb_policy: CLUSTER_PROVIDED`'],
  ]);
  const r = findings(
    listener().replace(
      'direct_response: { status: 200 }',
      'route: { cluster: c, retry_policy: { retry_on: "5xx,refused-stream,reset", retry_host_predicate: [{ name: envoy.retry_host_predicates.previous_hosts, typed_config: { "@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate } }] } }',
    ),
  );
  assert.deepEqual(r.map((x) => [x.fate, x.what]), [
    ['warned', '`retry_on: refused-stream`'],
  ]);
});

test('a second connection manager on a listener is not served: warned, and an access-guarding filter in it is refused', () => {
  const second = `        - filter_chain_match: { server_names: [b.example] }
          filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": ${HCM}
                stat_prefix: b
                http_filters:
                  - name: envoy.filters.http.ext_authz
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz, http_service: { server_uri: { uri: "http://a", cluster: a, timeout: 1s } } }
${ROUTER}
                route_config: { virtual_hosts: [{ name: b, domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 204 } }] }] }`;
  const f = findings(listener({ chainExtra: second }));
  assert.deepEqual(f.map((x) => [x.fate, x.what]), [
    ['warned', 'this connection manager'],
    ['refused', 'HTTP filter `envoy.filters.http.ext_authz`'],
  ]);
});

test('transport sockets: TLS and raw_buffer are enforced, any other is refused; protocol options by extension name', () => {
  const f = findings(`static_resources:
  clusters:
    - name: up
      connect_timeout: 1s
      load_assignment: { cluster_name: up, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9 } } } }] }] }
      transport_socket:
        name: envoy.transport_sockets.tap
        typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.tap.v3.Tap, common_config: { static_config: { match: { any_match: true }, output_config: { sinks: [{ file_per_tap: { path_prefix: /tmp/t } }] } } }, transport_socket: { name: envoy.transport_sockets.raw_buffer } }
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: { http2_protocol_options: {} }
        envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions
    - name: plain
      connect_timeout: 1s
      transport_socket: { name: envoy.transport_sockets.raw_buffer, typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer } }
`);
  assert.deepEqual(f.map((x) => [x.fate, x.what]), [
    ['refused', 'transport socket `envoy.transport_sockets.tap`'],
    ['warned', 'protocol options `envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions`'],
  ]);
  const settings = findings(
    `static_resources:
  clusters:
    - name: up
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          use_downstream_protocol_config: {}
          common_http_protocol_options: { idle_timeout: 5s }
`,
  );
  assert.deepEqual(settings.map((x) => [x.fate, x.what]), [
    ['warned', '`use_downstream_protocol_config` (in the config of `envoy.extensions.upstreams.http.v3.HttpProtocolOptions`)'],
    ['warned', '`common_http_protocol_options` (in the config of `envoy.extensions.upstreams.http.v3.HttpProtocolOptions`)'],
  ]);
});

test('the router is enforced, its own settings are warned', () => {
  const f = findings(
    listener({ filters: '                  - name: envoy.filters.http.router\n                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, suppress_envoy_headers: true }' }),
  );
  assert.deepEqual(f.map((x) => [x.fate, x.what, x.span?.line]), [['warned', '`suppress_envoy_headers` (in the config of `envoy.filters.http.router`)', 15]]);
});

test('unmodeled fields the proxy reads from what the decoder kept (upgrade_configs, gRPC timeouts) are enforced', () => {
  const f = findings(
    listener({ hcmExtra: '                upgrade_configs: [{ upgrade_type: websocket }]' }).replace(
      'direct_response: { status: 200 }',
      'route: { cluster: c, max_grpc_timeout: 5s, upgrade_configs: [{ upgrade_type: CONNECT }] }',
    ),
  );
  assert.deepEqual(f, []);
});

test('a chain filter\'s unbuilt setting is refused by the table (validate --target run says what run refuses), its built ones pass', () => {
  const fault = (tc: string): RunFateFinding[] =>
    findings(listener({ filters: `                  - name: envoy.filters.http.fault\n                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault, ${tc} }\n${ROUTER}` }));
  assert.deepEqual(fault('abort: { http_status: 503, percentage: { numerator: 10 } }'), []);
  const f = fault('abort: { http_status: 503, percentage: { numerator: 10 } }, response_rate_limit: { fixed_limit: { limit_kbps: 1 } }');
  assert.deepEqual(f.map((x) => [x.fate, x.what]), [['refused', '`response_rate_limit` (in the config of `envoy.filters.http.fault`)']]);
  assert.match(f[0]!.note ?? '', /not built into meshctl run/);
});
