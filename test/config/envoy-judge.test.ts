/**
 * Envoy's judge over small inputs: what it refuses and accepts, where it points, the canonical form it hands the
 * decoder, the cluster references it records; and the protoc-gen-validate checks one by one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/index.js';
import { checkDuration, checkNumber, checkRepeatedCount, checkString, isHostname } from '../../src/config/envoy-api/constraints.js';
import { classifyUnknownType } from '../../src/config/envoy-api/type-urls.js';
import { bootstrapShape, topLevelKeys } from '../../src/config/envoy-api/shape.js';
import { envoyApi } from '../../src/config/envoy-api/descriptors.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/** A bootstrap with one listener whose connection manager holds `hcm` (extra fields) and one cluster `c`. */
function bootstrap(hcm = '', cluster = '', top = ''): string {
  return `${top}static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 8080 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": ${HCM}
          stat_prefix: s
${hcm}          route_config:
            virtual_hosts:
            - name: v
              domains: ["*"]
              routes:
              - match: { prefix: / }
                route: { cluster: c }
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": ${ROUTER} }
  clusters:
  - name: c
    type: STATIC
${cluster}    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9000 } } }
`;
}

const found = (text: string, name = 'a.yaml'): string[] =>
  parseConfig(text, name)
    .diagnostics.filter((d) => d.severity !== 'info')
    .map((d) => `${d.span.line}:${d.span.column} ${d.severity} ${d.ruleId}`);

test('a valid Envoy bootstrap: judged (format envoy), nothing refused', () => {
  const r = parseConfig(bootstrap(), 'a.yaml');
  assert.equal(r.format, 'envoy');
  assert.deepEqual(found(bootstrap()), []);
  assert.deepEqual(
    r.envoy!.refs.map((x) => `${x.name} ${x.via} ${x.lookup}`),
    ['c envoy.config.route.v3.RouteAction.cluster load'],
  );
  assert.equal(r.envoy!.refs[0]!.span.line, 17);
});

test('unknown fields at each depth, with the real field as hint', () => {
  const text = bootstrap('          stat_prefx: t\n', '    conect_timeout: 1s\n');
  const r = parseConfig(text, 'a.yaml');
  const unknown = r.diagnostics.filter((d) => d.ruleId === 'envoy-unknown-field');
  assert.deepEqual(
    unknown.map((d) => [d.span.line, d.hint]),
    [
      [11, 'did you mean `stat_prefix`?'],
      [25, 'did you mean `connect_timeout`?'],
    ],
  );
  // The decoder's own "unknown" notes at the same places give way to Envoy's verdict.
  assert.equal(r.diagnostics.filter((d) => d.ruleId === 'unknown-field' || d.ruleId === 'unmodeled-field').length, 0);
});

test('camelCase names and lower-case enums reach the model as Envoy reads them', () => {
  const text = `staticResources:
  clusters:
  - name: c
    type: strict_dns
    lbPolicy: least_request
    connectTimeout: 2s
    loadAssignment:
      clusterName: c
      endpoints:
      - lbEndpoints:
        - endpoint: { address: { socketAddress: { address: backend, portValue: 9000 } } }
`;
  const r = parseConfig(text, 'a.yaml');
  assert.equal(r.format, 'envoy');
  assert.deepEqual(found(text), []);
  const c = r.config!.static_resources!.clusters![0]!;
  assert.equal(c.type, 'STRICT_DNS');
  assert.equal(c.lb_policy, 'LEAST_REQUEST');
  assert.deepEqual(c.connect_timeout, { seconds: 2, nanos: 0 });
  assert.equal(c.load_assignment!.endpoints![0]!.lb_endpoints![0]!.endpoint!.address!.socket_address!.port_value, 9000);
});

test('scalars as Envoy reads YAML: yes is a boolean (refused for a string), big integers become strings', () => {
  assert.deepEqual(found(bootstrap('', '    respect_dns_ttl: yes\n')), []);
  assert.deepEqual(found(bootstrap('          server_name: on\n')), ['11:24 error envoy-invalid-value']);
  // An integer beyond int32 is a string to Envoy's YAML reader, which a string field accepts.
  assert.deepEqual(found(bootstrap('          server_name: 12345678901\n')), []);
  assert.deepEqual(found(bootstrap('          server_name: 123\n')), ['11:24 error envoy-invalid-value']);
});

