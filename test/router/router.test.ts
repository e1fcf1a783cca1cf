import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteResult, compileRouter, compileRouteConfiguration, routeRequest, type HeaderLookup, type ListenerRouter } from '../../src/router/index.js';
import type { Random } from '../../src/balancer/types.js';
import { createRandom, xxHash64 } from '../../src/balancer/index.js';
import type { Bootstrap, RouteConfiguration, VirtualHost } from '../../src/config/model.js';

const noHeaders: HeaderLookup = () => undefined;
const headersOf =
  (h: Record<string, string>): HeaderLookup =>
  (name) =>
    h[name];

function vh(name: string, domains: string[]): VirtualHost {
  return { name, domains, routes: [{ match: { prefix: '/' }, route: { cluster: name } }] };
}

/** routeRequest on a fresh result: the chosen cluster's name, id and weighted entry, and the hash. */
function routed(l: ListenerRouter, path: string, headers: HeaderLookup = noHeaders, random: Random = createRandom(1), sourceIp?: string): RouteResult {
  const out = new RouteResult();
  routeRequest(l, 'h', path, 'GET', headers, () => sourceIp, random, out);
  return out;
}

function router(rc: RouteConfiguration) {
  const { router, problems } = compileRouteConfiguration(rc);
  assert.deepEqual(problems, []);
  return router;
}

test('virtual host order: exact, longest *suffix, longest prefix*, then *', () => {
  const r = router({
    virtual_hosts: [
      vh('star', ['*']),
      vh('suffix-short', ['*.com']),
      vh('suffix-long', ['*.example.com']),
      vh('prefix-short', ['api*']),
      vh('prefix-long', ['api.example*']),
      vh('exact', ['api.example.com', 'Mixed.Example.ORG']),
    ],
  });
  const which = (host: string) => r.findVirtualHost(host)?.name;
  assert.equal(which('api.example.com'), 'exact');
  assert.equal(which('API.Example.com'), 'exact', 'hosts are case-insensitive');
  assert.equal(which('mixed.example.org'), 'exact', 'configured domains are lower-cased');
  assert.equal(which('www.example.com'), 'suffix-long');
  assert.equal(which('api.other.com'), 'suffix-short', 'any suffix beats any prefix');
  assert.equal(which('api.example.net'), 'prefix-long');
  assert.equal(which('api-v2.net'), 'prefix-short');
  assert.equal(which('.example.com'), 'suffix-short', 'a wildcard must cover at least one character');
  assert.equal(which('elsewhere.io'), 'star');
  assert.equal(which('api.example.com:8080'), 'prefix-long', 'the port is part of the value');
});

test('port-qualified domains and ignore_port_in_host_matching', () => {
  const withPort = router({ virtual_hosts: [vh('p', ['example.com:8080']), vh('np', ['example.com'])] });
  assert.equal(withPort.findVirtualHost('example.com:8080')?.name, 'p');
  assert.equal(withPort.findVirtualHost('example.com')?.name, 'np');
  assert.equal(withPort.findVirtualHost('example.com:9090'), undefined);
  const ignoring = router({ ignore_port_in_host_matching: true, virtual_hosts: [vh('np', ['example.com'])] });
  assert.equal(ignoring.findVirtualHost('example.com:9090')?.name, 'np');
  assert.equal(ignoring.findVirtualHost('[::1]:80'), undefined);
});

test('no Host header: 404 unless * is the only domain', () => {
  assert.equal(router({ virtual_hosts: [vh('s', ['*'])] }).match('', '/', 'GET', noHeaders)?.cluster, 's');
  assert.equal(router({ virtual_hosts: [vh('s', ['*']), vh('e', ['a.b'])] }).match('', '/', 'GET', noHeaders), undefined);
});

test('first matching route wins; path specifiers strip the query; case_sensitive', () => {
  const r = router({
    virtual_hosts: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          { name: 'exact', match: { path: '/exact' }, route: { cluster: 'exact' } },
          { name: 'ci', match: { prefix: '/CaSe', case_sensitive: false }, route: { cluster: 'ci' } },
          { name: 'sep', match: { path_separated_prefix: '/api/dev' }, route: { cluster: 'sep' } },
          { name: 're', match: { safe_regex: { regex: '/users/[0-9]+' } }, route: { cluster: 're' } },
          { name: 'api', match: { prefix: '/api' }, route: { cluster: 'api' } },
          { name: 'dr', match: { prefix: '/health' }, direct_response: { status: 200 } },
          { name: 'redir', match: { prefix: '/old' }, redirect: { path_redirect: '/new' } },
        ],
      },
    ],
  });
  const m = (path: string) => r.match('h', path, 'GET', noHeaders)?.name;
  assert.equal(m('/exact'), 'exact');
  assert.equal(m('/exact?x=1'), 'exact');
  assert.equal(m('/exact/'), undefined);
  assert.equal(m('/case/x'), 'ci');
  assert.equal(m('/api/dev'), 'sep');
  assert.equal(m('/api/dev/v1'), 'sep');
  assert.equal(m('/api/dev?x'), 'sep');
  assert.equal(m('/api/developer'), 'api');
  assert.equal(m('/users/42'), 're');
  assert.equal(m('/users/42/x'), undefined, 'regexes must match the whole path');
  assert.equal(m('/users/42?q=1'), 're');
  assert.equal(r.match('h', '/health', 'GET', noHeaders)?.kind, 'direct_response');
  assert.equal(r.match('h', '/old', 'GET', noHeaders)?.kind, 'redirect');
});

