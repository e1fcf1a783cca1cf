/** The validator's pieces on their own: the glob expander, inline directives, hand-built models. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandBraces, globFiles } from '../../src/validate/util/glob.js';
import { readSuppressions } from '../../src/validate/suppress.js';
import { validateParsed } from '../../src/validate/index.js';
import { SourceFile } from '../../src/config/source.js';
import type { Bootstrap, ParseResult, Route } from '../../src/config/model.js';

test('glob: *, ?, [..], {a,b} and ** over real directories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-glob-'));
  try {
    for (const f of ['a.yaml', 'b.yml', 'c.textproto', '.hidden.yaml', 'x/d.yaml', 'x/y/e.yaml', 'node_modules/n.yaml']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), '');
    }
    assert.deepEqual(globFiles('*.yaml', dir), ['a.yaml']);
    assert.deepEqual(globFiles('?.y*ml', dir), ['a.yaml', 'b.yml']);
    assert.deepEqual(globFiles('[ab].*', dir), ['a.yaml', 'b.yml']);
    assert.deepEqual(globFiles('*.{yml,textproto}', dir), ['b.yml', 'c.textproto']);
    assert.deepEqual(globFiles('**/*.yaml', dir), ['a.yaml', 'x/d.yaml', 'x/y/e.yaml']);
    assert.deepEqual(globFiles('x/**/e.yaml', dir), ['x/y/e.yaml']);
    assert.deepEqual(globFiles(join(dir, 'x', '*.yaml')), [join(dir, 'x', 'd.yaml')]);
    assert.deepEqual(globFiles('nothing/*.yaml', dir), []);
    assert.deepEqual(expandBraces('a{b,c{d,e}}f'), ['abf', 'acdf', 'acef']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inline directives apply to the next code line, stack, and take an explanation', () => {
  const text = [
    'a: 1',
    '# meshctl-disable-next-line rule-a, rule-b -- why',
    '',
    '# an ordinary comment',
    'b: 2',
    'c: 3 # meshctl-disable-next-line',
    'd: 4',
    '// meshctl-disable-next-line rule-c',
    '# meshctl-disable-next-line rule-d',
    'e: 5',
  ].join('\n');
  const { disables: d, problems } = readSuppressions(new SourceFile('t.yaml', text), new Set(['rule-a', 'rule-b', 'rule-c', 'rule-d']));
  assert.deepEqual(problems, []);
  assert.deepEqual([...d.keys()], [5, 7, 10]);
  assert.deepEqual([...d.get(5)!], ['rule-a', 'rule-b']);
  assert.deepEqual([...d.get(7)!], ['*']);
  assert.deepEqual([...d.get(10)!], ['rule-c', 'rule-d']);
});

function parsed(config: Bootstrap): ParseResult {
  return { config, diagnostics: [], source: new SourceFile('hand.yaml', ''), format: 'yaml' };
}

test('validateParsed on a hand-built model (no source positions): problems point at the file', () => {
  const config: Bootstrap = {
    static_resources: {
      clusters: [{ name: 'example-cluster', connect_timeout: { seconds: 1, nanos: 0 } }],
      listeners: [
        {
          name: 'l',
          address: { socket_address: { address: '127.0.0.1', port_value: 8080 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    route_config: {
                      name: 'r',
                      virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'exampel-cluster' } }] }],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
  const diags = validateParsed(parsed(config));
  const unknown = diags.find((d) => d.ruleId === 'route-unknown-cluster');
  assert.ok(unknown);
  assert.equal(unknown.hint, 'did you mean `example-cluster`?');
  assert.deepEqual([unknown.span.file, unknown.span.line, unknown.span.column], ['hand.yaml', 1, 1]);
  assert.ok(diags.some((d) => d.ruleId === 'unused-cluster'));
  // Options: disable, severity override.
  assert.ok(!validateParsed(parsed(config), { disable: ['route-unknown-cluster'] }).some((d) => d.ruleId === 'route-unknown-cluster'));
  assert.equal(validateParsed(parsed(config), { rules: { 'unused-cluster': 'error' } }).find((d) => d.ruleId === 'unused-cluster')?.severity, 'error');
});

test('validateParsed: a config that failed to parse reports only the parse diagnostics', () => {
  const span = { file: 'x.textproto', line: 2, column: 3, endLine: 2, endColumn: 4 };
  const r: ParseResult = {
    config: undefined,
    diagnostics: [{ ruleId: 'syntax-error', severity: 'error', message: 'expected `}`', span }],
    source: new SourceFile('x.textproto', 'a {\n  '),
    format: 'textproto',
  };
  assert.deepEqual(validateParsed(r).map((d) => d.ruleId), ['syntax-error']);
});

test('shadowed-route and duplicate detection scale linearly (maps, no pairwise checks): 20,000 routes in one host', () => {
  const routes = Array.from({ length: 20_000 }, (_, i) => ({ match: { prefix: `/svc-${i}/` }, route: { cluster: 'c' } }));
  routes.push({ match: { prefix: '/svc-7/' }, route: { cluster: 'c' } });
  const config: Bootstrap = {
    static_resources: {
      clusters: [{ name: 'c' }],
      listeners: [{ name: 'l', address: { socket_address: { address: '127.0.0.1', port_value: 1 } }, filter_chains: [{ filters: [{ typed_config: { route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes }] } } }] }] }],
    },
  };
  const shadowed = validateParsed(parsed(config)).filter((d) => d.ruleId === 'shadowed-route');
  assert.equal(shadowed.length, 1);
  assert.match(shadowed[0]!.message, /#8/);
});

test('fields meshctl keeps verbatim count: connect_matcher is a path specifier, runtime_fraction a condition', () => {
  const routes: Route[] = [
    { match: { unmodeled: { connect_matcher: {} } }, route: { cluster: 'c' } },
    { match: { prefix: '/', unmodeled: { runtime_fraction: { default_value: { numerator: 10 } } } }, route: { cluster: 'c' } },
    { match: { prefix: '/a' }, route: { cluster: 'c' } },
    { match: { prefix: '/' }, route: { cluster: 'c' } },
    { match: { prefix: '/b' }, route: { cluster: 'c' } },
  ];
  const config: Bootstrap = {
    static_resources: {
      clusters: [{ name: 'c' }],
      listeners: [{ name: 'l', address: { socket_address: { address: '127.0.0.1', port_value: 10001 } }, filter_chains: [{ filters: [{ typed_config: { route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes }] } } }] }] }],
    },
  };
  const diags = validateParsed(parsed(config));
  assert.deepEqual(diags.map((d) => d.ruleId), ['shadowed-route']);
  assert.match(diags[0]!.message, /#4/);
});
