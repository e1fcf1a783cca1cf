/** YAML and JSON input: values by field type, errors with positions, comments, aliases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, META, metaOf } from '../../src/config/index.js';
import type { Diagnostic, ParseResult } from '../../src/config/index.js';

function diags(r: ParseResult): string[] {
  return r.diagnostics.map((d: Diagnostic) => `${d.severity} ${d.ruleId} ${d.span.line}:${d.span.column}`);
}

test('scalars by field type: ints from numbers and digit strings, 64-bit, floats, bools, enums by name or number', () => {
  const r = parseConfig(
    `{
  "static_resources": {"clusters": [{
    "name": "c",
    "type": 1,
    "lb_policy": "RING_HASH",
    "ring_hash_lb_config": {"minimum_ring_size": "9007199254740993", "maximum_ring_size": 4096},
    "least_request_lb_config": {"active_request_bias": 1.5, "choice_count": {"value": 4}},
    "respect_dns_ttl": true,
    "load_assignment": {"endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"port_value": "8080"}}}}]}]}
  }]}
}`,
    'x.json',
  );
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.format, 'json');
  const c = r.config!.static_resources!.clusters![0]!;
  assert.equal(c.type, 'STRICT_DNS');
  assert.equal(c.lb_policy, 'RING_HASH');
  assert.equal(c.ring_hash_lb_config!.minimum_ring_size, 9007199254740992, 'uint64 strings are accepted (as the nearest double)');
  assert.equal(c.ring_hash_lb_config!.maximum_ring_size, 4096);
  assert.equal(c.least_request_lb_config!.active_request_bias, 1.5);
  assert.equal(c.least_request_lb_config!.choice_count, 4, 'wrapper written as {value: N}');
  assert.equal(c.respect_dns_ttl, true);
  assert.equal(c.load_assignment!.endpoints![0]!.lb_endpoints![0]!.endpoint!.address!.socket_address!.port_value, 8080);
});

test('durations in every accepted form', () => {
  const r = parseConfig(
    `static_resources:
  clusters:
  - {name: a, connect_timeout: 0.25s}
  - {name: b, connect_timeout: "5s"}
  - {name: c, connect_timeout: 2}
  - {name: d, connect_timeout: {seconds: 1, nanos: 500000000}}
  - {name: e, connect_timeout: 1.5}
  - {name: f, connect_timeout: 250ms}
`,
    'd.yaml',
  );
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(
    r.config!.static_resources!.clusters!.map((c) => [c.connect_timeout!.seconds, c.connect_timeout!.nanos]),
    [
      [0, 250_000_000],
      [5, 0],
      [2, 0],
      [1, 500_000_000],
      [1, 500_000_000],
      [0, 250_000_000],
    ],
  );
});

test('wrong types are invalid-value errors at the value; the rest of the config still decodes', () => {
  const r = parseConfig(
    `static_resources:
  clusters:
  - name: 42
    lb_policy: round_robbin
    connect_timeout: soon
    respect_dns_ttl: "yes"
    load_assignment:
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {port_value: 99999999999}}}
  - name: fine
`,
    'bad.yaml',
  );
  assert.deepEqual(diags(r), [
    'error invalid-value 3:11',
    'error invalid-value 4:16',
    'error invalid-value 5:22',
    'error invalid-value 6:22',
    'error invalid-value 10:61',
  ]);
  assert.match(r.diagnostics[1]!.hint!, /ROUND_ROBIN/);
  assert.match(r.diagnostics[0]!.hint!, /quote/);
  assert.equal(r.config!.static_resources!.clusters![1]!.name, 'fine');
});

test('enum names: case-insensitive in YAML and JSON (as Envoy reads them), case-sensitive in text format', () => {
  const yaml = parseConfig('static_resources:\n  clusters:\n  - name: a\n    type: strict_dns\n    lb_policy: Round_Robin\n', 'a.yaml');
  assert.deepEqual(yaml.diagnostics, []);
  assert.equal(yaml.config!.static_resources!.clusters![0]!.type, 'STRICT_DNS');
  assert.equal(yaml.config!.static_resources!.clusters![0]!.lb_policy, 'ROUND_ROBIN');
  const json = parseConfig('{"static_resources": {"clusters": [{"name": "a", "lb_policy": "least_request"}]}}', 'a.json');
  assert.equal(json.config!.static_resources!.clusters![0]!.lb_policy, 'LEAST_REQUEST');
  const text = parseConfig('static_resources { clusters { name: "a" lb_policy: round_robin } }', 'a.textproto');
  assert.deepEqual(diags(text), ['error invalid-value 1:52']);
  assert.match(text.diagnostics[0]!.hint!, /ROUND_ROBIN/);
});

test('unknown fields: warning with did-you-mean, value kept verbatim in unmodeled', () => {
  const r = parseConfig(
    `static_resources:
  clusters:
  - name: c
    conect_timeout: 1s
    future_option: {nested: [1, two, {three: 3}]}
`,
    'u.yaml',
  );
  assert.deepEqual(diags(r), ['warning unknown-field 4:5', 'warning unknown-field 5:5']);
  assert.equal(r.diagnostics[0]!.hint, 'did you mean `connect_timeout`?');
  assert.equal(r.diagnostics[1]!.hint, undefined);
  assert.deepEqual(r.config!.static_resources!.clusters![0]!.unmodeled, {
    conect_timeout: '1s',
    future_option: { nested: [1, 'two', { three: 3 }] },
  });
  assert.deepEqual(Object.keys(r.config!.static_resources!.clusters![0]!), ['name', 'unmodeled']);
});

test('a field given twice is a duplicate-field error (YAML keys, and text-proto non-repeated fields)', () => {
  const y = parseConfig('admin:\n  access_log_path: a\n  access_log_path: b\n', 'd.yaml');
  assert.deepEqual(diags(y), ['error duplicate-field 3:3']);
  assert.equal(y.diagnostics[0]!.related?.[0]?.span.line, 2);
  assert.equal(y.config!.admin!.access_log_path, 'a');
  const t = parseConfig('admin { access_log_path: "a" access_log_path: "b" }', 'd.textproto');
  assert.deepEqual(diags(t), ['error duplicate-field 1:30']);
  // Repeated fields may be written repeatedly in text-proto.
  const ok = parseConfig('dns_query { nameservers: "1.1.1.1" nameservers: "8.8.8.8" }', 'r.textproto');
  assert.deepEqual(ok.diagnostics, []);
  assert.deepEqual(ok.config!.dns_query!.nameservers, ['1.1.1.1', '8.8.8.8']);
});

test('empty repeated fields are dropped; a single value for a repeated field is one element', () => {
  const r = parseConfig('static_resources:\n  clusters: []\n  listeners: []\ndns_query:\n  nameservers: 9.9.9.9\n', 'e.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(Object.keys(r.config!.static_resources!), []);
  assert.deepEqual(r.config!.dns_query!.nameservers, ['9.9.9.9']);
});

test('YAML syntax errors: config undefined, syntax-error at line:column', () => {
  const r = parseConfig('static_resources:\n  clusters: [a, b\n  listeners: []\n', 's.yaml');
  assert.equal(r.config, undefined);
  assert.equal(r.diagnostics[0]!.ruleId, 'syntax-error');
  assert.equal(r.diagnostics[0]!.severity, 'error');
  assert.ok(r.diagnostics[0]!.span.line >= 2);
  const j = parseConfig('{"admin": {"access_log_path": "x",}\n', 's.json');
  assert.equal(j.config, undefined);
  assert.equal(j.diagnostics[0]!.ruleId, 'syntax-error');
  const top = parseConfig('- a\n- b\n', 'l.yaml');
  assert.equal(top.config, undefined);
  assert.match(top.diagnostics[0]!.message, /mapping/);
});

test('multi-document YAML is rejected at the second document', () => {
  const r = parseConfig('admin: {}\n---\nnode: {id: x}\n', 'm.yaml');
  assert.equal(r.config, undefined);
  assert.deepEqual(diags(r), ['error multi-document 2:1']);
  // A lone leading `---` is one document.
  assert.deepEqual(parseConfig('---\nadmin: {}\n', 'one.yaml').diagnostics, []);
});

test('aliases and merge keys expand; runaway and circular aliases are refused', () => {
  const r = parseConfig(
    `base: &base {connect_timeout: 1s, type: STRICT_DNS}
static_resources:
  clusters:
  - <<: *base
    name: a
  - <<: *base
    name: b
    type: STATIC
`,
    'a.yaml',
  );
  assert.deepEqual(diags(r), ['warning unknown-field 1:1']);
  assert.deepEqual(r.config!.static_resources!.clusters!.map((c) => [c.name, c.type, c.connect_timeout?.seconds]), [
    ['a', 'STRICT_DNS', 1],
    ['b', 'STATIC', 1],
  ]);
  let bomb = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 9; i++) bomb += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
  const b = parseConfig(bomb, 'bomb.yaml');
  assert.equal(b.config, undefined);
  assert.equal(b.diagnostics[0]!.ruleId, 'alias-expansion');
  const cyc = parseConfig('node: &n {id: *n}\n', 'c.yaml');
  assert.equal(cyc.diagnostics[0]!.ruleId, 'alias-expansion');
});

test('comments are kept: leading and trailing on fields, on list elements, and at the end', () => {
  const r = parseConfig(
    `# the edge proxy
static_resources:
  clusters:
  # primary backend
  - name: web  # serves /
    connect_timeout: 1s
# end of file
`,
    'c.yaml',
  );
  const root = metaOf(r.config)!;
  assert.deepEqual(root.fields['static_resources']?.comments, { leading: ['the edge proxy'] });
  const c = r.config!.static_resources!.clusters![0]!;
  assert.deepEqual(c[META]!.fields['name']!.comments, { leading: ['primary backend'], trailing: 'serves /' });
  assert.deepEqual(root.trailingComments, ['end of file']);
});

test('JSON is read with positions and no comment scanning; `#` inside strings is data', () => {
  const r = parseConfig('{\n  "admin": {\n    "access_log_path": "/tmp/a#b"\n  }\n}\n', 'x.json');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.config!.admin!.access_log_path, '/tmp/a#b');
  const fm = metaOf(r.config!.admin)!.fields['access_log_path']!;
  assert.deepEqual([fm.keySpan!.line, fm.keySpan!.column, fm.span.endLine, fm.span.endColumn], [3, 5, 3, 34]);
  assert.equal(fm.comments, undefined);
});

test("Envoy's RuntimeDouble reads as its default; input keys named __proto__ stay data", () => {
  const r = parseConfig(
    'static_resources:\n  clusters:\n  - name: c\n    least_request_lb_config:\n      active_request_bias: {default_value: 0.5, runtime_key: lr.bias}\n    __proto__: {polluted: true}\n',
    'rt.yaml',
  );
  const c = r.config!.static_resources!.clusters![0]!;
  assert.equal(c.least_request_lb_config!.active_request_bias, 0.5);
  assert.deepEqual(Object.keys(c.unmodeled!), ['__proto__']);
  assert.equal(Object.getPrototypeOf(c.unmodeled), Object.prototype);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('a stream of many YAML documents is refused at the second one', () => {
  const r = parseConfig('admin: {}\n---\nadmin: {}\n'.repeat(500), 'docs.yaml');
  assert.equal(r.config, undefined);
  assert.deepEqual(diags(r), ['error multi-document 2:1']);
});
