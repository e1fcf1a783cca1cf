/**
 * The CORS, compressor and health_check HTTP filters through `meshctl run`: a preflight answered by the proxy with the
 * route's policy (typed_per_filter_config and the legacy `cors` field), CORS headers on upstream answers; gzip and
 * brotli responses decompressed here and compared with the upstream's bytes, streamed without content-length, with
 * Accept-Encoding q-values, `vary`, and the responses left alone; health checks answered or passed through; zstd
 * refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { oneListenerYaml } from './cli-helpers.js';
import { countingUpstream, filtersYaml, killProxies, refusedRun, request, startProxy, stats, type CountingUpstream } from './filter-helpers.js';

/** A body worth compressing: 64 KiB of text that repeats. */
const TEXT = Buffer.from(Array.from({ length: 2048 }, (_, i) => `line ${i % 97} of the upstream body\n`).join('').slice(0, 65536));

let up: CountingUpstream;

before(async () => {
  up = await countingUpstream((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/text')) {
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      if (url.includes('etag')) res.setHeader('etag', '"v1"');
      if (url.includes('notransform')) res.setHeader('cache-control', 'no-transform');
      if (url.includes('chunked')) {
        // Streamed in pieces, without a content-length.
        res.write(TEXT.subarray(0, 1000));
        setTimeout(() => res.end(TEXT.subarray(1000)), 20);
        return;
      }
      res.setHeader('content-length', TEXT.length);
      return res.end(req.method === 'HEAD' ? undefined : TEXT);
    }
    if (url.startsWith('/tiny')) {
      res.setHeader('content-type', 'text/plain');
      return res.end('short');
    }
    if (url.startsWith('/png')) {
      res.setHeader('content-type', 'image/png');
      return res.end(TEXT);
    }
    res.end('ok');
  });
});

after(() => {
  killProxies();
  up.close();
});

const CORS_POLICY = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

