/** Every rewrite of the article's dialect onto the canonical model, each with its dialect note. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, dialectNotes, metaOf, refreshServiceCluster } from '../../src/config/index.js';
import type { Bootstrap } from '../../src/config/index.js';

function parse(text: string, file = 'dialect.textproto'): Bootstrap {
  const r = parseConfig(text, file);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], r.diagnostics.map((d) => d.message).join('; '));
  assert.ok(r.config);
  return r.config;
}

function notes(c: Bootstrap): string[] {
  return dialectNotes(c).map((n) => `${n.path} ${n.note.construct} ${n.note.span.line}:${n.note.span.column}`);
}

test('wrapper blocks are unwrapped, one note per element', () => {
  const c = parse(`static_resources {
  clusters {
    cluster { name: "a" }
    cluster { name: "b" }
  }
  listeners { listener { name: "l" filter_chains { filter_chain { filters { name: "x" } } } } }
}`);
  assert.deepEqual(c.static_resources?.clusters?.map((x) => x.name), ['a', 'b']);
  assert.equal(c.static_resources?.listeners?.[0]?.filter_chains?.[0]?.filters?.[0]?.name, 'x');
  assert.deepEqual(notes(c), [
    'static_resources.clusters[0] wrapper-block 3:5',
    'static_resources.clusters[1] wrapper-block 4:5',
    'static_resources.listeners[0] wrapper-block 6:15',
    'static_resources.listeners[0].filter_chains[0] wrapper-block 6:52',
  ]);
});

test('a field the element type has is not mistaken for a wrapper', () => {
  // LbEndpoint has `endpoint`: lb_endpoints { endpoint { … } } is Envoy's own shape.
  const c = parse('cluster { name: "c" load_assignment { endpoints { lb_endpoints { endpoint { hostname: "h" } } } } }');
  assert.equal(c.static_resources?.clusters?.[0]?.load_assignment?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.hostname, 'h');
  assert.deepEqual(notes(c), ['static_resources.clusters[0] top-level-fragment 1:1']);
});

test('top-level fragments move under static_resources, merging with one that exists', () => {
  const c = parse(`listener { name: "l1" }
static_resources { clusters { name: "c0" } }
cluster { name: "c1" }
service_cluster_discovery_refresh_service { service_name: "s" service_url: "http://127.0.0.1:1/x/web" }
`);
  const sr = c.static_resources!;
  assert.deepEqual(sr.clusters?.map((x) => x.name), ['c0', 'c1']);
  assert.deepEqual(sr.listeners?.map((x) => x.name), ['l1']);
  assert.equal(sr.service_cluster_discovery_refresh_service?.[0]?.service_name, 's');
  assert.deepEqual(notes(c), [
    'static_resources.listeners[0] top-level-fragment 1:1',
    'static_resources.clusters[1] top-level-fragment 3:1',
    'static_resources.service_cluster_discovery_refresh_service[0] top-level-fragment 4:1',
  ]);
  assert.equal(refreshServiceCluster(sr.service_cluster_discovery_refresh_service![0]!), 'web');
  assert.equal(refreshServiceCluster({ cluster_name: 'explicit', service_url: 'http://h/x/y' }), 'explicit');
  assert.equal(refreshServiceCluster({ service_url: 'http://h/cluster/api/?v=1' }), 'api');
});

test('endpoint shorthand: address and weight on an endpoint become lb_endpoints with load_balancing_weight', () => {
  const c = parse(`cluster {
  name: "c"
  load_assignment {
    endpoints { address { socket_address { address: "127.0.0.1" port_value: 1 } } weight: 1 }
    endpoints { address { socket_address { address: "127.0.0.2" port_value: 2 } } weight: 2 health_status: DRAINING }
  }
}`);
  const la = c.static_resources!.clusters![0]!.load_assignment!;
  assert.equal(la.endpoints?.length, 1);
  const lbs = la.endpoints![0]!.lb_endpoints!;
  assert.deepEqual(
    lbs.map((e) => [e.endpoint?.address?.socket_address?.port_value, e.load_balancing_weight, e.health_status]),
    [
      [1, 1, undefined],
      [2, 2, 'DRAINING'],
    ],
  );
  const n = notes(c).filter((x) => x.includes('endpoint-shorthand'));
  assert.deepEqual(n, [
    'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0] endpoint-shorthand 4:15',
    'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[1] endpoint-shorthand 5:15',
  ]);
  assert.match(dialectNotes(c).find((x) => x.note.construct === 'endpoint-shorthand')!.note.envoyPlacement, /lb_endpoints/);
});

test('endpoint shorthand in YAML lists, and `weight` on a full LbEndpoint', () => {
  const c = parse(
    `static_resources:
  clusters:
  - name: c
    load_assignment:
      endpoints:
      - address: {socket_address: {address: 127.0.0.1, port_value: 1}}
        weight: 5
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.2, port_value: 2}}}
          weight: 7
`,
    'c.yaml',
  );
  const eps = c.static_resources!.clusters![0]!.load_assignment!.endpoints!;
  assert.equal(eps.length, 2);
  assert.equal(eps[0]!.lb_endpoints![0]!.load_balancing_weight, 5);
  assert.equal(eps[1]!.lb_endpoints![0]!.load_balancing_weight, 7);
  assert.deepEqual(
    dialectNotes(c).map((n) => n.note.construct),
    ['endpoint-shorthand', 'endpoint-weight'],
  );
});

test('codec: "http2" becomes codec_type HTTP2; other spellings too', () => {
  for (const [written, expected] of [
    ['"http2"', 'HTTP2'],
    ['"HTTP/1.1"', 'HTTP1'],
    ['"auto"', 'AUTO'],
    ['"h3"', 'HTTP3'],
  ] as const) {
    const c = parse(`listener { filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config { codec: ${written} } } } }`);
    const hcm = c.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config!;
    assert.equal(hcm.codec_type, expected);
    assert.deepEqual(metaOf(hcm)?.dialect?.map((n) => n.construct), ['codec-shorthand']);
  }
  const r = parseConfig('listener { filter_chains { filters { typed_config { codec: "spdy" } } } }', 'x.textproto');
  assert.equal(r.diagnostics[0]?.ruleId, 'invalid-value');
});

test('transport_socket inside the connection manager moves to the filter chain; tls_context and certificate files unwrap', () => {
  const c = parse(`listener {
  filter_chains {
    filters {
      name: "envoy.http_connection_manager"
      typed_config {
        stat_prefix: "x"
        transport_socket {
          name: "tls"
          typed_config {
            tls_context {
              common_tls_context {
                certificate_key_file: "k.pem"
                certificate_chain_file: "c.pem"
              }
            }
          }
        }
      }
    }
  }
}`);
  const chain = c.static_resources!.listeners![0]!.filter_chains![0]!;
  assert.equal(chain.filters![0]!.typed_config!.transport_socket, undefined);
  assert.equal(Object.keys(metaOf(chain.filters![0]!.typed_config)!.fields).includes('transport_socket'), false);
  const ts = chain.transport_socket!;
  assert.equal(ts.name, 'tls');
  assert.deepEqual(
    ts.typed_config!.common_tls_context!.tls_certificates!.map((t) => [t.certificate_chain?.filename, t.private_key?.filename]),
    [['c.pem', 'k.pem']],
  );
  assert.deepEqual(notes(c).slice(1), [
    'static_resources.listeners[0].filter_chains[0].transport_socket transport-socket-in-hcm 7:9',
    'static_resources.listeners[0].filter_chains[0].transport_socket.typed_config tls-context-wrapper 10:13',
    'static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates[0] certificate-file-shorthand 12:17',
  ]);
  assert.equal(metaOf(chain)?.fields['transport_socket']?.keySpan?.line, 7);
});

test('a transport socket both on the chain and in the connection manager is an error', () => {
  const r = parseConfig(
    `listener { filter_chains {
  transport_socket { name: "a" }
  filters { typed_config { transport_socket { name: "b" } } }
} }`,
    'x.textproto',
  );
  const d = r.diagnostics.find((x) => x.ruleId === 'duplicate-field');
  assert.ok(d);
  assert.equal(d.span.line, 3);
  assert.equal(r.config?.static_resources?.listeners?.[0]?.filter_chains?.[0]?.transport_socket?.name, 'a');
});

test('certificate files join tls_certificates as element 0, before certificates written in full', () => {
  const c = parse(`tls_context { common_tls_context {
  tls_certificates { certificate_chain { filename: "second.crt" } }
  certificate_chain_file: "first.crt"
} }`);
  assert.deepEqual(
    c.tls_context!.common_tls_context!.tls_certificates!.map((t) => t.certificate_chain?.filename),
    ['first.crt', 'second.crt'],
  );
});

test("Envoy v2's tls_context on a filter chain or cluster becomes a TLS transport_socket", () => {
  const c = parse(`static_resources {
  listeners { filter_chains { tls_context { require_client_certificate: true } } }
  clusters { name: "c" tls_context { sni: "up.example" } }
}`);
  const fc = c.static_resources!.listeners![0]!.filter_chains![0]!;
  assert.equal(fc.transport_socket?.name, 'envoy.transport_sockets.tls');
  assert.equal(fc.transport_socket?.typed_config?.require_client_certificate, true);
  assert.equal(c.static_resources!.clusters![0]!.transport_socket?.typed_config?.sni, 'up.example');
  assert.deepEqual(
    dialectNotes(c).map((n) => `${n.path} ${n.note.construct}`),
    ['static_resources.listeners[0].filter_chains[0].transport_socket v2-tls-context', 'static_resources.clusters[0].transport_socket v2-tls-context'],
  );
});

test('a non-HCM filter in text-proto keeps its typed_config verbatim', () => {
  const r = parseConfig(
    'listener { filter_chains { filters { name: "envoy.filters.network.tcp_proxy" typed_config { stat_prefix: "db" cluster: "pg" } } } }',
    'x.textproto',
  );
  const f = r.config!.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!;
  assert.equal(f.typed_config, undefined);
  assert.deepEqual(f.unmodeled, { typed_config: { stat_prefix: 'db', cluster: 'pg' } });
  assert.deepEqual(r.diagnostics.map((d) => d.ruleId), ['unmodeled-extension']);
});