test('header and query parameter matchers (invert, present, string matchers, range, pseudo-headers)', () => {
  const r = router({
    virtual_hosts: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          { name: 'canary', match: { prefix: '/', headers: [{ name: 'X-Canary', string_match: { exact: 'YES', ignore_case: true } }] }, route: { cluster: 'c' } },
          { name: 'post', match: { prefix: '/', headers: [{ name: ':method', exact_match: 'POST' }] }, route: { cluster: 'c' } },
          { name: 'range', match: { prefix: '/', headers: [{ name: 'x-n', range_match: { start: 10, end: 20 } }] }, route: { cluster: 'c' } },
          { name: 'absent', match: { prefix: '/a', headers: [{ name: 'x-debug', present_match: false }] }, route: { cluster: 'c' } },
          { name: 'notjson', match: { prefix: '/b', headers: [{ name: 'accept', string_match: { suffix: 'json' }, invert_match: true }] }, route: { cluster: 'c' } },
          { name: 'q', match: { prefix: '/', query_parameters: [{ name: 'v', string_match: { prefix: '2' } }, { name: 'debug' }] }, route: { cluster: 'c' } },
          { name: 'fallback', match: { prefix: '/' }, route: { cluster: 'c' } },
        ],
      },
    ],
  });
  const m = (path: string, h: Record<string, string> = {}, method = 'GET') => r.match('h', path, method, headersOf(h))?.name;
  assert.equal(m('/', { 'x-canary': 'yes' }), 'canary');
  assert.equal(m('/', { 'x-canary': 'no' }), 'fallback');
  assert.equal(m('/', {}, 'POST'), 'post');
  assert.equal(m('/', { 'x-n': '15' }), 'range');
  assert.equal(m('/', { 'x-n': '20' }), 'fallback', 'range end is exclusive');
  assert.equal(m('/', { 'x-n': '1.5e1' }), 'fallback', 'range needs a whole integer');
  assert.equal(m('/a'), 'absent');
  assert.equal(m('/a', { 'x-debug': '1' }), 'fallback');
  assert.equal(m('/b', { accept: 'text/html' }), 'notjson');
  assert.equal(m('/b', { accept: 'application/json' }), 'fallback');
  assert.equal(m('/b'), 'notjson', 'an inverted string match matches a missing header');
  assert.equal(m('/x?v=2.1&debug'), 'q');
  assert.equal(m('/x?v=1&v=2&debug'), 'fallback', 'only the first value of a repeated key counts');
  assert.equal(m('/x?v=2'), 'fallback', 'all query matchers must match');
});

test('weighted_clusters pick v % Σweights by interval; header_name overrides the draw', () => {
  const rc: RouteConfiguration = {
    virtual_hosts: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          {
            match: { prefix: '/' },
            route: { weighted_clusters: { clusters: [{ name: 'a', weight: 1 }, { name: 'b', weight: 3 }], total_weight: 100, header_name: 'x-w' } },
          },
        ],
      },
    ],
  };
  const r = router(rc);
  assert.equal(r.match('h', '/', 'GET', noHeaders)!.kind, 'weighted_clusters');
  const rnd = createRandom(9);
  let a = 0;
  const n = 40_000;
  for (let i = 0; i < n; i++) if (routed(r, '/', noHeaders, rnd).clusterName === 'a') a++;
  assert.ok(Math.abs(a / n - 0.25) < 0.01, `a share ${a / n}: total_weight is ignored, the sum is used`);
  assert.equal(routed(r, '/', headersOf({ 'x-w': '0' }), rnd).clusterName, 'a');
  assert.equal(routed(r, '/', headersOf({ 'x-w': '4' }), rnd).clusterName, 'a', '4 % 4 = 0 is in [0,1)');
  const b = routed(r, '/', headersOf({ 'x-w': '5' }), rnd);
  assert.equal(b.clusterName, 'b', '5 % 4 = 1 is in [1,4)');
  assert.equal(b.weightedIndex, 1);
});

