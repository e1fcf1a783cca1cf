/**
 * `meshctl run`'s live topology page on the admin server: /topology is the config's graph (the one `meshctl graph`
 * draws) with each cluster's and endpoint's request rate, error rate, latency and health written onto it every
 * second by a small inline script that polls /topology/data on the same server. No external asset: the SVG, the
 * style and the script are in the page, so it works offline.
 *
 * An endpoint's latency (mean, p50, p99) comes from its attempt histogram (upstream/host-latency.ts) as a difference
 * of two polls: the last interval's attempts, or every attempt so far while none ended in the interval. It is shown
 * on the endpoint, on the cluster → endpoint edge and in the table; it is not an Envoy stat, so only this JSON has it.
 */
import type { Bootstrap } from '../config/model.js';
import type { AdminPage, AdminPageSources } from '../proxy/admin.js';
import { statSafe } from '../proxy/stats.js';
import { escapeHtml } from '../simulate/html.js';
import { LATENCY_BUCKETS, latencyBucketRange, latencyQuantile, type LatencySnapshot } from '../upstream/host-latency.js';
import { buildGraph, type MeshGraph } from './model.js';

/** What the page polls: counters as totals (the page turns them into rates), per cluster and per endpoint. */
export interface TopologyData {
  /** Milliseconds since the epoch when the numbers were read. */
  readonly at: number;
  readonly clusters: readonly {
    readonly name: string;
    readonly rq_total: number;
    readonly rq_error: number;
    /** Sum and count of upstream_rq_time (ms), for the mean latency over an interval. */
    readonly rq_time_sum: number;
    readonly rq_time_count: number;
    /** Envoy's names where /clusters has the stat (admin.v3.HostStatus: rq_total, rq_success, rq_error, rq_active, cx_active). */
    readonly hosts: readonly {
      address: string;
      health: string;
      rq_total: number;
      rq_success: number;
      rq_error: number;
      rq_active: number;
      cx_active: number;
      /** Every attempt's latency so far (absent before the host's first attempt). */
      latency?: LatencySnapshot;
    }[];
  }[];
}

export async function topologyData(p: AdminPageSources): Promise<TopologyData> {
  const [stats, clusters] = await Promise.all([p.stats(), p.clusters()]);
  return {
    at: Date.now(),
    clusters: clusters.map((c) => {
      const h = stats.histograms[`cluster.${statSafe(c.observability_name)}.upstream_rq_time`];
      return {
        name: c.name,
        rq_total: c.hosts.reduce((a, x) => a + x.rq_total, 0),
        rq_error: c.hosts.reduce((a, x) => a + x.rq_error, 0),
        rq_time_sum: h?.sum ?? 0,
        rq_time_count: h?.count ?? 0,
        hosts: c.hosts.map((x) => ({
          address: x.address,
          health: x.health,
          rq_total: x.rq_total,
          rq_success: x.rq_success,
          rq_error: x.rq_error,
          rq_active: x.rq_active,
          cx_active: x.cx_active,
          ...(x.latency !== undefined ? { latency: x.latency } : {}),
        })),
      };
    }),
  };
}

/** The drawn page per config object: Graphviz runs once per config generation, not per request. */
const pages = new WeakMap<Bootstrap, Promise<string>>();

async function page(config: Bootstrap): Promise<string> {
  let html = pages.get(config);
  if (html === undefined) {
    html = (async () => {
      const graph = buildGraph('meshctl run — live topology', config, []);
      const { renderSvg } = await import('./svg.js');
      // Room for the live lines: under each box, and over each edge's share.
      return livePage(graph, widen(await renderSvg(graph, { nodesep: 0.5, ranksep: 1.1 }), ENDPOINT_LINE_PT));
    })();
    pages.set(config, html);
  }
  return html;
}

interface NodeMap {
  clusters: Record<string, string>;
  /** By node id, and by the cluster → endpoint edge's title (`from->to`, as Graphviz titles an edge). */
  endpoints: Record<string, { cluster: string; address: string; edge: string }>;
}

/** The width the endpoints' live lines take right of the last rank, in points. */
const ENDPOINT_LINE_PT = 300;

/** The SVG made `pt` points wider on the right (Graphviz writes width="Wpt" and viewBox="0.00 0.00 W H"). */
function widen(svg: string, pt: number): string {
  return svg.replace(/<svg width="([\d.]+)pt"([^>]*?) viewBox="([\d.-]+) ([\d.-]+) ([\d.]+) ([\d.]+)"/, (_m, w: string, mid: string, x: string, y: string, vw: string, vh: string) =>
    `<svg width="${Number(w) + pt}pt"${mid} viewBox="${x} ${y} ${Number(vw) + pt} ${vh}"`);
}