test('CORS: a preflight is answered by the proxy with the route policy; actual requests get allow-origin and expose headers', async () => {
  const p = await startProxy({
    hcmExtra: filtersYaml(`                  - name: envoy.filters.http.cors
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }`),
    vhostExtra: `                      typed_per_filter_config:
                        envoy.filters.http.cors:
                          "@type": ${CORS_POLICY}
                          allow_origin_string_match: [ { exact: "https://app.test" }, { suffix: ".trusted.test" } ]
                          allow_methods: "GET, PUT"
                          allow_headers: "x-token"
                          expose_headers: "x-trace"
                          max_age: "600"
                          allow_credentials: true`,
    routes: `                        - match: { prefix: "/legacy" }
                          route:
                            cluster: up
                            cors: { allow_origin_string_match: [ { exact: "https://old.test" } ], allow_methods: "POST" }
                          typed_per_filter_config:
                            envoy.filters.http.cors: { "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig, disabled: false }
                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    clusters: { up: up.port },
  });
  const n = up.seen.length;
  const pre = await request(p.port, '/api', { origin: 'https://app.test', 'access-control-request-method': 'PUT' }, 'OPTIONS');
  assert.equal(pre.status, 200);
  assert.equal(pre.headers['access-control-allow-origin'], 'https://app.test');
  assert.equal(pre.headers['access-control-allow-methods'], 'GET, PUT');
  assert.equal(pre.headers['access-control-allow-headers'], 'x-token');
  assert.equal(pre.headers['access-control-max-age'], '600');
  assert.equal(pre.headers['access-control-allow-credentials'], 'true');
  assert.equal(up.seen.length, n, 'the preflight did not reach the upstream');
  const actual = await request(p.port, '/api', { origin: 'https://a.trusted.test' });
  assert.equal(actual.status, 200);
  assert.equal(actual.headers['access-control-allow-origin'], 'https://a.trusted.test');
  assert.equal(actual.headers['access-control-expose-headers'], 'x-trace');
  const foreign = await request(p.port, '/api', { origin: 'https://evil.test', 'access-control-request-method': 'PUT' }, 'OPTIONS');
  assert.equal(foreign.headers['access-control-allow-origin'], undefined);
  assert.equal(up.seen.length, n + 2, 'a preflight from an origin not allowed goes upstream');
  // A typed_per_filter_config policy (here the virtual host's) wins over the legacy `cors` field of the route: the
  // route's FilterConfig carries no config, so the virtual host's CorsPolicy applies, not the route's old origins.
  const legacy = await request(p.port, '/legacy', { origin: 'https://app.test', 'access-control-request-method': 'GET' }, 'OPTIONS');
  assert.equal(legacy.headers['access-control-allow-origin'], 'https://app.test');
  const s = await stats(p.admin);
  assert.equal(s.get('http.main.cors.origin_valid'), 3);
  assert.equal(s.get('http.main.cors.origin_invalid'), 1);
});

test('CORS: the legacy route and virtual host `cors` fields, field by field', async () => {
  const p = await startProxy({
    hcmExtra: filtersYaml(`                  - name: envoy.filters.http.cors
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }`),
    vhostExtra: `                      cors: { allow_origin_string_match: [ { prefix: "https://" } ], allow_methods: "GET", max_age: "60" }`,
    routes: `                        - match: { prefix: "/" }
                          route: { cluster: up, cors: { allow_methods: "DELETE" } }`,
    clusters: { up: up.port },
  });
  const pre = await request(p.port, '/x', { origin: 'https://any.test', 'access-control-request-method': 'DELETE' }, 'OPTIONS');
  assert.equal(pre.status, 200);
  assert.equal(pre.headers['access-control-allow-methods'], 'DELETE', "the route's methods");
  assert.equal(pre.headers['access-control-max-age'], '60', "the virtual host's max age");
});

const GZIP_FILTER = `                  - name: envoy.filters.http.compressor
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
                      compressor_library:
                        name: text_optimized
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip }`;

test('compressor gzip: compressed responses decompress to the upstream bytes; streamed, vary, and left alone when they must be', async () => {
  const p = await startProxy({
    hcmExtra: filtersYaml(GZIP_FILTER),
    routes: `                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    clusters: { up: up.port },
  });
  const gz = await request(p.port, '/text', { 'accept-encoding': 'br;q=0.5, gzip' });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers['content-length'], undefined);
  assert.equal(gz.headers['transfer-encoding'], 'chunked');
  assert.equal(gz.headers.vary, 'accept-encoding');
  assert.ok(gz.body.length < TEXT.length / 4, `compressed to ${gz.body.length} bytes`);
  assert.deepEqual(zlib.gunzipSync(gz.body), TEXT);
  const streamed = await request(p.port, '/text-chunked', { 'accept-encoding': 'gzip' });
  assert.equal(streamed.headers['content-encoding'], 'gzip');
  assert.deepEqual(zlib.gunzipSync(streamed.body), TEXT);
  const etag = await request(p.port, '/text-etag', { 'accept-encoding': 'gzip' });
  assert.equal(etag.headers.etag, 'W/"v1"', 'a strong etag becomes weak');
  // Left alone: identity preferred, gzip refused, no header, too small, a type not in the list, no-transform, HEAD.
  for (const [path, ae, method] of [
    ['/text', 'gzip;q=0.2, identity', 'GET'],
    ['/text', 'gzip;q=0, br', 'GET'],
    ['/text', undefined, 'GET'],
    ['/tiny', 'gzip', 'GET'],
    ['/png', 'gzip', 'GET'],
    ['/text-notransform', 'gzip', 'GET'],
    ['/text', 'gzip', 'HEAD'],
  ] as const) {
    const r = await request(p.port, path, ae === undefined ? {} : { 'accept-encoding': ae }, method);
    assert.equal(r.headers['content-encoding'], undefined, `${method} ${path} ${ae}`);
    if (method === 'GET' && path === '/text') assert.deepEqual(r.body, TEXT);
  }
  const s = await stats(p.admin);
  const pre = 'http.main.compressor.text_optimized.gzip.';
  assert.equal(s.get(pre + 'compressed'), 3);
  assert.equal(s.get(pre + 'not_compressed'), 7);
  assert.equal(s.get(pre + 'content_length_too_small'), 1, 'the 5-byte answer');
});