test('hash policies: header, cookie, source ip, query parameter; combined with rotl1 xor; terminal', () => {
  const cfg: Bootstrap = {
    static_resources: {
      listeners: [
        {
          name: 'l',
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    route_config: {
                      virtual_hosts: [
                        {
                          name: 'v',
                          domains: ['*'],
                          routes: [
                            { match: { prefix: '/one' }, route: { cluster: 'c', hash_policy: [{ header: { header_name: 'X-User' } }] } },
                            {
                              match: { prefix: '/two' },
                              route: { cluster: 'c', hash_policy: [{ cookie: { name: 'sid' }, terminal: true }, { connection_properties: { source_ip: true } }] },
                            },
                            { match: { prefix: '/three' }, route: { cluster: 'c', hash_policy: [{ query_parameter: { name: 'k' } }, { connection_properties: { source_ip: true } }] } },
                          ],
                        },
                      ],
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
  const compiled = compileRouter(cfg);
  const l = compiled.listener('l')!;
  const rnd = createRandom(1);
  assert.equal(routed(l, '/one', headersOf({ 'x-user': 'alice' })).hash, xxHash64('alice'));
  assert.equal(routed(l, '/one').hash, undefined);
  assert.equal(routed(l, '/two', headersOf({ cookie: 'a=1; sid=xyz' }), rnd, '1.2.3.4').hash, xxHash64('xyz'), 'terminal stops after a hash');
  assert.equal(routed(l, '/two', noHeaders, rnd, '1.2.3.4').hash, xxHash64('1.2.3.4'));
  const k = xxHash64('v1');
  const rot = ((k << 1n) | (k >> 63n)) & 0xffffffffffffffffn;
  assert.equal(routed(l, '/three?k=v1', noHeaders, rnd, '1.2.3.4').hash, rot ^ xxHash64('1.2.3.4'));
});

test('bad regexes are reported and never match', () => {
  const { router: r, problems } = compileRouteConfiguration({
    virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { safe_regex: { regex: '(' } }, route: { cluster: 'x' } }] }],
  });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /invalid regex/);
  assert.equal(r.match('h', '(', 'GET', noHeaders), undefined);
});

test('cluster ids: defined clusters first in config order; routeRequest gives the chosen cluster with its id', () => {
  const listener = (rc: RouteConfiguration) => ({
    name: 'l',
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { route_config: rc } }] }],
  });
  const compiled = compileRouter({
    static_resources: {
      clusters: [{ name: 'z' }, { name: 'a' }],
      listeners: [
        listener({
          virtual_hosts: [
            {
              name: 'v',
              domains: ['*'],
              routes: [
                { match: { prefix: '/w' }, route: { weighted_clusters: { clusters: [{ name: 'a', weight: 1 }, { name: 'ghost', weight: 1 }] } } },
                { match: { prefix: '/h' }, route: { cluster_header: 'x-cluster' } },
                { match: { prefix: '/' }, route: { cluster: 'z' } },
              ],
            },
          ],
        }),
      ],
    },
  });
  assert.deepEqual(compiled.clusterIds.names, ['z', 'a', 'ghost']);
  const l = compiled.listeners[0]!;
  assert.equal(l.match('h', '/', 'GET', noHeaders)!.clusterId, 0);
  const r1 = createRandom(3);
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const w = routed(l, '/w', noHeaders, r1);
    assert.equal(compiled.clusterIds.names[w.clusterId], w.clusterName);
    assert.equal(w.clusterName, ['a', 'ghost'][w.weightedIndex]);
    seen.add(w.clusterName!);
  }
  assert.deepEqual([...seen].sort(), ['a', 'ghost']);
  const a = routed(l, '/h', headersOf({ 'x-cluster': 'a' }), r1);
  assert.deepEqual([a.clusterName, a.clusterId, a.weightedIndex], ['a', 1, -1]);
  const nope = routed(l, '/h', headersOf({ 'x-cluster': 'nope' }), r1);
  assert.deepEqual([nope.clusterName, nope.clusterId], ['nope', -1]);
  const none = routed(l, '/h', noHeaders, r1);
  assert.deepEqual([none.route?.kind, none.clusterName, none.clusterId], ['cluster_header', undefined, -1]);
});

test('safe_regex runs in linear time like RE2: a nested-quantifier pattern does not backtrack exponentially on a hostile path', () => {
  const r = router({
    virtual_hosts: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          { name: 'evil', match: { safe_regex: { regex: '/(a+)+' } }, route: { cluster: 'evil' } },
          { name: 'rest', match: { prefix: '/' }, route: { cluster: 'rest' } },
        ],
      },
    ],
  });
  // Plain backtracking needs about 2^30 steps here (minutes); RE2 semantics need one pass.
  const hostile = '/' + 'a'.repeat(30) + '!';
  const started = process.hrtime.bigint();
  assert.equal(r.match('h', hostile, 'GET', noHeaders)?.name, 'rest');
  assert.equal(r.match('h', '/aaaa', 'GET', noHeaders)?.name, 'evil');
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // A hang bound, not a speed target: exponential matching would take minutes.
  assert.ok(ms < 5_000, `matching took ${ms.toFixed(0)} ms`);
});
