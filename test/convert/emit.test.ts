/** The printers on hand-built models: field order, text-proto style, escapes, comments, JSON and YAML shape. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYamlText, parseDocument } from 'yaml';
import { emitConfig } from '../../src/config/convert.js';
import { META, type NodeMeta } from '../../src/config/node-meta.js';
import type { Bootstrap, Cluster } from '../../src/config/model.js';
import { durationText } from '../../src/config/duration.js';
import { quoteTextproto } from '../../src/config/emit/textproto.js';

const span = { file: 'hand.textproto', line: 1, column: 1, endLine: 1, endColumn: 2 };

function withMeta<T extends object>(node: T, meta: Partial<NodeMeta>): T {
  Object.defineProperty(node, META, { value: { span, fields: {}, ...meta }, enumerable: false });
  return node;
}

function weightedCluster(): Cluster {
  // keys deliberately out of proto order: the printers must follow the schema, not the object
  return {
    load_assignment: {
      endpoints: [
        {
          lb_endpoints: [
            { load_balancing_weight: 100, endpoint: { address: { socket_address: { port_value: 8080, address: '10.244.0.2' } } } },
            { load_balancing_weight: 200, endpoint: { address: { socket_address: { port_value: 8080, address: '10.244.0.3' } } } },
          ],
        },
      ],
      cluster_name: 'example-cluster',
    },
    lb_policy: 'RANDOM',
    connect_timeout: { seconds: 0, nanos: 250_000_000 },
    name: 'example-cluster',
  };
}

test('text-proto: proto field order, two-space indent, quoted strings, bare enums and durations', () => {
  const { text, diagnostics } = emitConfig({ static_resources: { clusters: [weightedCluster()] } }, 'textproto');
  assert.deepEqual(diagnostics, []);
  const lines = text.split('\n');
  assert.equal(lines[0], 'static_resources {');
  assert.equal(lines[1], '  clusters {');
  assert.equal(lines[2], '    name: "example-cluster"');
  assert.equal(lines[3], '    connect_timeout: 0.25s');
  assert.equal(lines[4], '    lb_policy: RANDOM');
  assert.equal(lines[5], '    load_assignment {');
  assert.equal(lines[6], '      cluster_name: "example-cluster"');
  assert.ok(text.includes('          load_balancing_weight: 200\n'));
  // endpoint comes before load_balancing_weight inside lb_endpoints, address before port_value
  assert.ok(text.indexOf('endpoint {') < text.indexOf('load_balancing_weight: 100'));
  assert.ok(text.indexOf('address: "10.244.0.2"') < text.indexOf('port_value: 8080'));
  assert.ok(text.endsWith('}\n'));
});

test('text-proto: repeated scalars as a list, empty messages as {}', () => {
  const config: Bootstrap = {
    dns_query: { name: 'example.service.local', nameservers: ['8.8.8.8', '127.0.0.1:5353'] },
    static_resources: {
      clusters: [{ name: 'c', common_lb_config: { locality_weighted_lb_config: {} } }],
    },
  };
  const { text } = emitConfig(config, 'textproto');
  assert.match(text, /^ {2}nameservers: \["8\.8\.8\.8", "127\.0\.0\.1:5353"\]$/m);
  assert.match(text, /^ {6}locality_weighted_lb_config \{\}$/m);
});

test('text-proto string escapes', () => {
  assert.equal(quoteTextproto('a"b\\c\nd\te\r'), '"a\\"b\\\\c\\nd\\te\\r"');
  assert.equal(quoteTextproto('\x01\x7f'), '"\\001\\177"');
  assert.equal(quoteTextproto('héllo ✓'), '"héllo ✓"');
});

test('durations: trimmed for text-proto, Envoy style for YAML/JSON/Envoy', () => {
  assert.equal(durationText({ seconds: 0, nanos: 250_000_000 }, 'short'), '0.25s');
  assert.equal(durationText({ seconds: 0, nanos: 250_000_000 }, 'envoy'), '0.250s');
  assert.equal(durationText({ seconds: 5, nanos: 0 }, 'envoy'), '5s');
  assert.equal(durationText({ seconds: 1, nanos: 1 }, 'envoy'), '1.000000001s');
  assert.equal(durationText({ seconds: 0, nanos: 1500 }, 'envoy'), '0.000001500s');
  assert.equal(durationText({ seconds: 0, nanos: 1500 }, 'short'), '0.0000015s');
  assert.equal(durationText({ seconds: -1, nanos: -500_000_000 }, 'short'), '-1.5s');
});

test('comments: leading and trailing comments from META come out in text-proto and YAML, not in JSON', () => {
  const cluster = withMeta(weightedCluster(), {
    fields: { name: { span, comments: { leading: ['the weighted cluster'], trailing: 'one third / two thirds' } } },
  });
  const config = withMeta<Bootstrap>({ static_resources: { clusters: [cluster] } }, { comments: { leading: ['from the article'] } });

  const tp = emitConfig(config, 'textproto').text;
  assert.match(tp, /^# from the article\nstatic_resources \{/);
  assert.match(tp, /^ {4}# the weighted cluster\n {4}name: "example-cluster" {2}# one third \/ two thirds$/m);

  const yaml = emitConfig(config, 'yaml').text;
  assert.match(yaml, /^# from the article$/m);
  assert.match(yaml, /^ {4}# the weighted cluster\n {4}- name: example-cluster # one third \/ two thirds$/m);
  assert.equal(parseDocument(yaml).errors.length, 0);

  const json = emitConfig(config, 'json');
  assert.ok(!json.text.includes('weighted cluster'));
  assert.deepEqual(
    json.diagnostics.map((d) => d.ruleId),
    ['comments-dropped'],
  );
});

test('JSON and YAML carry the same values (durations as strings, wrappers plain, enums by name)', () => {
  const config: Bootstrap = { static_resources: { clusters: [weightedCluster()] } };
  const fromJson = JSON.parse(emitConfig(config, 'json').text) as unknown;
  const fromYaml = parseYamlText(emitConfig(config, 'yaml').text) as unknown;
  assert.deepEqual(fromYaml, fromJson);
  const c = (fromJson as { static_resources: { clusters: Array<Record<string, unknown>> } }).static_resources.clusters[0]!;
  assert.deepEqual(Object.keys(c), ['name', 'connect_timeout', 'lb_policy', 'load_assignment']);
  assert.equal(c.connect_timeout, '0.250s');
  assert.equal(c.lb_policy, 'RANDOM');
});

test('unmodeled fields are written verbatim after the modelled ones, in every format', () => {
  const config: Bootstrap = {
    static_resources: { clusters: [{ name: 'c', unmodeled: { upstream_bind_config: { source_address: { address: '127.0.0.2', port_value: 0 } } } }] },
  };
  const tp = emitConfig(config, 'textproto').text;
  assert.match(tp, /name: "c"\n {4}upstream_bind_config \{\n {6}source_address \{\n {8}address: "127\.0\.0\.2"/);
  const json = JSON.parse(emitConfig(config, 'json').text) as { static_resources: { clusters: unknown[] } };
  assert.deepEqual(json.static_resources.clusters[0], {
    name: 'c',
    upstream_bind_config: { source_address: { address: '127.0.0.2', port_value: 0 } },
  });
  const yaml = parseYamlText(emitConfig(config, 'yaml').text) as typeof json;
  assert.deepEqual(yaml.static_resources.clusters[0], json.static_resources.clusters[0]);
});

test('non-finite doubles: inf/nan in text-proto, .inf in YAML, proto3 JSON strings in JSON', () => {
  const config: Bootstrap = {
    static_resources: { clusters: [{ name: 'c', common_lb_config: { healthy_panic_threshold: { value: Infinity } } }] },
  };
  assert.match(emitConfig(config, 'textproto').text, /value: inf$/m);
  assert.match(emitConfig(config, 'yaml').text, /value: \.inf$/m);
  assert.match(emitConfig(config, 'json').text, /"value": "Infinity"/);
});