test('compressor brotli and per-route disabled; a zstd library refuses the start (exit 1, file:line)', async () => {
  const p = await startProxy({
    hcmExtra: filtersYaml(`                  - name: envoy.filters.http.compressor
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
                      compressor_library:
                        name: br
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli, quality: 5 }
                      response_direction_config: { common_config: { min_content_length: 100 }, remove_accept_encoding_header: true }`),
    routes: `                        - match: { prefix: "/raw" }
                          route: { cluster: up, prefix_rewrite: "/text" }
                          typed_per_filter_config:
                            envoy.filters.http.compressor: { "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute, disabled: true }
                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    clusters: { up: up.port },
  });
  const br = await request(p.port, '/text', { 'accept-encoding': 'gzip, br' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.deepEqual(zlib.brotliDecompressSync(br.body), TEXT);
  assert.equal(up.last['accept-encoding'], undefined, 'remove_accept_encoding_header');
  const raw = await request(p.port, '/raw', { 'accept-encoding': 'br' });
  assert.equal(raw.headers['content-encoding'], undefined);
  assert.deepEqual(raw.body, TEXT);
  assert.equal(up.last['accept-encoding'], 'br', 'the route with the filter off keeps the header');
  const zstd = await refusedRun(
    oneListenerYaml({
      hcmExtra: filtersYaml(`                  - name: envoy.filters.http.compressor
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
                      compressor_library:
                        name: z
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.zstd.compressor.v3.Zstd }`),
      routes: `                        - match: { prefix: "/" }
                          route: { cluster: up }`,
      clusters: { up: up.port },
    }),
  );
  assert.equal(zstd.code, 1, zstd.stderr);
  assert.match(zstd.stderr, /refused\.yaml:\d+:\d+: compressor: zstd is not supported by meshctl run/);
});

test('health_check: answered without pass-through (503 LH while failing), passed through and cached with pass_through_mode', async () => {
  const p = await startProxy({
    hcmExtra: filtersYaml(`                  - name: envoy.filters.http.health_check
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck
                      pass_through_mode: false
                      headers: [ { name: ":path", string_match: { exact: /healthz } } ]
                  - name: pass
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck
                      pass_through_mode: true
                      cache_time: 60s
                      headers: [ { name: ":path", string_match: { exact: /ready } }, { name: x-probe, present_match: true } ]`),
    routes: `                        - match: { prefix: "/" }
                          route: { cluster: up }`,
    clusters: { up: up.port },
  });
  const n = up.seen.length;
  assert.equal((await request(p.port, '/healthz')).status, 200);
  assert.equal(up.seen.length, n, 'answered by the proxy');
  assert.equal((await request(p.port, '/ready', { 'x-probe': '1' })).status, 200);
  assert.equal((await request(p.port, '/ready', { 'x-probe': '1' })).status, 200);
  assert.equal(up.seen.length, n + 1, 'the second pass-through check is answered from the cache');
  assert.equal((await request(p.port, '/ready')).status, 200);
  assert.equal(up.seen.length, n + 2, 'without x-probe it is not a health check');
  const fail = await new Promise<number>((resolve, reject) => {
    http.request({ host: '127.0.0.1', port: p.admin, path: '/healthcheck/fail', method: 'POST', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject).end();
  });
  assert.equal(fail, 200);
  const failing = await request(p.port, '/healthz');
  assert.equal(failing.status, 503);
  assert.equal(failing.headers['x-envoy-immediate-health-check-fail'], 'true');
  assert.equal((await request(p.port, '/ready', { 'x-probe': '1' })).status, 503, 'pass-through checks fail here too');
  const other = await request(p.port, '/other');
  assert.equal(other.status, 200);
  assert.equal(other.headers['x-envoy-immediate-health-check-fail'], 'true', 'other responses tell downstreams');
});