/** Which drawn node is which cluster or endpoint, for the script. */
function nodeMap(g: MeshGraph): NodeMap {
  const clusters: Record<string, string> = {};
  const endpoints: NodeMap['endpoints'] = {};
  for (const n of g.nodes) if (n.kind === 'cluster') clusters[n.id] = n.name;
  for (const e of g.edges) {
    const to = g.nodes.find((n) => n.id === e.to);
    if (e.kind === 'endpoint' && to !== undefined && clusters[e.from] !== undefined) {
      endpoints[to.id] = { cluster: clusters[e.from]!, address: to.name, edge: `${e.from}->${e.to}` };
    }
  }
  return { clusters, endpoints };
}

/** Every bucket's [lower, upper) in ms, for the script's quantiles. */
const BUCKET_RANGES = Array.from({ length: LATENCY_BUCKETS }, (_, i) => latencyBucketRange(i));

/** The page's script: poll every second, turn totals into rates, write them on the graph and into the table. */
const SCRIPT = String.raw`
const MAP = JSON.parse(document.getElementById('topology-map').textContent);
const SVG_NS = 'http://www.w3.org/2000/svg';
const byTitle = new Map();
for (const g of document.querySelectorAll('svg g.node, svg g.edge')) {
  const t = g.querySelector('title');
  if (t) byTitle.set(t.textContent, g);
}
/** A live line: under a cluster's box, right of an endpoint's (the last rank: nothing is drawn there), over an edge's share. */
function liveText(g, lines, where) {
  let t = g.querySelector('text.live');
  if (!t) {
    const box = g.getBBox();
    const label = where === 'edge' ? g.querySelector('text') : null;
    t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('class', 'live');
    if (where === 'right') {
      t.setAttribute('x', String(box.x + box.width + 6));
      t.setAttribute('y', String(box.y + box.height / 2 + 3));
      t.setAttribute('text-anchor', 'start');
    } else if (label) {
      t.setAttribute('x', label.getAttribute('x'));
      t.setAttribute('y', String(Number(label.getAttribute('y')) - 11));
      t.setAttribute('text-anchor', 'middle');
    } else {
      t.setAttribute('x', String(box.x + box.width / 2));
      t.setAttribute('y', String(box.y + box.height + 11));
      t.setAttribute('text-anchor', 'middle');
    }
    g.appendChild(t);
  }
  t.textContent = lines;
}
const fmt = (x, d) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const latencyBucketRange = (i) => MAP.buckets[i];
${latencyQuantile.toString()}
/** Mean, p50 and p99 (ms) of the attempts since the previous reading, or of all of them while none ended since. */
function hostLatency(now, then) {
  if (!now || now.count === 0) return { mean: NaN, p50: NaN, p99: NaN };
  const fresh = then && now.count > then.count;
  const b = fresh ? now.buckets.map((n, i) => n - (then.buckets[i] || 0)) : now.buckets;
  const n = fresh ? now.count - then.count : now.count;
  const sum = fresh ? now.sum - then.sum : now.sum;
  return { mean: sum / n, p50: latencyQuantile(b, 0.5), p99: latencyQuantile(b, 0.99) };
}
let prev;
async function tick() {
  let d;
  try {
    const r = await fetch('/topology/data', { cache: 'no-store' });
    d = await r.json();
  } catch (e) {
    document.getElementById('status').textContent = 'admin server unreachable';
    return;
  }
  const dt = prev ? (d.at - prev.at) / 1000 : 0;
  const before = new Map();
  if (prev) for (const c of prev.clusters) {
    before.set(c.name, c);
    for (const h of c.hosts) before.set(c.name + ' ' + h.address, h);
  }
  const rate = (now, then) => (dt > 0 && then !== undefined ? (now - then) / dt : NaN);
  for (const c of d.clusters) {
    const p = before.get(c.name);
    const rps = rate(c.rq_total, p && p.rq_total);
    const eps = rate(c.rq_error, p && p.rq_error);
    const n = p ? c.rq_time_count - p.rq_time_count : 0;
    const ms = n > 0 ? (c.rq_time_sum - p.rq_time_sum) / n : c.rq_time_count > 0 ? c.rq_time_sum / c.rq_time_count : NaN;
    const row = document.querySelector('tr[data-cluster="' + CSS.escape(c.name) + '"]');
    if (row) {
      row.querySelector('[data-k=rq_total]').textContent = String(c.rq_total);
      row.querySelector('[data-k=rps]').textContent = fmt(rps, 1);
      row.querySelector('[data-k=errors]').textContent = rps > 0 ? fmt((100 * eps) / rps, 1) + '%' : '-';
      row.querySelector('[data-k=latency]').textContent = fmt(ms, 1);
    }
    for (const [id, name] of Object.entries(MAP.clusters)) {
      if (name === c.name && byTitle.has(id)) liveText(byTitle.get(id), fmt(rps, 1) + ' rq/s · ' + (rps > 0 ? fmt((100 * eps) / rps, 1) : '0') + '% err · ' + fmt(ms, 1) + ' ms');
    }
    for (const h of c.hosts) {
      const ph = before.get(c.name + ' ' + h.address);
      const hr = rate(h.rq_total, ph && ph.rq_total);
      const he = rate(h.rq_error, ph && ph.rq_error);
      const lat = hostLatency(h.latency, ph && ph.latency);
      const hrow = document.querySelector('tr[data-endpoint="' + CSS.escape(c.name + ' ' + h.address) + '"]');
      if (hrow) {
        hrow.querySelector('[data-k=rq_total]').textContent = String(h.rq_total);
        hrow.querySelector('[data-k=rq_error]').textContent = String(h.rq_error);
        hrow.querySelector('[data-k=rps]').textContent = fmt(hr, 1);
        hrow.querySelector('[data-k=cx_active]').textContent = String(h.cx_active);
        hrow.querySelector('[data-k=health]').textContent = h.health;
        hrow.querySelector('[data-k=latency_mean]').textContent = fmt(lat.mean, 1);
        hrow.querySelector('[data-k=latency_p50]').textContent = fmt(lat.p50, 1);
        hrow.querySelector('[data-k=latency_p99]').textContent = fmt(lat.p99, 1);
      }
      for (const [id, e] of Object.entries(MAP.endpoints)) {
        if (e.cluster !== c.name || e.address !== h.address || !byTitle.has(id)) continue;
        const g = byTitle.get(id);
        g.classList.toggle('unhealthy', h.health !== 'healthy');
        liveText(g, h.rq_total + ' rq · ' + fmt(hr, 1) + ' rq/s · ' + fmt(he, 1) + ' err/s · p50 ' + fmt(lat.p50, 1) + ' ms' + (h.health === 'healthy' ? '' : ' · ' + h.health), 'right');
        const edge = byTitle.get(e.edge);
        if (edge) liveText(edge, fmt(hr, 1) + ' rq/s · ' + fmt(lat.mean, 1) + ' ms', 'edge');
      }
    }
  }
  document.getElementById('status').textContent = 'updated ' + new Date(d.at).toLocaleTimeString();
  prev = d;
}
tick();
setInterval(tick, 1000);
`;