test('legacy JSON syntax Envoy accepts: one element for a list, nested lists, boolean strings, wrappers and durations as messages', () => {
  const text = bootstrap(
    '          use_remote_address: "true"\n          common_http_protocol_options: { idle_timeout: { seconds: 30 } }\n',
    '    per_connection_buffer_limit_bytes: { value: 1024 }\n    transport_socket_matches: { name: m, match: {}, transport_socket: { name: raw } }\n',
  );
  assert.deepEqual(found(text), []);
  assert.deepEqual(found(bootstrap('', '    per_connection_buffer_limit_bytes: { value: 1024, unit: b }\n')), ['24:55 error envoy-unknown-field']);
});

test('Any: each typed_config by its @type at any depth; unknown types are errors, contrib and third-party ones warnings', () => {
  const compressor = (inner: string, type = 'envoy.extensions.compression.gzip.compressor.v3.Gzip'): string =>
    bootstrap(`          http_filters:
          - name: envoy.filters.http.compressor
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
              compressor_library:
                name: gzip
                typed_config:
                  "@type": type.googleapis.com/${type}
${inner}`).replace(/          http_filters:\n          - name: envoy.filters.http.router\n            typed_config: \{[^}]*\}\n/, '');
  assert.deepEqual(found(compressor('                  memory_level: 9\n')), []);
  assert.deepEqual(found(compressor('                  memory_levl: 9\n')), ['19:19 error envoy-unknown-field']);
  assert.deepEqual(found(compressor('                  memory_level: 10\n')), ['19:33 error envoy-number-rule']);
  assert.deepEqual(found(compressor('', 'envoy.extensions.compression.gzip.compressor.v3.Gzp')), ['18:28 error envoy-unknown-type']);
  const contrib = parseConfig(compressor('', 'envoy.extensions.compression.qatzip.compressor.v3alpha.Qatzip'), 'a.yaml');
  const w = contrib.diagnostics.find((d) => d.ruleId === 'envoy-unknown-type')!;
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /contrib extension \(compression\.qatzip\)/);
  assert.equal(classifyUnknownType('istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig').kind, 'third-party');
  assert.equal(classifyUnknownType('envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager').kind, 'v2');
  assert.deepEqual(classifyUnknownType('envoy.extensions.filters.network.kafka_broker.v3.KafkaBroker'), { kind: 'contrib', family: 'filters.network.kafka_broker' });
  assert.equal(classifyUnknownType('envoy.extensions.filters.http.routr.v3.Router').kind, 'unknown');
});

test('an Any holding a wrapper: its `value` judged as the wrapped scalar (a StringValue threw an internal error)', () => {
  const any = (type: string, value: string): string =>
    bootstrap().replace(`typed_config: { "@type": ${ROUTER} }`, `typed_config: { "@type": type.googleapis.com/google.protobuf.${type}, value: ${value} }`);
  const r = parseConfig(any('StringValue', 'hello'), 'a.yaml');
  assert.equal(r.format, 'envoy');
  assert.deepEqual(found(any('StringValue', 'hello')).filter((x) => x.includes('envoy-')), []);
  assert.deepEqual(found(any('UInt32Value', '-1')).filter((x) => x.includes('envoy-')), ['20:94 error envoy-invalid-value']);
});

test('a TypedStruct is judged as the message its type_url names', () => {
  const text = bootstrap(`          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/xds.type.v3.TypedStruct
              type_url: type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
              value: { dynamic_stats: true, suppress_envoy_headerz: true }
`).replace(/          http_filters:\n          - name: envoy.filters.http.router\n            typed_config: \{[^}]*\}\n/, '');
  assert.deepEqual(found(text), ['16:45 error envoy-unknown-field']);
});

