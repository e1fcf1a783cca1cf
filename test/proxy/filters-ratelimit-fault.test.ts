/**
 * The local rate limit and fault injection HTTP filters through `meshctl run`: a burst gets exactly max_tokens
 * answers and 429 (flag RL) for the rest, with the x-ratelimit headers; a route's own LocalRateLimit has its own
 * bucket; filter_enforced 0% only counts. Faults: aborts (flag FI) and delays (flag DI) for exactly the requests the
 * seeded stream picks (the test draws the same stream), header-controlled aborts, header matching.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { accessLogLines } from './cli-helpers.js';
import { createRandom } from '../../src/balancer/random.js';
import { countingUpstream, filtersYaml, killProxies, request, startProxy, stats, type CountingUpstream } from './filter-helpers.js';

let up: CountingUpstream;

before(async () => {
  up = await countingUpstream();
});

after(() => {
  killProxies();
  up.close();
});

const LRL = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

const ROUTES = `                        - match: { prefix: "/" }
                          route: { cluster: up }`;

function limiter(extra: string): string {
  return filtersYaml(`                  - name: envoy.filters.http.local_ratelimit
                    typed_config:
                      "@type": ${LRL}
                      stat_prefix: rl
                      token_bucket: { max_tokens: 3, tokens_per_fill: 3, fill_interval: 60s }
                      filter_enabled: { default_value: { numerator: 100, denominator: HUNDRED } }
${extra}`);
}

test('local_ratelimit: a burst of 8 gets exactly 3 through and 5 × 429 (flag RL) with response headers and x-ratelimit-*', async () => {
  const p = await startProxy({
    hcmExtra: limiter(`                      filter_enforced: { default_value: { numerator: 100, denominator: HUNDRED } }
                      enable_x_ratelimit_headers: DRAFT_VERSION_03
                      response_headers_to_add: [ { header: { key: x-limited, value: "yes" } } ]`),
    routes: ROUTES,
    clusters: { up: up.port },
  });
  const n = up.seen.length;
  const answers = [];
  for (let i = 0; i < 8; i++) answers.push(await request(p.port, `/b${i}`));
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200, 429, 429, 429, 429, 429],
  );
  assert.equal(up.seen.length, n + 3);
  assert.deepEqual(
    answers.map((a) => a.headers['x-ratelimit-remaining']),
    ['2', '1', '0', '0', '0', '0', '0', '0'],
  );
  assert.equal(answers[0]!.headers['x-ratelimit-limit'], '3');
  assert.ok(Number(answers[0]!.headers['x-ratelimit-reset']) > 0 && Number(answers[0]!.headers['x-ratelimit-reset']) <= 60);
  assert.equal(answers[4]!.body.toString(), 'local_rate_limited');
  assert.equal(answers[4]!.headers['x-limited'], 'yes');
  assert.equal(answers[0]!.headers['x-limited'], undefined);
  const s = await stats(p.admin);
  assert.equal(s.get('rl.http_local_rate_limit.enabled'), 8);
  assert.equal(s.get('rl.http_local_rate_limit.ok'), 3);
  assert.equal(s.get('rl.http_local_rate_limit.rate_limited'), 5);
  assert.equal(s.get('rl.http_local_rate_limit.enforced'), 5);
  const lines = await accessLogLines(p.log, 8);
  assert.deepEqual(
    lines.map((l) => l.response_flags),
    ['-', '-', '-', 'RL', 'RL', 'RL', 'RL', 'RL'],
  );
});

test('local_ratelimit: filter_enforced unset (0%) only counts; a route with its own config has its own bucket', async () => {
  const p = await startProxy({
    hcmExtra: limiter(''),
    routes: `                        - match: { prefix: "/strict" }
                          route: { cluster: up }
                          typed_per_filter_config:
                            envoy.filters.http.local_ratelimit:
                              "@type": ${LRL}
                              stat_prefix: strict
                              token_bucket: { max_tokens: 1, tokens_per_fill: 1, fill_interval: 60s }
                              filter_enabled: { default_value: { numerator: 100 } }
                              filter_enforced: { default_value: { numerator: 100 } }
${ROUTES}`,
    clusters: { up: up.port },
  });
  const loose = [];
  for (let i = 0; i < 5; i++) loose.push((await request(p.port, '/loose')).status);
  assert.deepEqual(loose, [200, 200, 200, 200, 200]);
  const strict = [];
  for (let i = 0; i < 3; i++) strict.push((await request(p.port, '/strict')).status);
  assert.deepEqual(strict, [200, 429, 429]);
  const s = await stats(p.admin);
  assert.equal(s.get('rl.http_local_rate_limit.rate_limited'), 2);
  assert.equal(s.get('rl.http_local_rate_limit.enforced'), 0);
  assert.equal(s.get('strict.http_local_rate_limit.ok'), 1);
  assert.equal(s.get('strict.http_local_rate_limit.enforced'), 2);
});

/** Which of `n` requests a fraction numerator/100 picks, drawn as the proxy draws: its `http-filters` stream. */
function picks(seed: number, n: number, numerator: number): boolean[] {
  const r = createRandom(`${seed}/http-filters`);
  return Array.from({ length: n }, () => r.nextU32() % 100 < numerator);
}

