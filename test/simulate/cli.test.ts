import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, runCli } from '../helpers/cli.js';
import type { SimReport } from '../../src/simulate/report-types.js';

const ARTICLE = join(FIXTURES, 'seed', 'full-example.textproto');

for (const seed of ['1', '20251125', 'any-text-seed']) {
  test(`the article's example: 300,000 requests, seed ${seed}: 33.3% / 66.7% within ±0.5 points (json)`, async () => {
    const r = await runCli(['simulate', ARTICLE, '--requests', '300000', '--seed', seed, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as SimReport;
    assert.equal(report.requests, 300_000);
    const l = report.listeners[0]!;
    assert.equal(l.name, 'example-listener');
    assert.equal(l.notFound, 0);
    const c = l.routes[0]!.clusters[0]!;
    assert.equal(c.name, 'example-cluster');
    const [a, b] = c.endpoints;
    assert.equal(a!.address, '10.244.0.2:8080');
    assert.equal(b!.address, '10.244.0.3:8080');
    assert.ok(Math.abs(a!.share * 100 - 33.333) <= 0.5, `${a!.share}`);
    assert.ok(Math.abs(b!.share * 100 - 66.667) <= 0.5, `${b!.share}`);
    assert.equal(a!.count + b!.count, 300_000);
  });
}

test('the article through the table: aligned endpoints with shares and bars, no colour on a pipe', async () => {
  const r = await runCli(['simulate', ARTICLE, '-n', '300k', '--watch']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', '--watch on a pipe prints nothing extra');
  assert.doesNotMatch(r.stdout, /\x1b\[/);
  const rows = r.stdout.split('\n').filter((l) => /^\s+10\.244\.0\.[23]:8080/.test(l));
  assert.equal(rows.length, 2);
  assert.match(rows[0]!, /33\.3\d%\s+33\.33%/);
  assert.match(rows[1]!, /66\.6\d%\s+66\.67%/);
  assert.match(rows[1]!, /█+/);
  assert.equal(rows[0]!.indexOf('%'), rows[1]!.indexOf('%'), 'columns line up');
  assert.match(r.stdout, /listener example-listener\s+300000 requests/);
  assert.match(r.stdout, /cluster example-cluster\s+ROUND_ROBIN/);
});

test('--unhealthy and --at: panic and failover over time, through the CLI', async () => {
  const r = await runCli([
    'simulate', ARTICLE, '-n', '10000', '--rps', '1000', '--at', '5s:down=10.244.0.3:8080', '--format', 'json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const c = (JSON.parse(r.stdout) as SimReport).listeners[0]!.routes[0]!.clusters[0]!;
  // First 5 s: 1/3 and 2/3. Then 1 of 2 healthy = 50%: not panic, everything to 10.244.0.2.
  const a = c.endpoints[0]!;
  assert.ok(Math.abs(a.count - (5000 / 3 + 5000)) <= 2, String(a.count));
  assert.equal(c.panicPicks, 0);
  const both = await runCli(['simulate', ARTICLE, '-n', '3000', '--unhealthy', '10.244.0.2:8080', '--unhealthy', '10.244.0.3:8080']);
  assert.equal(both.code, 0, both.stderr);
  assert.match(both.stdout, /panic mode .*: 3000 picks/);
});

test('same seed, same output; another seed, another output (RANDOM cluster)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-simcli-'));
  const cfg = join(dir, 'random.yaml');
  writeFileSync(
    cfg,
    `static_resources:
  listeners:
  - name: web
    address: { socket_address: { address: 0.0.0.0, port_value: 8080 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: c }
  clusters:
  - name: c
    lb_policy: RANDOM
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 80 } } }
        - endpoint: { address: { socket_address: { address: 10.0.0.2, port_value: 80 } } }
`,
  );
  const a = await runCli(['simulate', cfg, '-n', '20000', '--seed', '7', '--format', 'json']);
  const b = await runCli(['simulate', cfg, '-n', '20000', '--seed', '7', '--format', 'json']);
  const c = await runCli(['simulate', cfg, '-n', '20000', '--seed', '8', '--format', 'json']);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.notEqual(a.stdout, c.stdout);
});

test('usage errors exit 2 with a clear message; config errors exit 1', async () => {
  const bad = await runCli(['simulate', ARTICLE, '--unhealthy', '10.244.0.9:8080']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--unhealthy: no endpoint 10\.244\.0\.9:8080 in any cluster \(did you mean 10\.244\.0\.[23]:8080\?\)/);
  const flag = await runCli(['simulate', ARTICLE, '--latency', '10.244.0.2:8080=pareto:3ms']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /unknown latency distribution/);
  const missing = await runCli(['simulate', join(FIXTURES, 'nope.textproto')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.textproto/);
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-simcli-'));
  const broken = join(dir, 'broken.textproto');
  writeFileSync(broken, 'static_resources {\n  clusters {\n');
  const r = await runCli(['simulate', broken]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error\[syntax-error\]: .*\n {2}--> .*broken\.textproto:\d+:\d+$/m);
});

test('--requests-file replays an access log through the CLI; --latency shows mean latency', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-simcli-'));
  const log = join(dir, 'access.log');
  const line = (path: string) => `[2024-01-01T00:00:00.000Z] "GET ${path} HTTP/2" 200 - 0 0 1 1 "10.1.1.1" "curl" "-" "example.service.local" "-"`;
  writeFileSync(log, [line('/'), line('/a'), '{"host":"example.service.local","path":"/b"}', ''].join('\n'));
  const r = await runCli(['simulate', ARTICLE, '--requests-file', log, '--latency', '10.244.0.2:8080=const:5ms', '--latency', '*=const:1ms', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as SimReport;
  assert.equal(report.requests, 3);
  const c = report.listeners[0]!.routes[0]!.clusters[0]!;
  assert.equal(c.requests, 3);
  for (const e of c.endpoints) if (e.count > 0) assert.equal(e.meanLatencyMs, e.address === '10.244.0.2:8080' ? 5 : 1);
  const missing = await runCli(['simulate', ARTICLE, '--requests-file', join(dir, 'none.log')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /none\.log/);
});

test('colour: FORCE_COLOR colours the table, --no-color and NO_COLOR do not', async () => {
  const forced = await runCli(['simulate', ARTICLE, '-n', '100'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
  assert.match(forced.stdout, /\x1b\[/);
  const off = await runCli(['simulate', ARTICLE, '-n', '100', '--no-color'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
  assert.doesNotMatch(off.stdout, /\x1b\[/);
});