test('required fields, oneofs and deprecated defaults are checked where the message starts', () => {
  const text = bootstrap('', '    health_checks:\n    - timeout: 1s\n      interval: 1s\n');
  const r0 = parseConfig(text, 'a.yaml');
  assert.deepEqual(
    r0.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.span.line}:${d.span.column} ${d.ruleId} ${d.message}`),
    [
      '25:7 envoy-required HealthCheck needs `unhealthy_threshold`: Envoy requires it (message.required)',
      '25:7 envoy-required HealthCheck needs `healthy_threshold`: Envoy requires it (message.required)',
      '25:7 envoy-oneof-required HealthCheck needs one of `http_health_check`, `tcp_health_check`, `grpc_health_check` or `custom_health_check`: Envoy requires one (oneof `health_checker`)',
    ],
  );
  const ads = `dynamic_resources:
  ads_config:
    transport_api_version: V3
    grpc_services: [ { envoy_grpc: { cluster_name: x } } ]
`;
  const r = parseConfig(ads + 'layered_runtime: {}\n', 'a.yaml');
  const d = r.diagnostics.find((x) => x.ruleId === 'envoy-deprecated-field')!;
  assert.equal(d.severity, 'error');
  assert.match(d.message, /`api_type` is not set, and its default `DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE` is deprecated/);
});

test('cluster references: every place Envoy takes a cluster name, and what picks one at run time', () => {
  const text = bootstrap(`          tracing:
            provider:
              name: envoy.tracers.zipkin
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig
                collector_cluster: zipkin
                collector_endpoint: /api/v2/spans
                collector_endpoint_version: HTTP_JSON
`);
  const r = parseConfig(text, 'a.yaml');
  assert.deepEqual(
    r.envoy!.refs.map((x) => `${x.name} ${x.via.split('.').slice(-2).join('.')}`),
    ['zipkin ZipkinConfig.collector_cluster', 'c RouteAction.cluster'],
  );
  assert.equal(r.envoy!.chosenAtRunTime, undefined);
  const lua = bootstrap(`          http_filters:
          - name: envoy.filters.http.lua
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
              default_source_code: { inline_string: "function envoy_on_request(h) end" }
          - name: envoy.filters.http.router
            typed_config: { "@type": ${ROUTER} }
`).replace(/(          http_filters:[\s\S]*?)          http_filters:\n          - name: envoy.filters.http.router\n            typed_config: \{[^}]*\}\n/, '$1');
  assert.match(parseConfig(lua, 'a.yaml').envoy!.chosenAtRunTime ?? '', /Lua/);
});

test('which files are Envoy-shaped: by @type, or by top-level keys that meshctl does not share', () => {
  const api = envoyApi();
  const meshctl = new Set(['node', 'static_resources', 'admin', 'dynamic_resources', 'http_server', 'dns_query', 'tls_context', 'cluster']);
  const shape = (text: string): string => bootstrapShape(topLevelKeys(text), api.index.bootstrapFields, meshctl);
  assert.equal(shape('static_resources: {}\nlayered_runtime: {}\n'), 'envoy');
  assert.equal(shape('{"staticResources": {}, "admin": {}}'), 'envoy');
  assert.equal(shape('# c\nnode: {}\nstatic_resources:\n  clusters: []\n'), 'shared');
  assert.equal(shape('static_resources: {}\nhttp_server: {}\n'), 'meshctl');
  assert.equal(shape('static_resourcez: {}\n'), 'other');
  // meshctl's own YAML with Envoy typed_configs and an http_server stays meshctl's.
  assert.equal(parseConfig(bootstrap('', '', 'http_server: { prometheus: { metrics_path: /metrics } }\n'), 'a.yaml').format, 'yaml');
});

test('a meshctl-shaped file: fields Envoy knows are notes, not unknown (with a wrong hint)', () => {
  const text = 'static_resources:\n  clusters:\n  - name: c\n    connect_timeout: 1s\n    upstream_connection_options: { tcp_keepalive: {} }\n    conect_timeout: 1s\n';
  const r = parseConfig(text, 'a.yaml');
  assert.equal(r.format, 'yaml');
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.span.line} ${d.severity} ${d.ruleId}`),
    ['5 info unmodeled-field', '6 warning unknown-field'],
  );
});

