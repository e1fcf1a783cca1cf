/**
 * The upstream side's numbers in the admin /stats of the real binary: a cluster with an HTTP health check against a
 * local upstream, outlier detection and circuit breakers. Checks and ejections move Envoy's counters and gauges, in
 * the text, JSON and Prometheus forms (promtool as judge), and `--workers 2` merges them: counters add up across the
 * processes, the cluster's state (membership, health) is not counted once per process.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duration } from '../../src/config/model.js';
import { cluster, config, destroyAgent, get, routeTo } from './helpers.js';
import { freePort, spawnCli, type RunningCli } from './cli-helpers.js';
import { parseExposition } from './exposition.js';
import { findTool } from '../hardening/tools.js';

/** An upstream whose health endpoint and application answers the test sets; it counts the health checks it got. */
interface Upstream {
  readonly port: number;
  health: number;
  app: number;
  checks: number;
  close(): Promise<void>;
}

async function upstream(): Promise<Upstream> {
  const state = { health: 200, app: 200, checks: 0 };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      state.checks++;
      res.writeHead(state.health).end();
    } else res.writeHead(state.app, { 'content-type': 'text/plain' }).end('upstream\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  });
}

const ms = (n: number): Duration => ({ seconds: Math.floor(n / 1000), nanos: (n % 1000) * 1e6 });

/** A config file: listener → cluster `svc` (one host) with a health check, outlier detection and breakers. */
function writeConfig(upstreamPort: number, listenPort = 0): string {
  const cfg = config({
    clusters: [
      cluster('svc', [upstreamPort], {
        health_checks: [
          {
            timeout: ms(1000),
            interval: ms(100),
            // Envoy checks at no_traffic_interval (60 s by default) until the cluster has had traffic.
            no_traffic_interval: ms(100),
            unhealthy_threshold: 1,
            healthy_threshold: 1,
            http_health_check: { path: '/healthz' },
          },
        ],
        outlier_detection: { consecutive_5xx: 2, max_ejection_percent: 100, base_ejection_time: ms(30_000) },
        circuit_breakers: { thresholds: [{ max_requests: 50, track_remaining: true }] },
      }),
    ],
    routes: [routeTo('svc')],
  });
  delete cfg.admin;
  cfg.static_resources!.listeners![0]!.address!.socket_address!.port_value = listenPort;
  const file = join(mkdtempSync(join(tmpdir(), 'meshctl-upstream-stats-')), 'svc.json');
  writeFileSync(file, JSON.stringify(cfg));
  return file;
}

const children: RunningCli[] = [];
after(() => {
  for (const c of children) c.kill();
  destroyAgent();
});

async function start(args: string[]): Promise<{ cli: RunningCli; admin: number }> {
  const cli = spawnCli(['run', '--admin-address', '127.0.0.1:0', '--no-access-log', ...args]);
  children.push(cli);
  const ad = await cli.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/, 60_000);
  return { cli, admin: Number(ad[1]) };
}

