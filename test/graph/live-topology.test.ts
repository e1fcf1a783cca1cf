/**
 * `meshctl run`'s /topology page in a real headless browser (Debian's chromium driven by playwright-core): traffic
 * goes through the proxy, and the page — without reloading — shows each endpoint's requests and errors as the admin
 * server's /clusters has them and the cluster's total as /stats has it, within one poll of the traffic ending; and
 * each endpoint's latency (the upstreams answer after 5 ms and 40 ms): at least the upstream's delay, at most what
 * the client saw, the slow one above the fast one. Skipped with a reason where chromium is not installed (.ci/run
 * installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { spawnCli } from '../proxy/cli-helpers.js';

const CHROMIUM = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();

/** An upstream on an ephemeral loopback port answering every request with `status` and its port, after `delayMs`. */
async function upstream(status: number, delayMs: number): Promise<http.Server> {
  const s = http.createServer((_req, res) => {
    // A timer may fire up to a millisecond early by the real clock (libuv counts from the loop's cached time): wait
    // until `delayMs` have really passed, so each attempt takes at least that long.
    const start = performance.now();
    const answer = (): void => {
      const left = delayMs - (performance.now() - start);
      if (left > 0) setTimeout(answer, Math.ceil(left));
      else res.writeHead(status, { 'content-type': 'text/plain' }).end(String((s.address() as AddressInfo).port));
    };
    setTimeout(answer, delayMs);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return s;
}

function config(ok: number, failing: number): string {
  return `
static_resources:
  listeners:
    - name: front
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: front
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: web }
  clusters:
    - name: web
      connect_timeout: 1s
      load_assignment:
        cluster_name: web
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${ok} } } }
                load_balancing_weight: 3
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${failing} } } }
                load_balancing_weight: 1
`;
}

interface PageRow {
  key: string;
  rq_total: number;
  rq_error: number;
  mean: number;
  p50: number;
  p99: number;
}

const FAST_MS = 5;
const SLOW_MS = 40;

test('run: /topology in headless chromium shows live numbers per endpoint matching /clusters and /stats', { timeout: 120_000 }, async (t) => {
  if (CHROMIUM === '') return t.skip('chromium is not installed (Debian package `chromium`; .ci/run installs it)');
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-topology-'));
  const ok = await upstream(200, FAST_MS);
  const failing = await upstream(503, SLOW_MS);
  const okPort = (ok.address() as AddressInfo).port;
  const failingPort = (failing.address() as AddressInfo).port;
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, config(okPort, failingPort));
  const cli = spawnCli(['run', '--admin-address', '127.0.0.1:0', '--no-access-log', '--seed', '3', file]);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const port = Number((await cli.waitFor(/listener front on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    const admin = `http://127.0.0.1:${(await cli.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/))[1]}`;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${admin}/topology`);
    // (Page code as strings: the tests compile without the DOM's types.)
    await page.waitForFunction("document.getElementById('status').textContent.startsWith('updated')", undefined, { timeout: 10_000 });
    // A mark on the window: still there at the end means the numbers arrived without a reload.
    await page.evaluate('window.mark = 42');

    const sent = 80;
    // What the client saw of each upstream: the longest request (an attempt cannot take longer than its request).
    const slowest = new Map<number, number>();
    for (let i = 0; i < sent; i++) {
      const start = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/item/${i}`);
      const by = Number(await res.text());
      slowest.set(by, Math.max(slowest.get(by) ?? 0, performance.now() - start));
    }
    const trafficEnded = Date.now();
    // Envoy's /clusters?format=json (admin.v3.Clusters): hosts under host_statuses, counters as SimpleMetrics.
    const clusters = (await (await fetch(`${admin}/clusters?format=json`)).json()) as {
      cluster_statuses: {
        name: string;
        host_statuses: { address: { socket_address: { address: string; port_value: number } }; stats: { name: string; value?: string | number }[] }[];
      }[];
    };
    const web0 = clusters.cluster_statuses.find((c) => c.name === 'web')!;
    const counter = (stats: { name: string; value?: string | number }[], name: string): number => Number(stats.find((m) => m.name === name)?.value ?? 0);
    const web = {
      hosts: web0.host_statuses.map((h) => ({
        address: `${h.address.socket_address.address}:${h.address.socket_address.port_value}`,
        rq_total: counter(h.stats, 'rq_total'),
        rq_error: counter(h.stats, 'rq_error'),
      })),
    };
    const expected = new Map(web.hosts.map((h) => [`web ${h.address}`, h]));
    assert.equal(web.hosts.reduce((a, h) => a + h.rq_total, 0), sent);
    const failingHost = web.hosts.find((h) => h.address === `127.0.0.1:${failingPort}`)!;
    assert.ok(failingHost.rq_total > 0 && failingHost.rq_error === failingHost.rq_total, 'the failing endpoint counts errors');

    const readRows = (): Promise<PageRow[]> =>
      page.$$eval('tr[data-endpoint]', (rows) =>
        rows.map((r) => ({
          key: r.getAttribute('data-endpoint')!,
          rq_total: Number(r.querySelector('[data-k=rq_total]')!.textContent),
          rq_error: Number(r.querySelector('[data-k=rq_error]')!.textContent),
          mean: Number(r.querySelector('[data-k=latency_mean]')!.textContent),
          p50: Number(r.querySelector('[data-k=latency_p50]')!.textContent),
          p99: Number(r.querySelector('[data-k=latency_p99]')!.textContent),
        })),
      );
    let rows: PageRow[] = [];
    for (let i = 0; i < 60; i++) {
      rows = await readRows();
      // Caught up: the page shows what /clusters showed after the traffic. (A poll made while the last request was in
      // flight already counts its attempt, not yet its error: the totals alone are not the end.)
      if (rows.length === 2 && rows.every((r) => expected.get(r.key)?.rq_total === r.rq_total && expected.get(r.key)?.rq_error === r.rq_error)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const caughtUpMs = Date.now() - trafficEnded;
    // The page polls once a second; allow that second plus the poll's own round trip on a busy machine.
    assert.ok(caughtUpMs <= 2000, `the page caught up ${caughtUpMs} ms after the traffic`);
    assert.equal(rows.length, 2);
    for (const r of rows) {
      const want = expected.get(r.key);
      assert.ok(want, `${r.key} is an endpoint of /clusters`);
      assert.equal(r.rq_total, want.rq_total, `${r.key} requests`);
      assert.equal(r.rq_error, want.rq_error, `${r.key} errors`);
    }
    // Latency per endpoint: each attempt took at least the upstream's delay and at most the client's whole request; the
    // quantiles are read from buckets at most 25% wide.
    const row = (p: number): PageRow => rows.find((r) => r.key === `web 127.0.0.1:${p}`)!;
    for (const [p, delay] of [[okPort, FAST_MS], [failingPort, SLOW_MS]] as const) {
      const r = row(p);
      const most = slowest.get(p)!;
      assert.ok(r.mean >= delay && r.mean <= most + 0.1, `${r.key}: mean ${r.mean} ms, upstream delay ${delay} ms, slowest request ${most.toFixed(1)} ms`);
      for (const q of [r.p50, r.p99]) assert.ok(q >= delay * 0.8 && q <= most * 1.25 + 0.1, `${r.key}: p50/p99 ${r.p50}/${r.p99} ms, upstream delay ${delay} ms, slowest ${most.toFixed(1)} ms`);
    }
    assert.ok(row(failingPort).p50 > row(okPort).p50 && row(failingPort).mean > row(okPort).mean, `the slow endpoint is slower: ${JSON.stringify(rows)}`);
    assert.ok(row(okPort).p50 < SLOW_MS, `the fast endpoint's p50 ${row(okPort).p50} ms is under the slow one's delay`);
    // Open connections (cx_active, a gauge, so compared when the page and /clusters agree within a few polls).
    const pageConnections = (): Promise<string> =>
      page.$$eval('tr[data-endpoint]', (trs) => trs.map((r) => `${r.getAttribute('data-endpoint')}=${r.querySelector('[data-k=cx_active]')!.textContent}`).sort().join(' '));
    const adminConnections = async (): Promise<string> => {
      const j = (await (await fetch(`${admin}/clusters?format=json`)).json()) as typeof clusters;
      return j.cluster_statuses
        .find((c) => c.name === 'web')!
        .host_statuses.map((h) => `web ${h.address.socket_address.address}:${h.address.socket_address.port_value}=${counter(h.stats, 'cx_active')}`)
        .sort()
        .join(' ');
    };
    let connections = ['', '-'];
    for (let i = 0; i < 30 && connections[0] !== connections[1]; i++) {
      connections = [await adminConnections(), await pageConnections()];
      if (connections[0] !== connections[1]) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(connections[1], connections[0], 'connections per endpoint as /clusters has them');
    assert.match(connections[0]!, /=[1-9]/, 'the keep-alive connections are open');
    // The cluster's total as /stats counts it.
    const stats = await (await fetch(`${admin}/stats?filter=^cluster\\.web\\.upstream_rq_total$`)).text();
    const total = Number(/cluster\.web\.upstream_rq_total: (\d+)/.exec(stats)![1]);
    const pageTotal = Number(await page.$eval('tr[data-cluster="web"] [data-k=rq_total]', (td) => td.textContent));
    assert.equal(pageTotal, total);
    // The graph itself carries the numbers: each endpoint's box has its live line.
    const live = await page.$$eval('svg g.node text.live', (ts) => ts.map((x) => x.textContent ?? ''));
    for (const h of web.hosts) assert.ok(live.some((l) => l.startsWith(`${h.rq_total} rq · `) && / p50 \d+\.\d ms( · |$)/.test(l)), `live line for ${h.address} in ${JSON.stringify(live)}`);
    // So do the cluster → endpoint edges: their rate and the same mean latency as the endpoint's row (one tick writes
    // both, and one evaluate reads both).
    const both = (await page.evaluate(`(() => {
      const map = JSON.parse(document.getElementById('topology-map').textContent);
      const out = [];
      for (const g of document.querySelectorAll('svg g.edge')) {
        const e = Object.values(map.endpoints).find((x) => x.edge === g.querySelector('title').textContent);
        if (!e) continue;
        const row = document.querySelector('tr[data-endpoint="' + CSS.escape(e.cluster + ' ' + e.address) + '"]');
        out.push({ address: e.address, edge: g.querySelector('text.live')?.textContent ?? '', mean: row.querySelector('[data-k=latency_mean]').textContent });
      }
      return out;
    })()`)) as { address: string; edge: string; mean: string }[];
    assert.equal(both.length, 2, JSON.stringify(both));
    for (const x of both) assert.match(x.edge, new RegExp(`^\\d+\\.\\d rq/s · ${x.mean.replace('.', '\\.')} ms$`), `edge to ${x.address}`);
    assert.equal(await page.evaluate('window.mark'), 42, 'no reload');
    // Nothing but the admin server was asked for anything.
    assert.ok(requested.length >= 3);
    for (const u of requested) assert.ok(u.startsWith(`${admin}/topology`), `requested ${u}`);
    const shot = join(dir, 'topology.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 20_000, `screenshot is ${statSync(shot).size} bytes`);
  } finally {
    await browser.close();
    cli.kill();
    await cli.exit();
    await new Promise<void>((r) => ok.close(() => r()));
    await new Promise<void>((r) => failing.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