test('constraints: strings', () => {
  assert.equal(checkString('', { min_len: 1 })?.constraint, 'string min_len: 1');
  assert.equal(checkString('ab', { max_len: 1 })?.problem, 'is 2 characters long');
  assert.equal(checkString('é', { max_bytes: 1 })?.constraint, 'string max_bytes: 1');
  assert.equal(checkString('é', { max_len: 1 }), undefined);
  assert.equal(checkString('/api/', { pattern: '^[^?#]+[^?#/]$' })?.constraint, 'string pattern: "^[^?#]+[^?#/]$"');
  assert.equal(checkString('/api', { pattern: '^[^?#]+[^?#/]$' }), undefined);
  assert.equal(checkString('x', { prefix: 'y' })?.constraint, 'string prefix: "y"');
  assert.equal(checkString('x', { in: ['http', 'https'] })?.constraint, 'string in: ["http", "https"]');
  assert.equal(checkString('', { min_len: 1, ignore_empty: true }), undefined);
  assert.equal(checkString('a b', { well_known_regex: 'HTTP_HEADER_NAME' })?.ruleId, 'envoy-string-rule');
  assert.equal(checkString('a b', { well_known_regex: 'HTTP_HEADER_NAME', strict: false }), undefined);
  assert.equal(checkString('a\nb', { well_known_regex: 'HTTP_HEADER_VALUE', strict: false })?.constraint, 'string well_known_regex: HTTP_HEADER_VALUE, strict: false');
  assert.equal(checkString('10.0.0.1', { ip: true }), undefined);
  assert.equal(checkString('10.0.0.256', { ipv4: true })?.constraint, 'string ipv4: true');
  assert.equal(checkString('::1', { ipv6: true }), undefined);
  assert.equal(checkString('-bad.example', { hostname: true })?.constraint, 'string hostname: true');
  assert.equal(checkString('svc.example.', { address: true }), undefined);
  assert.equal(checkString('under_score', { address: true })?.constraint, 'string address: true');
  assert.equal(checkString('123e4567-e89b-12d3-a456-426614174000', { uuid: true }), undefined);
  assert.equal(isHostname('a'.repeat(64) + '.com'), false);
});

test('constraints: numbers, ranges inside and outside, durations, repeated', () => {
  assert.equal(checkNumber('uint32', 70000, { lte: 65535 })?.constraint, 'uint32 lte: 65535');
  assert.equal(checkNumber('uint32', 0, { gte: 1, lte: 9 })?.constraint, 'uint32 gte: 1, lte: 9');
  assert.equal(checkNumber('uint32', 5, { gte: 1, lte: 9 }), undefined);
  // An upper bound below the lower one: the value must be outside (PGV's exclusive range).
  assert.equal(checkNumber('int32', 5, { lt: 1, gt: 9 })?.ruleId, 'envoy-number-rule');
  assert.equal(checkNumber('int32', 10, { lt: 1, gt: 9 }), undefined);
  assert.equal(checkNumber('uint64', 2n ** 63n, { lte: 9223372036854776000 }), undefined);
  assert.equal(checkNumber('double', 0, { gt: 0 })?.constraint, 'double gt: 0');
  assert.equal(checkNumber('uint32', 3, { in: [1, 2] })?.constraint, 'uint32 in: [1, 2]');
  assert.equal(checkNumber('uint32', 0, { gt: 0, ignore_empty: true }), undefined);
  assert.equal(checkDuration(0n, { gt: {} })?.constraint, 'duration gt: 0s');
  assert.equal(checkDuration(500_000n, { gte: { nanos: 1000000 } })?.constraint, 'duration gte: 0.001s');
  assert.equal(checkDuration(2_000_000_000n, { lte: { seconds: 1 }, gte: { nanos: 20000000 } })?.problem, 'is 2s');
  // lte 0s and gte 1s: outside (0s, 1s) — 0s and 5s pass, 0.5s does not.
  assert.equal(checkDuration(0n, { lte: {}, gte: { seconds: 1 } }), undefined);
  assert.equal(checkDuration(500_000_000n, { lte: {}, gte: { seconds: 1 } })?.ruleId, 'envoy-duration-rule');
  assert.equal(checkRepeatedCount(0, { min_items: 1 })?.problem, 'is empty');
  assert.equal(checkRepeatedCount(3, { max_items: 2 })?.constraint, 'repeated max_items: 2');
});