/** `/stats` text as a map (name → value). */
async function stats(admin: number, filter = '^cluster'): Promise<Map<string, number>> {
  const r = await get(admin, `/stats?filter=${encodeURIComponent(filter)}`);
  assert.equal(r.status, 200);
  const out = new Map<string, number>();
  for (const line of r.body.trim().split('\n')) {
    const m = /^(\S+): (-?\d+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v instanceof Map ? Object.fromEntries(v) : v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const P = 'cluster.svc.';

test('/stats: health checks, outlier detection and circuit breakers under Envoy names, moving with what happens', async (t) => {
  const up = await upstream();
  t.after(() => up.close());
  const { cli, admin } = await start([writeConfig(up.port)]);
  const port = Number((await cli.waitFor(/listener \S+ on http:\/\/[^:]+:(\d+)/))[1]);

  // Health checks every 100 ms: attempt and success move, the one host counts as healthy.
  const first = await until(() => stats(admin), (s) => (s.get(P + 'health_check.success') ?? 0) >= 2, 'two successful checks');
  const later = await until(() => stats(admin), (s) => s.get(P + 'health_check.attempt')! > first.get(P + 'health_check.attempt')!, 'more checks');
  assert.ok(later.get(P + 'health_check.success')! >= first.get(P + 'health_check.success')!);
  for (const k of ['failure', 'network_failure', 'passive_failure', 'verify_cluster', 'degraded']) assert.equal(later.get(P + `health_check.${k}`), 0, k);
  assert.equal(later.get(P + 'health_check.healthy'), 1);
  assert.equal(later.get(P + 'membership_total'), 1);
  assert.equal(later.get(P + 'membership_healthy'), 1);
  assert.equal(later.get(P + 'circuit_breakers.default.rq_open'), 0);
  assert.equal(later.get(P + 'circuit_breakers.default.remaining_rq'), 50);
  assert.equal(later.get(P + 'outlier_detection.ejections_enforced_total'), 0);
  assert.ok(up.checks >= later.get(P + 'health_check.success')!, `the upstream saw ${up.checks} checks`);

  // Two 5xx in a row: consecutive_5xx (2) ejects the host.
  up.app = 503;
  for (let i = 0; i < 2; i++) assert.equal((await get(port, `/fail/${i}`)).status, 503);
  const ejected = await stats(admin, '^cluster\\.svc\\.outlier_detection\\.');
  assert.equal(ejected.get(P + 'outlier_detection.ejections_detected_consecutive_5xx'), 1);
  assert.equal(ejected.get(P + 'outlier_detection.ejections_enforced_consecutive_5xx'), 1);
  assert.equal(ejected.get(P + 'outlier_detection.ejections_enforced_total'), 1);
  assert.equal(ejected.get(P + 'outlier_detection.ejections_total'), 1);
  assert.equal(ejected.get(P + 'outlier_detection.ejections_overflow'), 0);
  assert.ok(ejected.has(P + 'outlier_detection.ejections_active'));
  assert.ok(ejected.has(P + 'outlier_detection.ejections_enforced_success_rate'));
  assert.equal(ejected.get(P + 'health_check.attempt'), undefined, 'the filter applies');

  // The health endpoint fails: failure counts, the host is no longer healthy.
  up.health = 500;
  const failing = await until(() => stats(admin), (s) => s.get(P + 'health_check.healthy') === 0, 'the host failing its check');
  assert.ok(failing.get(P + 'health_check.failure')! >= 1);
  assert.equal(failing.get(P + 'health_check.network_failure'), 0, 'an HTTP 500 is not a network failure');
  assert.equal(failing.get(P + 'membership_healthy'), 0);

  // JSON: the same names.
  const json = JSON.parse((await get(admin, '/stats?format=json&filter=health_check')).body) as { stats: { name: string; value: number }[] };
  const names = json.stats.map((s) => s.name);
  for (const k of ['attempt', 'success', 'failure', 'network_failure', 'passive_failure', 'verify_cluster', 'healthy', 'degraded']) {
    assert.ok(names.includes(P + `health_check.${k}`), `json has health_check.${k}`);
  }

  // Prometheus: Envoy's names and tag, counters as counters and gauges as gauges.
  const prom = await get(admin, '/stats/prometheus');
  const fams = parseExposition(prom.body);
  const sample = (name: string, type: string): number => {
    const f = fams.get(name);
    assert.equal(f?.type, type, `${name} is a ${type}`);
    const s = f!.samples.find((x) => x.labels.envoy_cluster_name === 'svc');
    assert.ok(s, `${name}{envoy_cluster_name="svc"}`);
    return s.value;
  };
  assert.ok(sample('envoy_cluster_health_check_attempt', 'counter') >= failing.get(P + 'health_check.attempt')!);
  assert.ok(sample('envoy_cluster_health_check_failure', 'counter') >= 1);
  assert.equal(sample('envoy_cluster_health_check_healthy', 'gauge'), 0);
  assert.equal(sample('envoy_cluster_outlier_detection_ejections_enforced_total', 'counter'), 1);
  sample('envoy_cluster_outlier_detection_ejections_active', 'gauge');
  assert.equal(sample('envoy_cluster_circuit_breakers_default_rq_open', 'gauge'), 0);
  assert.equal(sample('envoy_cluster_circuit_breakers_default_remaining_rq', 'gauge'), 50);
  assert.equal(sample('envoy_cluster_membership_total', 'gauge'), 1);
  assert.equal(fams.get('envoy_cluster_manager_active_clusters')?.samples[0]?.value, 1);

  await t.test('promtool check metrics accepts it', (st) => {
    const tool = findTool('promtool', 'prometheus');
    if ('skip' in tool) {
      console.log(`# skip: ${tool.skip}`);
      return st.skip(tool.skip);
    }
    const r = spawnSync(tool.path, ['check', 'metrics'], { input: prom.body, encoding: 'utf8', timeout: 30_000 });
    const out = `${r.stdout}${r.stderr}`;
    // Exit 3 is lint only; Envoy's own naming (counters without `_total`) is the one finding allowed, as Envoy's
    // /stats/prometheus gets it too.
    assert.ok(r.status === 0 || r.status === 3, `promtool: exit ${r.status}\n${out}`);
    assert.deepEqual(out.split('\n').filter((l) => l.trim() !== '' && !/ (counter|non-counter) metrics should (not )?have "_total" suffix$/.test(l)), []);
  });

  cli.child.kill('SIGTERM');
  assert.equal(await cli.exit(), 0);
});

test('--workers 2: upstream counters add up across the processes; the cluster state is not counted twice', async (t) => {
  const up = await upstream();
  t.after(() => up.close());
  // With port 0 each worker would bind a port of its own.
  const { cli, admin } = await start([writeConfig(up.port, await freePort()), '--workers', '2', '--listen-address', '127.0.0.1']);
  await until(() => stats(admin), (s) => (s.get(P + 'health_check.success') ?? 0) >= 4, 'checks from both workers');
  // Every check the upstream has answered was counted by the worker that sent it, before it was sent.
  const seen = up.checks;
  const s = await stats(admin);
  assert.ok(s.get(P + 'health_check.attempt')! >= seen, `attempts ${s.get(P + 'health_check.attempt')} < checks the upstream answered ${seen}`);
  assert.equal(s.get(P + 'membership_total'), 1);
  assert.equal(s.get(P + 'membership_healthy'), 1);
  assert.equal(s.get(P + 'health_check.healthy'), 1);
  assert.equal(s.get(P + 'circuit_breakers.default.rq_open'), 0);
  // Each process has its own breaker: the remaining capacity is both processes'.
  assert.equal(s.get(P + 'circuit_breakers.default.remaining_rq'), 100);
  const cm = await stats(admin, '^cluster_manager\\.');
  assert.equal(cm.get('cluster_manager.active_clusters'), 1);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exit(), 0);
});