test('fault abort at 30% under --seed: exactly the requests the seeded stream picks get 503 "fault filter abort" (FI)', async () => {
  const seed = 4242;
  const p = await startProxy({
    hcmExtra: filtersYaml(`                  - name: envoy.filters.http.fault
                    typed_config:
                      "@type": ${FAULT}
                      abort: { http_status: 503, percentage: { numerator: 30, denominator: HUNDRED } }`),
    routes: ROUTES,
    clusters: { up: up.port },
    args: ['--seed', String(seed)],
  });
  const want = picks(seed, 40, 30);
  const n = up.seen.length;
  const got: boolean[] = [];
  for (let i = 0; i < 40; i++) {
    const r = await request(p.port, `/f${i}`);
    got.push(r.status === 503);
    if (r.status === 503) assert.equal(r.body.toString(), 'fault filter abort');
    else assert.equal(r.status, 200);
  }
  assert.deepEqual(got, want);
  const aborted = want.filter(Boolean).length;
  assert.ok(aborted > 0 && aborted < 40, `the seed picks some and spares some (${aborted})`);
  assert.equal(up.seen.length, n + 40 - aborted);
  const s = await stats(p.admin);
  assert.equal(s.get('http.main.fault.aborts_injected'), aborted);
  assert.equal(s.get('http.main.fault.active_faults'), 0);
  const lines = await accessLogLines(p.log, 40);
  assert.deepEqual(
    lines.map((l) => l.response_flags === 'FI'),
    want,
  );
});

test('fault delay (flag DI) then the request goes on; header-controlled abort; faults only for matching headers', async () => {
  const p = await startProxy({
    hcmExtra: filtersYaml(`                  - name: envoy.filters.http.fault
                    typed_config:
                      "@type": ${FAULT}
                      delay: { fixed_delay: 0.3s, percentage: { numerator: 100 } }
                      abort: { header_abort: {}, percentage: { numerator: 100 } }
                      headers: [ { name: x-chaos, present_match: true } ]`),
    routes: ROUTES,
    clusters: { up: up.port },
  });
  // No fault without x-chaos (the access log below shows no DI for it; a wall-clock bound would be flaky under load).
  assert.equal((await request(p.port, '/calm')).status, 200);
  const t0 = Date.now();
  const delayed = await request(p.port, '/slow', { 'x-chaos': '1' });
  const took = Date.now() - t0;
  assert.equal(delayed.status, 200);
  assert.ok(took >= 290, `delayed ${took} ms`);
  const aborted = await request(p.port, '/abort', { 'x-chaos': '1', 'x-envoy-fault-abort-request': '418' });
  assert.equal(aborted.status, 418);
  const s = await stats(p.admin);
  assert.equal(s.get('http.main.fault.delays_injected'), 2);
  assert.equal(s.get('http.main.fault.aborts_injected'), 1);
  const lines = await accessLogLines(p.log, 3);
  assert.deepEqual(
    lines.map((l) => `${l.response_code} ${l.response_flags}`),
    ['200 -', '200 DI', '418 DI,FI'],
  );
});

test('over HTTP/2 a gRPC request aborted by the fault filter gets its grpc_status; an RBAC denial maps to PERMISSION_DENIED', async () => {
  const p = await startProxy({
    hcmExtra: filtersYaml(`                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      rules: { action: DENY, policies: { admin: { permissions: [{ url_path: { path: { prefix: /admin } } }], principals: [{ any: true }] } } }
                  - name: envoy.filters.http.fault
                    typed_config:
                      "@type": ${FAULT}
                      abort: { grpc_status: 14, percentage: { numerator: 100 } }`),
    routes: ROUTES,
    clusters: { up: up.port },
  });
  const client = http2.connect(`http://127.0.0.1:${p.port}`);
  const call = (path: string): Promise<http2.IncomingHttpHeaders> =>
    new Promise((resolve, reject) => {
      const s = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      s.on('response', (h) => resolve(h));
      s.on('error', reject);
      s.end();
    });
  try {
    const aborted = await call('/pkg.Svc/Get');
    assert.equal(aborted[':status'], 200);
    assert.equal(aborted['grpc-status'], '14');
    assert.equal(aborted['grpc-message'], 'fault filter abort');
    const denied = await call('/admin/pkg.Svc/Get');
    assert.equal(denied['grpc-status'], '7');
  } finally {
    client.close();
  }
});