function livePage(g: MeshGraph, svg: string): string {
  const map = nodeMap(g);
  // Inside <script type="application/json"> only `</` could end the element early.
  const json = JSON.stringify({ ...map, buckets: BUCKET_RANGES }).replace(/</g, '\\u003c');
  const clusterRows = g.nodes
    .filter((n) => n.kind === 'cluster')
    .map((n) => `<tr data-cluster="${escapeHtml(n.name)}"><td>${escapeHtml(n.name)}</td><td data-k="rq_total">0</td><td data-k="rps">-</td><td data-k="errors">-</td><td data-k="latency">-</td></tr>`)
    .join('\n');
  const endpointRows = Object.values(map.endpoints)
    .map(
      (e) =>
        `<tr data-endpoint="${escapeHtml(`${e.cluster} ${e.address}`)}"><td>${escapeHtml(e.cluster)}</td><td>${escapeHtml(e.address)}</td><td data-k="rq_total">0</td><td data-k="rq_error">0</td><td data-k="rps">-</td><td data-k="cx_active">0</td><td data-k="latency_mean">-</td><td data-k="latency_p50">-</td><td data-k="latency_p99">-</td><td data-k="health">-</td></tr>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>meshctl run — live topology</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
.graph { overflow: auto; border: 1px solid #ddd; padding: .5em .5em 1.5em; }
.graph svg { overflow: visible; }
svg text.live { font: 10px system-ui, sans-serif; fill: #1565c0; }
svg g.unhealthy polygon, svg g.unhealthy path { stroke: #c62828; stroke-width: 3; }
table { border-collapse: collapse; margin-top: 1em; }
td, th { padding: .2em .7em; border-bottom: 1px solid #eee; text-align: left; }
td[data-k] { text-align: right; font-variant-numeric: tabular-nums; }
#status { color: #666; }
</style>
</head>
<body>
<h1>Live topology</h1>
<p id="status">waiting for the first numbers…</p>
<div class="graph">
${svg}
</div>
<h2>Clusters</h2>
<table id="clusters"><tr><th>cluster</th><th>requests</th><th>rq/s</th><th>errors</th><th>mean latency (ms)</th></tr>
${clusterRows}
</table>
<h2>Endpoints</h2>
<table id="endpoints"><tr><th>cluster</th><th>endpoint</th><th>requests</th><th>errors</th><th>rq/s</th><th>connections</th><th>mean (ms)</th><th>p50 (ms)</th><th>p99 (ms)</th><th>health</th></tr>
${endpointRows}
</table>
<script type="application/json" id="topology-map">${json}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** /topology: the page. */
export const topologyPage: AdminPage = {
  path: '/topology',
  help: 'live topology: the config as a graph with request rates, errors, latency and health, updated every second',
  async render(p) {
    return { type: 'text/html; charset=UTF-8', body: await page(p.config()) };
  },
};

export const topologyDataPage: AdminPage = {
  path: '/topology/data',
  help: "the live topology page's numbers (JSON)",
  async render(p) {
    return { type: 'application/json', body: JSON.stringify(await topologyData(p)) + '\n' };
  },
};