test('every pattern rule in the copy compiles as a JavaScript regular expression', () => {
  const api = envoyApi();
  const patterns = new Set<string>();
  for (const pkg of api.index.packages) {
    for (const name of api.messageNames(pkg)) {
      for (const f of api.message(`${pkg}.${name}`)!.fields) {
        const s = f.rules?.['string'] as { pattern?: string } | undefined;
        if (s?.pattern !== undefined) patterns.add(s.pattern);
      }
    }
  }
  assert.ok(patterns.size >= 3);
  for (const p of patterns) assert.doesNotThrow(() => new RegExp(`^(?:${p})$`, 'u'), p);
});

test('a value Envoy accepts and the model cannot hold is a note, and is kept verbatim for convert', async () => {
  const { emitConfig } = await import('../../src/config/convert.js');
  // HttpHealthCheck.method is an enum in Envoy's API (a number is one of its values), a string in meshctl's model
  const text = bootstrap(
    '',
    `    health_checks:
    - timeout: 1s
      interval: 5s
      healthy_threshold: 1
      unhealthy_threshold: 1
      http_health_check: { path: /healthz, method: 1 }
`,
  );
  const r = parseConfig(text, 'a.yaml');
  const notes = r.diagnostics.filter((d) => d.ruleId === 'unmodeled-field');
  assert.ok(notes.some((d) => /Envoy accepts this value/.test(d.message)), notes.map((d) => d.message).join('\n'));
  assert.deepEqual(found(text), []);
  const out = emitConfig(r.config!, 'envoy').text;
  assert.match(out, /method: 1/);
});

test('match_subject_alt_names holds StringMatchers, as Envoy does: read, judged, and written back', async () => {
  const { emitConfig } = await import('../../src/config/convert.js');
  const text = bootstrap(
    '',
    `    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
          validation_context:
            match_subject_alt_names:
            - exact: backend.internal
            - { suffix: .example.com, ignore_case: true }
`,
  );
  const r = parseConfig(text, 'a.yaml');
  // deprecated in Envoy's API (match_typed_subject_alt_names is its successor), loaded with a warning
  const line = text.split('\n').findIndex((l) => l.includes('match_subject_alt_names')) + 1;
  assert.deepEqual(found(text), [`${line}:13 warning envoy-deprecated-field`]);
  assert.deepEqual(r.diagnostics.filter((d) => d.ruleId === 'unmodeled-field'), []);
  const sans = r.config!.static_resources!.clusters![0]!.transport_socket!.typed_config!.common_tls_context!.validation_context!.match_subject_alt_names;
  assert.deepEqual(sans, [{ exact: 'backend.internal' }, { suffix: '.example.com', ignore_case: true }]);
  const out = emitConfig(r.config!, 'yaml').text;
  const back = parseConfig(out, 'back.yaml', { from: 'yaml' });
  assert.deepEqual(back.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual(back.config!.static_resources!.clusters![0]!.transport_socket!.typed_config!.common_tls_context!.validation_context!.match_subject_alt_names, sans);
});

test('a field or type Envoy added after meshctl\'s API copy is a warning naming the release; a typo beside it stays an error', () => {
  const socket = (config: string): string =>
    `    transport_socket:
      name: envoy.transport_sockets.upstream_proxy_protocol
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport
        config:
          version: V2
${config}        transport_socket:
          name: envoy.transport_sockets.raw_buffer
          typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer }
`;
  const newer = bootstrap('', socket('          added_tlvs: [ { type: 238, value: ZGVmYXVsdA== } ]\n'));
  const at = newer.split('\n').findIndex((l) => l.includes('added_tlvs')) + 1;
  assert.deepEqual(found(newer).filter((d) => !d.includes('unmodeled-extension')), [`${at}:11 warning envoy-newer-api`]);
  assert.match(parseConfig(newer, 'a.yaml').diagnostics.find((d) => d.ruleId === 'envoy-newer-api')!.message, /Envoy 1\.34's API, newer than meshctl's copy/);
  const typo = bootstrap('', socket('          added_tlv: [ { type: 238, value: ZGVmYXVsdA== } ]\n'));
  assert.deepEqual(found(typo).filter((d) => !d.includes('unmodeled-extension')), [`${at}:11 error envoy-unknown-field`]);
});
