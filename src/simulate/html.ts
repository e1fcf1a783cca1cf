/**
 * `meshctl simulate --format html`: the report as one self-contained page — per route and cluster a bar chart of
 * each endpoint's observed share against the share the balancer was expected to give, and with `--at` the split over
 * time (one step line per endpoint, observed solid and expected dashed, the timeline's events marked). The charts are
 * SVG drawn here: no chart library, no script, nothing fetched.
 */
import { pct } from './render.js';
import type { ClusterReport, RouteReport, SimReport } from './report-types.js';

/** Text for HTML (and inline SVG) element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Endpoint colours, cycled (distinguishable for the common kinds of colour blindness). */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const colorOf = (i: number): string => PALETTE[i % PALETTE.length]!;

/** Geometry of the share chart: a label column, then bars over [0, 100%]. */
const LABEL_W = 230;
const BAR_W = 420;
const ROW_H = 34;
const TEXT_W = 230;

/** Numbers in SVG attributes: two decimals are plenty and keep the file small. */
const n2 = (x: number): string => String(Math.round(x * 100) / 100);

function shareChart(c: ClusterReport): string {
  const h = 24 + c.endpoints.length * ROW_H;
  const w = LABEL_W + BAR_W + TEXT_W;
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const x = LABEL_W + f * BAR_W;
      return `<line x1="${n2(x)}" y1="16" x2="${n2(x)}" y2="${h}" stroke="#ddd"/><text x="${n2(x)}" y="11" font-size="10" text-anchor="middle" fill="#666">${f * 100}%</text>`;
    })
    .join('');
  const rows = c.endpoints
    .map((e, i) => {
      const y = 20 + i * ROW_H;
      const tip = `${e.address}: observed ${pct(e.share)} (${e.count} requests), expected ${pct(e.expectedShare)}, weight ${e.weight}, priority ${e.priority}, ${e.health}`;
      return (
        `<g class="endpoint" data-endpoint="${escapeHtml(e.address)}"><title>${escapeHtml(tip)}</title>` +
        `<text x="${LABEL_W - 8}" y="${y + 12}" font-size="12" text-anchor="end">${escapeHtml(e.address)}</text>` +
        `<text x="${LABEL_W - 8}" y="${y + 25}" font-size="10" text-anchor="end" fill="#666">weight ${e.weight} · priority ${e.priority} · ${escapeHtml(e.health)}</text>` +
        `<rect class="expected" x="${LABEL_W}" y="${y + 2}" width="${n2(e.expectedShare * BAR_W)}" height="10" fill="#eee" stroke="#888" stroke-dasharray="3 2" data-share="${e.expectedShare}"/>` +
        `<rect class="observed" x="${LABEL_W}" y="${y + 14}" width="${n2(e.share * BAR_W)}" height="12" fill="${colorOf(i)}" data-share="${e.share}"/>` +
        `<text x="${LABEL_W + BAR_W + 8}" y="${y + 12}" font-size="11" fill="#666">expected ${pct(e.expectedShare)}</text>` +
        `<text x="${LABEL_W + BAR_W + 8}" y="${y + 25}" font-size="11">observed ${pct(e.share)} (${e.count})</text></g>`
      );
    })
    .join('');
  return `<svg class="shares" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="system-ui, sans-serif">${grid}${rows}</svg>`;
}

/** Geometry of the over-time chart. */
const T_LEFT = 48;
const T_W = 640;
const T_H = 200;
const T_TOP = 16;

function timeChart(c: ClusterReport, report: SimReport): string {
  const phases = c.phases ?? [];
  const end = Math.max(report.virtualDurationMs, ...phases.map((p) => p.toMs ?? 0), 1);
  const x = (ms: number): number => T_LEFT + (Math.min(ms, end) / end) * T_W;
  const y = (share: number): number => T_TOP + (1 - share) * T_H;
  const axis =
    [0, 0.5, 1].map((f) => `<line x1="${T_LEFT}" y1="${n2(y(f))}" x2="${T_LEFT + T_W}" y2="${n2(y(f))}" stroke="#ddd"/><text x="${T_LEFT - 6}" y="${n2(y(f) + 4)}" font-size="10" text-anchor="end" fill="#666">${f * 100}%</text>`).join('') +
    `<text x="${T_LEFT}" y="${T_TOP + T_H + 16}" font-size="10" fill="#666">0 s</text><text x="${T_LEFT + T_W}" y="${T_TOP + T_H + 16}" font-size="10" text-anchor="end" fill="#666">${n2(end / 1000)} s</text>`;
  const events = report.timeline
    .map((e) => {
      const ex = n2(x(e.atMs));
      const label = `${n2(e.atMs / 1000)}s ${e.action} ${e.address}`;
      return `<g class="event"><title>${escapeHtml(label)}</title><line x1="${ex}" y1="${T_TOP}" x2="${ex}" y2="${T_TOP + T_H}" stroke="#c62828" stroke-dasharray="4 3"/><text x="${ex}" y="${T_TOP + T_H + 28}" font-size="10" text-anchor="middle" fill="#c62828">${escapeHtml(label)}</text></g>`;
    })
    .join('');
  const lines = c.endpoints
    .map((e, i) => {
      const steps = (pick: (p: (typeof phases)[number]) => number): string =>
        phases.map((p) => `M${n2(x(p.fromMs))},${n2(y(pick(p)))}H${n2(x(p.toMs ?? end))}`).join('');
      const observed = steps((p) => p.endpoints[i]?.share ?? 0);
      const expected = steps((p) => p.endpoints[i]?.expectedShare ?? 0);
      const values = phases.map((p) => `${n2(p.fromMs / 1000)}–${p.toMs === null ? 'end' : `${n2(p.toMs / 1000)}s`}: observed ${pct(p.endpoints[i]?.share ?? 0)}, expected ${pct(p.endpoints[i]?.expectedShare ?? 0)}`);
      return (
        `<g class="series" data-endpoint="${escapeHtml(e.address)}"><title>${escapeHtml(`${e.address}\n${values.join('\n')}`)}</title>` +
        `<path class="expected" d="${expected}" stroke="${colorOf(i)}" stroke-width="2" stroke-dasharray="5 4" fill="none" opacity="0.7"/>` +
        `<path class="observed" d="${observed}" stroke="${colorOf(i)}" stroke-width="3" fill="none"/></g>`
      );
    })
    .join('');
  const legend = c.endpoints
    .map((e, i) => `<span class="key"><span class="swatch" style="background:${colorOf(i)}"></span>${escapeHtml(e.address)}</span>`)
    .join('');
  const h = T_TOP + T_H + 36;
  return `<svg class="over-time" xmlns="http://www.w3.org/2000/svg" width="${T_LEFT + T_W + 20}" height="${h}" viewBox="0 0 ${T_LEFT + T_W + 20} ${h}" font-family="system-ui, sans-serif">${axis}${events}${lines}</svg><p class="legend">${legend} <span class="note">solid: observed, dashed: expected</span></p>`;
}

