/** `--to envoy` / `envoy-json` on hand-built models: Envoy's own v3 shape, required defaults, dropped constructs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYamlText } from 'yaml';
import { emitConfig } from '../../src/config/convert.js';
import { META } from '../../src/config/node-meta.js';
import type { Bootstrap } from '../../src/config/model.js';
import { envoyShapeProblems } from './envoy-shape.js';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking untyped output

/** The article's full example as the decoder models it (transport socket already on the filter chain). */
function articleModel(): Bootstrap {
  const config: Bootstrap = {
    static_resources: {
      clusters: [
        {
          name: 'example-cluster',
          connect_timeout: { seconds: 0, nanos: 250_000_000 },
          load_assignment: {
            cluster_name: 'example-cluster',
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: '10.244.0.2', port_value: 8080 } } }, load_balancing_weight: 100 },
                  { endpoint: { address: { socket_address: { address: '10.244.0.3', port_value: 8080 } } }, load_balancing_weight: 200 },
                ],
              },
            ],
          },
        },
      ],
      listeners: [
        {
          name: 'example-listener',
          address: { socket_address: { address: '0.0.0.0', port_value: 80 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.http_connection_manager',
                  typed_config: {
                    codec_type: 'HTTP2',
                    route_config: {
                      name: 'example-route',
                      virtual_hosts: [
                        { name: 'example.service.local', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'example-cluster' } }] },
                      ],
                    },
                  },
                },
              ],
              transport_socket: {
                name: 'tls',
                typed_config: {
                  common_tls_context: {
                    tls_certificates: [{ certificate_chain: { filename: 'tls.crt' }, private_key: { filename: 'tls.key' } }],
                  },
                },
              },
            },
          ],
        },
      ],
      service_cluster_discovery_refresh_service: [
        { service_name: 'example-cluster-discovery', service_url: 'http://127.0.0.1:8081/cluster/example-cluster' },
      ],
    },
    dns_query: { name: 'example.service.local', nameservers: ['8.8.8.8', '[::1]:5353'] },
    http_server: {
      prometheus: {
        metrics_path: '/metrics',
        scrape_configs: [{ job_name: 'example-job', scrape_interval: { seconds: 10, nanos: 0 }, endpoints: [{ address: '127.0.0.1:8080' }] }],
      },
    },
    tls_context: { common_tls_context: { tls_certificates: [{ private_key: { filename: 'tls.key' } }] } },
  };
  const httpServerSpan = { file: 'article.textproto', line: 7, column: 1, endLine: 9, endColumn: 2 };
  Object.defineProperty(config, META, {
    value: { span: { ...httpServerSpan, line: 1 }, fields: { http_server: { span: httpServerSpan } } },
    enumerable: false,
  });
  return config;
}

function envoyOf(config: Bootstrap): { doc: J; warnings: string[]; text: string } {
  const { text, diagnostics } = emitConfig(config, 'envoy');
  return { doc: parseYamlText(text) as J, warnings: diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message), text };
}

test('envoy: the article example becomes a bootstrap with only real Envoy v3 fields and known @types', () => {
  const { doc } = envoyOf(articleModel());
  assert.deepEqual(envoyShapeProblems(doc), []);
});

