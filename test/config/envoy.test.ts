/** Real-shaped Envoy v3 bootstraps (fixtures/envoy/) read into the model; what meshctl does not model is kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, readConfigFile, durationToMs, spanOf } from '../../src/config/index.js';
import { FIXTURES } from '../helpers/cli.js';

const ENVOY = join(FIXTURES, 'envoy');

test('every Envoy fixture reads without errors', async () => {
  const files = readdirSync(ENVOY);
  assert.ok(files.length >= 6);
  for (const f of files) {
    const r = await readConfigFile(join(ENVOY, f));
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], f);
    assert.ok(r.config, f);
    if (f !== 'extensions.yaml') assert.deepEqual(r.diagnostics, [], `${f} has no warnings either`);
  }
});

test('front proxy: @type is checked and stripped; routes, DNS clusters and admin are in the model', async () => {
  const r = await readConfigFile(join(ENVOY, 'front-proxy.yaml'));
  assert.equal(r.format, 'envoy');
  const sr = r.config!.static_resources!;
  const hcm = sr.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config!;
  assert.equal(hcm.stat_prefix, 'ingress_http');
  assert.equal(hcm.codec_type, 'AUTO');
  assert.equal((hcm as Record<string, unknown>)['@type'], undefined);
  assert.deepEqual(hcm.route_config!.virtual_hosts![0]!.routes!.map((x) => [x.match?.prefix, x.route?.cluster]), [
    ['/service/1', 'service1'],
    ['/service/2', 'service2'],
  ]);
  // Filters the model keeps as data (http_filters typed_config is a Struct) hold their @type.
  assert.equal(hcm.http_filters![0]!.typed_config!['@type'], 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router');
  assert.deepEqual(sr.clusters!.map((c) => [c.name, c.type, c.lb_policy, durationToMs(c.connect_timeout!)]), [
    ['service1', 'STRICT_DNS', 'ROUND_ROBIN', 250],
    ['service2', 'STRICT_DNS', 'ROUND_ROBIN', 250],
  ]);
  assert.equal(r.config!.admin?.address?.socket_address?.port_value, 8001);
  assert.equal(spanOf(sr.clusters![1], 'type')?.line, 51);
});

test('TLS listener and upstream TLS; the JSON copy reads into the same model', async () => {
  const y = await readConfigFile(join(ENVOY, 'tls-listener.yaml'));
  const j = await readConfigFile(join(ENVOY, 'tls-listener.json'));
  assert.equal(j.format, 'envoy');
  assert.deepEqual(j.config, y.config);
  const fc = y.config!.static_resources!.listeners![0]!.filter_chains![0]!;
  assert.deepEqual(fc.filter_chain_match?.server_names, ['www.example.com']);
  const tls = fc.transport_socket!.typed_config!;
  assert.equal(tls.require_client_certificate, false);
  assert.deepEqual(tls.common_tls_context!.alpn_protocols, ['h2', 'http/1.1']);
  assert.equal(tls.common_tls_context!.tls_params!.tls_minimum_protocol_version, 'TLSv1_2');
  assert.equal(tls.common_tls_context!.tls_certificates![0]!.private_key!.filename, 'certs/serverkey.pem');
  const up = y.config!.static_resources!.clusters![0]!;
  assert.equal(up.type, 'LOGICAL_DNS');
  assert.equal(up.transport_socket!.typed_config!.sni, 'upstream.example.com');
  assert.equal(y.config!.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config!.use_remote_address, true);
});

test('clusters: EDS config, health checks, breakers, outlier detection, wrappers as plain numbers', async () => {
  const r = await readConfigFile(join(ENVOY, 'clusters.yaml'));
  const byName = new Map(r.config!.static_resources!.clusters!.map((c) => [c.name, c]));
  assert.deepEqual([...byName.values()].map((c) => c.type ?? 'STATIC'), ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'STRICT_DNS']);
  const api = byName.get('api')!;
  assert.equal(api.least_request_lb_config?.choice_count, 3);
  assert.deepEqual(api.load_assignment!.endpoints![0]!.lb_endpoints!.map((e) => e.load_balancing_weight), [3, 1]);
  assert.equal(api.load_assignment!.endpoints![0]!.locality?.zone, 'eu-west-1a');
  const hc = api.health_checks![0]!;
  assert.equal(durationToMs(hc.interval!), 5000);
  assert.equal(hc.unhealthy_threshold, 3);
  assert.equal(hc.http_health_check?.path, '/healthz');
  assert.deepEqual({ ...hc.http_health_check!.expected_statuses![0] }, { start: 200, end: 300 });
  assert.equal(api.circuit_breakers!.thresholds![0]!.max_connections, 512);
  assert.equal(api.outlier_detection!.consecutive_5xx, 5);
  assert.equal(api.common_lb_config!.healthy_panic_threshold!.value, 40);
  assert.equal(durationToMs(api.dns_refresh_rate!), 10_000);
  assert.ok(byName.get('legacy')!.health_checks![0]!.tcp_health_check, 'empty message present');
  const eds = byName.get('catalog')!;
  assert.equal(eds.eds_cluster_config!.eds_config!.api_config_source!.api_type, 'GRPC');
  assert.equal(eds.eds_cluster_config!.eds_config!.api_config_source!.grpc_services![0]!.envoy_grpc!.cluster_name, 'xds_cluster');
  assert.equal(eds.ring_hash_lb_config!.maximum_ring_size, 8388608);
  assert.equal(byName.get('sessions')!.maglev_lb_config!.table_size, 65537);
  assert.ok(byName.get('xds_cluster')!.http2_protocol_options);
  assert.equal(r.config!.node?.id, 'edge-1');
});

test('routing: weighted clusters, regex, retries, redirects and direct responses', async () => {
  const r = await readConfigFile(join(ENVOY, 'routing.yaml'));
  const vh = r.config!.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config!.route_config!.virtual_hosts![0]!;
  assert.deepEqual(vh.domains, ['shop.example.com', 'shop.example.com:*']);
  assert.equal(vh.retry_policy?.num_retries, 2);
  const [canary, split, regex, redirect, direct, fallback] = vh.routes!;
  assert.equal(canary!.match!.headers![0]!.string_match!.exact, 'true');
  const wc = split!.route!.weighted_clusters!;
  assert.deepEqual(wc.clusters!.map((c) => [c.name, c.weight]), [
    ['checkout-v1', 90],
    ['checkout-canary', 10],
  ]);
  const rp = split!.route!.retry_policy!;
  assert.equal(rp.retry_on, '5xx,reset,connect-failure');
  assert.equal(rp.num_retries, 3);
  assert.equal(durationToMs(rp.per_try_timeout!), 1000);
  assert.equal(durationToMs(rp.retry_back_off!.base_interval!), 50);
  assert.deepEqual(rp.retriable_status_codes, [503]);
  assert.equal(regex!.match!.safe_regex!.regex, '^/api/v[0-9]+/items/[0-9]+$');
  assert.equal(regex!.route!.hash_policy![0]!.header!.header_name, 'x-user-id');
  assert.equal(redirect!.redirect!.response_code, 'PERMANENT_REDIRECT');
  assert.equal(direct!.direct_response!.status, 200);
  assert.equal(direct!.direct_response!.body!.inline_string, 'ok');
  assert.equal(fallback!.match!.case_sensitive, false);
  assert.equal(fallback!.request_headers_to_add![0]!.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
  assert.equal(vh.routes!.length, 6);
});

test('unmodeled extensions and fields are kept verbatim: Envoy knows them, so they are notes, never "unknown"', async () => {
  const r = await readConfigFile(join(ENVOY, 'extensions.yaml'));
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.severity} ${d.ruleId} ${d.span.line}:${d.span.column}`),
    [
      'info unmodeled-field 10:5',
      'warning unmodeled-extension 18:20',
      'info unmodeled-field 60:5',
      'info unmodeled-field 72:1',
    ],
  );
  assert.match(r.diagnostics[0]!.message, /`listener_filters` \(in Listener\) is an Envoy field meshctl does not act on/);
  const [tcp, http] = r.config!.static_resources!.listeners!;
  const f = tcp!.filter_chains![0]!.filters![0]!;
  assert.equal(f.typed_config, undefined);
  assert.deepEqual(f.unmodeled?.['typed_config'], {
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
    stat_prefix: 'postgres',
    cluster: 'postgres',
    idle_timeout: '3600s',
  });
  assert.equal((tcp!.unmodeled?.['listener_filters'] as Array<{ name: string }>)[0]!.name, 'envoy.filters.listener.tls_inspector');
  const route = http!.filter_chains![0]!.filters![0]!.typed_config!.route_config!.virtual_hosts![0]!.routes![0]!;
  // typed_per_filter_config is modeled (run's HTTP filters read it), so it is no longer a note.
  assert.ok(route.typed_per_filter_config);
  assert.equal(route.unmodeled?.['typed_per_filter_config'], undefined);
  assert.deepEqual(r.config!.static_resources!.clusters![0]!.unmodeled, { upstream_connection_options: { tcp_keepalive: { keepalive_time: 300 } } });
  assert.ok(r.config!.unmodeled?.['layered_runtime']);
  assert.equal(http!.filter_chains![0]!.filters![0]!.typed_config!.access_log!.length, 1);
});

test('ADS: `ads: {}` reads as an aggregated config source', async () => {
  const r = await readConfigFile(join(ENVOY, 'dynamic-ads.yaml'));
  const dr = r.config!.dynamic_resources!;
  // Envoy's AggregatedConfigSource is an empty message; its presence selects ADS.
  assert.deepEqual({ ...dr.cds_config?.ads }, {});
  assert.equal(dr.lds_config?.resource_api_version, 'V3');
  assert.equal(dr.ads_config?.api_type, 'GRPC');
});

test('text-format Any expansion and a mismatched @type', () => {
  const r = parseConfig(
    `listener { filter_chains { filters {
  name: "envoy.filters.network.http_connection_manager"
  typed_config {
    [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] { stat_prefix: "any" }
  }
} } }`,
    'any.textproto',
  );
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.config!.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config!.stat_prefix, 'any');

  const bad = parseConfig(
    `static_resources:
  clusters:
  - name: c
    transport_socket:
      name: envoy.transport_sockets.alts
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts
        handshaker_service: 127.0.0.1:1
`,
    'c.yaml',
  );
  assert.equal(bad.format, 'envoy');
  assert.deepEqual(bad.diagnostics.map((d) => [d.ruleId, d.span.line]), [['unmodeled-extension', 7]]);
  const ts = bad.config!.static_resources!.clusters![0]!.transport_socket!;
  assert.equal(ts.name, 'envoy.transport_sockets.alts');
  assert.equal((ts.unmodeled?.['typed_config'] as Record<string, string>)['handshaker_service'], '127.0.0.1:1');
});