function clusterSection(c: ClusterReport, route: RouteReport, report: SimReport): string {
  const facts = [
    `${c.requests} requests (${pct(c.share)} of the route${c.expectedShare !== undefined ? `, expected ${pct(c.expectedShare)}` : ''})`,
    c.policy ?? '',
    c.pValue !== undefined ? `χ² p = ${c.pValue < 0.001 ? c.pValue.toExponential(1) : c.pValue.toFixed(3)}` : (c.chiSquareNote ?? ''),
    c.noHost > 0 ? `${c.noHost} without a healthy host (503)` : '',
    c.panicPicks > 0 ? `${c.panicPicks} picks in panic mode` : '',
  ].filter((s) => s !== '');
  const overTime = c.phases !== undefined && c.phases.length > 0 ? `<h4>Over time</h4>\n${timeChart(c, report)}` : '';
  return `<section class="cluster" data-route="${escapeHtml(route.id)}" data-cluster="${escapeHtml(c.name)}">
<h3>cluster ${escapeHtml(c.name)}</h3>
<p class="facts">${facts.map(escapeHtml).join(' · ')}</p>
${c.endpoints.length > 0 ? shareChart(c) : '<p>No endpoint was picked.</p>'}
${overTime}
</section>`;
}

function routeSection(r: RouteReport, report: SimReport): string {
  const other = [
    r.directResponses > 0 ? `${r.directResponses} direct responses (${r.directResponseStatus ?? ''})` : '',
    r.redirects > 0 ? `${r.redirects} redirects` : '',
    r.noCluster > 0 ? `${r.noCluster} without a cluster` : '',
    r.clusterNotFound > 0 ? `${r.clusterNotFound} to a missing cluster (${r.clusterNotFoundStatus})` : '',
  ].filter((s) => s !== '');
  return `<section class="route" data-route="${escapeHtml(r.id)}">
<h2>route ${escapeHtml(r.id)} <small>${escapeHtml(r.match)} · ${r.requests} requests</small></h2>
${other.length > 0 ? `<p>${other.map(escapeHtml).join(' · ')}</p>` : ''}
${r.clusters.map((c) => clusterSection(c, r, report)).join('\n')}
</section>`;
}

export function renderHtml(report: SimReport): string {
  const title = `meshctl simulate${report.config !== null ? ` — ${report.config}` : ''}`;
  const timeline = report.timeline.length > 0 ? `<p>Timeline: ${report.timeline.map((e) => escapeHtml(`${n2(e.atMs / 1000)}s ${e.action} ${e.address}`)).join(' · ')}</p>` : '';
  const listeners = report.listeners
    .map(
      (l) => `<section class="listener" data-listener="${escapeHtml(l.name)}">
<h1>listener ${escapeHtml(l.name)} <small>${l.requests} requests${l.notFound > 0 ? `, ${l.notFound} matched no route (404)` : ''}</small></h1>
${l.routes.map((r) => routeSection(r, report)).join('\n')}
</section>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; } h3 { font-size: 1em; margin-bottom: .2em; }
small { color: #666; font-weight: normal; }
.facts { color: #444; margin-top: 0; }
.legend .key { margin-right: 1.2em; } .legend .note { color: #666; }
.swatch { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -.1em; }
g.endpoint:hover rect.observed, g.series:hover path { opacity: .75; }
</style>
</head>
<body>
<p class="summary">${escapeHtml(title)} · seed ${escapeHtml(String(report.seed))} · ${report.requests} requests at ${report.rps}/s (${n2(report.virtualDurationMs / 1000)} s virtual)</p>
${timeline}
${listeners}
</body>
</html>
`;
}