test('envoy: HCM typed_config has its @type first, a stat_prefix, the codec_type and a router http filter', () => {
  const { doc } = envoyOf(articleModel());
  const filter = doc.static_resources.listeners[0].filter_chains[0].filters[0];
  assert.equal(filter.name, 'envoy.filters.network.http_connection_manager');
  const hcm = filter.typed_config;
  assert.equal(Object.keys(hcm)[0], '@type');
  assert.equal(hcm['@type'], 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
  assert.equal(hcm.codec_type, 'HTTP2');
  assert.equal(hcm.stat_prefix, 'ingress_http');
  assert.deepEqual(hcm.http_filters, [
    { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
  ]);
  assert.equal(hcm.route_config.virtual_hosts[0].routes[0].route.cluster, 'example-cluster');
});

test('envoy: a stat_prefix and http filters the config sets are kept', () => {
  const config = articleModel();
  const hcm = config.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config!;
  hcm.stat_prefix = 'edge';
  hcm.http_filters = [{ name: 'envoy.router' }];
  const { doc } = envoyOf(config);
  const out = doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  assert.equal(out.stat_prefix, 'edge');
  assert.deepEqual(out.http_filters.map((f: J) => [f.name, f.typed_config?.['@type']]), [
    ['envoy.filters.http.router', 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router'],
  ]);
});

test('envoy: TLS is a transport_socket on the filter chain (DownstreamTlsContext) and on clusters (UpstreamTlsContext)', () => {
  const config = articleModel();
  // a hand-built model may still hold the article's placement inside the HCM: it moves to the chain
  const chain = config.static_resources!.listeners![0]!.filter_chains![0]!;
  const socket = chain.transport_socket!;
  delete chain.transport_socket;
  chain.filters![0]!.typed_config!.transport_socket = socket;
  config.static_resources!.clusters![0]!.transport_socket = { name: 'tls', typed_config: { sni: 'backend.local' } };
  const { doc } = envoyOf(config);
  const outChain = doc.static_resources.listeners[0].filter_chains[0];
  assert.equal(outChain.filters[0].typed_config.transport_socket, undefined);
  assert.equal(outChain.transport_socket.name, 'envoy.transport_sockets.tls');
  assert.equal(outChain.transport_socket.typed_config['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
  assert.deepEqual(outChain.transport_socket.typed_config.common_tls_context.tls_certificates, [
    { certificate_chain: { filename: 'tls.crt' }, private_key: { filename: 'tls.key' } },
  ]);
  const up = doc.static_resources.clusters[0].transport_socket;
  assert.equal(up.typed_config['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
  assert.equal(up.typed_config.sni, 'backend.local');
  assert.deepEqual(envoyShapeProblems(doc), []);
});

test('envoy: clusters use lb_endpoints, load_balancing_weight and durations as Envoy writes them', () => {
  const { doc, text } = envoyOf(articleModel());
  const cluster = doc.static_resources.clusters[0];
  assert.equal(cluster.connect_timeout, '0.250s');
  assert.match(text, /connect_timeout: 0\.250s$/m);
  assert.deepEqual(
    cluster.load_assignment.endpoints[0].lb_endpoints.map((e: J) => [e.endpoint.address.socket_address.address, e.load_balancing_weight]),
    [
      ['10.244.0.2', 100],
      ['10.244.0.3', 200],
    ],
  );
});

test('envoy: dns_query nameservers become a c-ares typed_dns_resolver_config (port 53 by default)', () => {
  const { doc } = envoyOf(articleModel());
  assert.deepEqual(doc.typed_dns_resolver_config, {
    name: 'envoy.network.dns_resolver.cares',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig',
      resolvers: [{ socket_address: { address: '8.8.8.8', port_value: 53 } }, { socket_address: { address: '::1', port_value: 5353 } }],
    },
  });
  assert.equal(doc.dns_query, undefined);

  const perCluster = articleModel();
  delete perCluster.dns_query;
  const c = perCluster.static_resources!.clusters![0]!;
  c.type = 'STRICT_DNS';
  c.dns_query = { nameservers: ['127.0.0.1:5353'] };
  const out = envoyOf(perCluster).doc.static_resources.clusters[0];
  assert.equal(out.dns_query, undefined);
  assert.deepEqual(out.typed_dns_resolver_config.typed_config.resolvers, [{ socket_address: { address: '127.0.0.1', port_value: 5353 } }]);
  assert.deepEqual(envoyShapeProblems(envoyOf(perCluster).doc), []);
});

test('envoy: article-only constructs are dropped with one not-representable-in-envoy warning each', () => {
  const { doc } = envoyOf(articleModel());
  const { diagnostics } = emitConfig(articleModel(), 'envoy');
  const dropped = diagnostics.filter((d) => d.ruleId === 'not-representable-in-envoy');
  assert.ok(dropped.every((d) => d.severity === 'warning'));
  const messages = dropped.map((d) => d.message).join('\n');
  assert.match(messages, /http_server/);
  assert.match(messages, /discovery refresh service "example-cluster-discovery"/);
  assert.match(messages, /tls_context/);
  assert.match(messages, /dns_query name "example\.service\.local"/);
  assert.equal(dropped.length, 4);
  // the warning points at the construct when the model knows where it came from
  const httpServer = dropped.find((d) => /http_server/.test(d.message))!;
  assert.equal(httpServer.span.line, 7);
  assert.equal(doc.http_server, undefined);
  assert.equal(doc.tls_context, undefined);
  assert.equal(doc.static_resources.service_cluster_discovery_refresh_service, undefined);
});

test('envoy-json is the same bootstrap as envoy YAML', () => {
  const yaml = parseYamlText(emitConfig(articleModel(), 'envoy').text) as unknown;
  const json = JSON.parse(emitConfig(articleModel(), 'envoy-json').text) as unknown;
  assert.deepEqual(json, yaml);
});

test('envoy: fields already in Envoy shape are kept as they are; RuntimeDouble and cluster_name are filled in', () => {
  const config: Bootstrap = {
    static_resources: {
      clusters: [
        {
          name: 'grpc',
          http2_protocol_options: { max_concurrent_streams: 100 },
          dns_resolvers: [{ socket_address: { address: '127.0.0.1', port_value: 53 } }],
          lb_policy: 'LEAST_REQUEST',
          least_request_lb_config: { choice_count: 3, active_request_bias: 0.5 },
          load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9000 } } } }] }] },
        },
      ],
    },
  };
  const { doc } = envoyOf(config);
  const c = doc.static_resources.clusters[0];
  assert.deepEqual(c.http2_protocol_options, { max_concurrent_streams: 100 });
  assert.deepEqual(c.dns_resolvers, [{ socket_address: { address: '127.0.0.1', port_value: 53 } }]);
  assert.deepEqual(c.least_request_lb_config, {
    choice_count: 3,
    active_request_bias: { default_value: 0.5, runtime_key: 'upstream.least_request.active_request_bias' },
  });
  assert.equal(c.load_assignment.cluster_name, 'grpc');
  assert.deepEqual(envoyShapeProblems(doc), []);
});
