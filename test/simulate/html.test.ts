/**
 * `meshctl simulate --format html` through the real binary: the page is self-contained, and its charts draw what the
 * JSON report of the same run says — every endpoint's observed and expected share as bars of the right length, and
 * with --at one step per phase and a marker per event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import type { SimReport } from '../../src/simulate/report-types.js';

const CONFIG = 'test/graph/fixtures/weighted-mirror.yaml';
const ARGS = ['simulate', CONFIG, '-n', '6000', '--seed', '7', '--host', 'shop.example.com', '--path', '/cart'];
/** The bars' full width in the chart (100%). */
const BAR_W = 420;

async function both(extra: string[]): Promise<{ html: string; report: SimReport }> {
  const [h, j] = await Promise.all([runCli([...ARGS, ...extra, '--format', 'html']), runCli([...ARGS, ...extra, '--format', 'json'])]);
  assert.equal(h.code, 0, h.stderr);
  assert.equal(j.code, 0, j.stderr);
  return { html: h.stdout, report: JSON.parse(j.stdout) as SimReport };
}

/** The markup of one cluster's section. */
function clusterSection(html: string, route: string, cluster: string): string {
  const start = html.indexOf(`<section class="cluster" data-route="${route.replace(/"/g, '&quot;')}" data-cluster="${cluster}">`);
  assert.ok(start >= 0, `no section for ${route} → ${cluster}`);
  return html.slice(start, html.indexOf('</section>', start));
}

const attr = (tag: string, name: string): number => Number(new RegExp(`\\b${name}="([^"]*)"`).exec(tag)![1]);

test('simulate --format html: self-contained, and every endpoint drawn with its observed and expected share', async () => {
  const { html, report } = await both([]);
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /<script|\bsrc=|<link\b|@import|url\(|href=/, 'nothing fetched, no script');
  const route = report.listeners[0]!.routes[0]!;
  assert.equal(route.clusters.length, 2);
  let endpoints = 0;
  for (const c of route.clusters) {
    const section = clusterSection(html, route.id, c.name);
    assert.match(section, new RegExp(`${c.requests} requests`));
    for (const e of c.endpoints) {
      const g = new RegExp(`<g class="endpoint" data-endpoint="${e.address}">([\\s\\S]*?)</g>`).exec(section);
      assert.ok(g, `${c.name}: ${e.address} drawn`);
      const observed = /<rect class="observed"[^>]*>/.exec(g[1]!)![0];
      const expected = /<rect class="expected"[^>]*>/.exec(g[1]!)![0];
      assert.ok(Math.abs(attr(observed, 'width') - e.share * BAR_W) < 0.01, `${e.address} observed bar`);
      assert.ok(Math.abs(attr(expected, 'width') - e.expectedShare * BAR_W) < 0.01, `${e.address} expected bar`);
      assert.ok(g[1]!.includes(`observed ${(e.share * 100).toFixed(2)}% (${e.count})`), `${e.address} observed label`);
      assert.ok(g[1]!.includes(`expected ${(e.expectedShare * 100).toFixed(2)}%`), `${e.address} expected label`);
      endpoints++;
    }
    assert.doesNotMatch(section, /over-time/, 'no timeline, no chart over time');
  }
  assert.equal(endpoints, 4);
  // The canary split: about 90 / 10, as the JSON says.
  assert.ok(Math.abs(route.clusters[0]!.share - 0.9) < 0.02);
});

test('simulate --format html with --at: the split over time, one step per phase, the events marked', async () => {
  const { html, report } = await both(['--at', '2s:down=127.0.0.1:9001', '--at', '4s:up=127.0.0.1:9001']);
  const route = report.listeners[0]!.routes[0]!;
  const c = route.clusters.find((x) => x.name === 'cart-v1')!;
  assert.equal(c.phases!.length, 3);
  const section = clusterSection(html, route.id, c.name);
  assert.match(section, /<svg class="over-time"/);
  assert.equal([...section.matchAll(/<g class="event">/g)].length, 2);
  assert.match(section, /2s down 127\.0\.0\.1:9001/);
  assert.match(section, /4s up 127\.0\.0\.1:9001/);
  // Chart geometry: x from 48 over 640 px for the run's virtual duration, y from 16 over 200 px for 100% → 0%.
  const end = report.virtualDurationMs;
  c.endpoints.forEach((e, i) => {
    const series = new RegExp(`<g class="series" data-endpoint="${e.address}">([\\s\\S]*?)</g>`).exec(section)![1]!;
    const d = /<path class="observed" d="([^"]*)"/.exec(series)![1]!;
    const steps = [...d.matchAll(/M([\d.]+),([\d.]+)H([\d.]+)/g)];
    assert.equal(steps.length, 3, `${e.address}: one step per phase`);
    steps.forEach((s, p) => {
      const phase = c.phases![p]!;
      assert.ok(Math.abs(Number(s[1]) - (48 + (phase.fromMs / end) * 640)) < 0.01);
      assert.ok(Math.abs(Number(s[2]) - (16 + (1 - phase.endpoints[i]!.share) * 200)) < 0.01, `${e.address} phase ${p}`);
    });
  });
  // While 9001 is down it gets nothing: its middle step is on the 0% line.
  const down = /<g class="series" data-endpoint="127.0.0.1:9001">[\s\S]*?<path class="observed" d="M[^M]*M[\d.]+,([\d.]+)H/.exec(section)!;
  assert.equal(Number(down[1]), 216);
});
