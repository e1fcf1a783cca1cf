/**
 * The RBAC HTTP filter through `meshctl run` (the real binary, real sockets): deny-all answers 403 and nothing reaches
 * the upstream; ALLOW and DENY policies over headers, paths, methods and addresses; shadow rules only count; per-route
 * RBACPerRoute; a filter `disabled` in http_filters enabled by a route's FilterConfig; features meshctl does not build
 * and a router that is not last refuse the start (exit 1, file:line).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { countingUpstream, detailsLog, filtersYaml, killProxies, logLines, refusedRun, request, startProxy, stats, type CountingUpstream } from './filter-helpers.js';
import { oneListenerYaml } from './cli-helpers.js';

let up: CountingUpstream;

before(async () => {
  up = await countingUpstream();
});

after(() => {
  killProxies();
  up.close();
});

const RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const RBAC_PER_ROUTE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute';

function rbac(rules: string, extra = ''): string {
  return filtersYaml(`                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": ${RBAC}
                      ${rules}${extra}`);
}

const ROUTES = `                        - match: { prefix: "/" }
                          route: { cluster: up }`;

test('RBAC deny-all: 403 "RBAC: access denied", nothing reaches the upstream, denied counted, details in the access log', async () => {
  const before = up.seen.length;
  const log = detailsLog();
  const p = await startProxy({
    hcmExtra: log.yaml + rbac('rules: { action: DENY, policies: { "deny all": { permissions: [{ any: true }], principals: [{ any: true }] } } }'),
    routes: ROUTES,
    clusters: { up: up.port },
  });
  for (let i = 0; i < 3; i++) {
    const r = await request(p.port, `/x${i}`);
    assert.equal(r.status, 403);
    assert.equal(r.body.toString(), 'RBAC: access denied');
  }
  // Also a path no route matches: the filter runs before the router.
  assert.equal((await request(p.port, '/nowhere', {}, 'POST')).status, 403);
  assert.equal(up.seen.length, before, 'no request reached the upstream');
  const s = await stats(p.admin);
  assert.equal(s.get('http.main.rbac.denied'), 4);
  assert.equal(s.get('http.main.rbac.allowed'), 0);
  assert.deepEqual(await logLines(log.file, 4), Array(4).fill('403 - rbac_access_denied_matched_policy[deny_all]'));
});

test('RBAC ALLOW: a request matching a policy passes, others get 403 with policy "none"; shadow rules only count', async () => {
  const log = detailsLog();
  const p = await startProxy({
    hcmExtra:
      log.yaml +
      rbac(
      `rules:
                        action: ALLOW
                        policies:
                          readers:
                            permissions:
                              - and_rules: { rules: [ { header: { name: ":method", string_match: { exact: GET } } }, { url_path: { path: { prefix: /public } } } ] }
                            principals:
                              - header: { name: x-user, present_match: true }
                          local:
                            permissions: [ { destination_port_range: { start: 1, end: 65536 } } ]
                            principals: [ { and_ids: { ids: [ { direct_remote_ip: { address_prefix: 127.0.0.1, prefix_len: 32 } }, { header: { name: x-admin, string_match: { exact: "yes" } } } ] } } ]`,
      `
                      shadow_rules:
                        action: DENY
                        policies:
                          no-curl: { permissions: [ { any: true } ], principals: [ { header: { name: user-agent, string_match: { prefix: curl } } } ] }`,
    ),
    routes: ROUTES,
    clusters: { up: up.port },
  });
  const n = up.seen.length;
  assert.equal((await request(p.port, '/public/a?q=/private', { 'x-user': 'ann' })).status, 200);
  assert.equal((await request(p.port, '/public/a', {})).status, 403, 'no x-user');
  assert.equal((await request(p.port, '/public/a', { 'x-user': 'ann' }, 'DELETE')).status, 403, 'not a GET');
  assert.equal((await request(p.port, '/private', { 'x-user': 'ann' })).status, 403, 'url_path ignores the query, not the path');
  assert.equal((await request(p.port, '/private', { 'x-admin': 'yes', 'user-agent': 'curl/8' })).status, 200, 'loopback admin');
  assert.equal(up.seen.length, n + 2);
  const s = await stats(p.admin);
  assert.equal(s.get('http.main.rbac.allowed'), 2);
  assert.equal(s.get('http.main.rbac.denied'), 3);
  assert.equal(s.get('http.main.rbac.shadow_denied'), 1);
  assert.equal(s.get('http.main.rbac.shadow_allowed'), 4);
  assert.deepEqual(await logLines(log.file, 5), [
    '200 - via_upstream',
    '403 - rbac_access_denied_matched_policy[none]',
    '403 - rbac_access_denied_matched_policy[none]',
    '403 - rbac_access_denied_matched_policy[none]',
    '200 - via_upstream',
  ]);
});

test('RBAC per route: RBACPerRoute without rbac turns it off for the route; a vhost override is replaced by the route one', async () => {
  const p = await startProxy({
    hcmExtra: rbac('rules: { action: DENY, policies: { all: { permissions: [{ any: true }], principals: [{ any: true }] } } }'),
    vhostExtra: `                      typed_per_filter_config:
                        envoy.filters.http.rbac:
                          "@type": ${RBAC_PER_ROUTE}
                          rbac: { rules: { action: DENY, policies: { post: { permissions: [{ header: { name: ":method", string_match: { exact: POST } } }], principals: [{ any: true }] } } } }`,
    routes: `                        - match: { prefix: "/open" }
                          route: { cluster: up }
                          typed_per_filter_config:
                            envoy.filters.http.rbac: { "@type": ${RBAC_PER_ROUTE} }
                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    clusters: { up: up.port },
  });
  assert.equal((await request(p.port, '/open', {}, 'POST')).status, 200, 'RBAC off on /open');
  assert.equal((await request(p.port, '/other')).status, 200, 'the vhost policy denies only POST');
  assert.equal((await request(p.port, '/other', {}, 'POST')).status, 403);
});

test('a filter disabled in http_filters runs only on the route whose FilterConfig enables it', async () => {
  const p = await startProxy({
    hcmExtra: filtersYaml(`                  - name: deny
                    disabled: true
                    typed_config:
                      "@type": ${RBAC}
                      rules: { action: DENY, policies: { all: { permissions: [{ any: true }], principals: [{ any: true }] } } }`),
    routes: `                        - match: { prefix: "/guarded" }
                          route: { cluster: up }
                          typed_per_filter_config:
                            deny: { "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig, disabled: false }
                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    clusters: { up: up.port },
  });
  assert.equal((await request(p.port, '/free')).status, 200);
  assert.equal((await request(p.port, '/guarded')).status, 403);
});

test('an RBAC feature meshctl run does not build refuses the start: exit 1, file:line, nothing served', async () => {
  const yaml = oneListenerYaml({
    hcmExtra: rbac(`rules:
                        action: ALLOW
                        policies:
                          p:
                            permissions: [ { requested_server_name: { exact: a.test } } ]
                            principals: [ { any: true } ]`),
    routes: ROUTES,
    clusters: { up: up.port },
  });
  const r = await refusedRun(yaml);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /refused\.yaml:\d+:\d+: RBAC permission `requested_server_name` is not supported by meshctl run/);
  assert.doesNotMatch(r.stderr, /listener \S+ on/);
  const cond = await refusedRun(
    oneListenerYaml({
      hcmExtra: rbac(`rules:
                        action: DENY
                        policies:
                          p:
                            permissions: [ { any: true } ]
                            principals: [ { any: true } ]
                            condition: { const_expr: { bool_value: true } }`),
      routes: ROUTES,
      clusters: { up: up.port },
    }),
  );
  assert.equal(cond.code, 1, cond.stderr);
  assert.match(cond.stderr, /:\d+:\d+: RBAC policy p: `condition` is not supported by meshctl run/);
  // With workers, the primary refuses before it forks any.
  const workers = await refusedRun(yaml, ['--workers', '2']);
  assert.equal(workers.code, 1, workers.stderr);
  assert.equal(workers.stderr.match(/requested_server_name/g)?.length, 1, workers.stderr);
});

test('a router that is not the last HTTP filter: run refuses the config (exit 1) at the router entry', async () => {
  const yaml = oneListenerYaml({
    hcmExtra: `                http_filters:
                  - name: envoy.filters.http.router
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  - name: envoy.filters.http.rbac
                    typed_config: { "@type": ${RBAC} }`,
    routes: ROUTES,
    clusters: { up: up.port },
  });
  const r = await refusedRun(yaml);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error\[http-router-not-last\]/);
  assert.match(r.stderr, /refused\.yaml:\d+:\d+/);
});
