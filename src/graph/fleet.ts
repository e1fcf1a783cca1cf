/**
 * `meshctl serve`'s fleet page on its admin server: /topology is the served config drawn as `meshctl graph` draws it,
 * and under it every connected xDS stream — node id, cluster, address, user agent — with, per resource type, the
 * version the node ACKed against the version being served, and the last NACK with the node's error_detail. A small
 * inline script polls the admin's own /status JSON (control-plane/status.ts) every second and rewrites the table;
 * when the served config changes (a new `loaded_at`), it fetches /topology/graph and swaps the drawing in, so an
 * edit shows without a reload. No external asset. `app/serve.ts` routes both paths here, so control-plane/ never
 * imports graph/.
 */
import type { Bootstrap } from '../config/model.js';
import { escapeHtml } from '../simulate/html.js';
import { buildGraph } from './model.js';

/** The drawn graph per served config object: Graphviz runs once per edit, not per request. */
const drawings = new WeakMap<Bootstrap, Promise<string>>();

/** The served config as SVG (what /topology/graph answers). */
export function fleetGraphSvg(config: Bootstrap, title: string): Promise<string> {
  let svg = drawings.get(config);
  if (svg === undefined) {
    svg = (async () => {
      const { renderSvg } = await import('./svg.js');
      return renderSvg(buildGraph(title, config, []));
    })();
    drawings.set(config, svg);
  }
  return svg;
}

/**
 * The page's script. Everything a node sends (its id, cluster, error_detail) goes into the page as text nodes,
 * never as markup.
 */
const SCRIPT = String.raw`
const TYPES = ['cds', 'eds', 'lds', 'rds'];
let loadedAt = document.body.getAttribute('data-loaded-at');
function cell(tr, text, attrs) {
  const td = document.createElement('td');
  td.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) td.setAttribute(k, v);
  tr.appendChild(td);
  return td;
}
/** A type's state on a stream, as the text page (serve --status) judges it: a NACK newer than the last ACK wins. */
function typeState(ts, served) {
  if (!ts) return { state: 'none', text: '-' };
  if (ts.nacked && ts.nacked.at >= ts.acked_at) return { state: 'nacked', text: 'NACK v' + ts.nacked.version + ' (has v' + (ts.acked_version || '-') + ')', detail: ts.nacked.error_detail };
  if (ts.acked_version === '') return { state: 'waiting', text: 'waiting (sent v' + (ts.sent_version || '-') + ')' };
  return ts.acked_version === served ? { state: 'current', text: 'v' + served } : { state: 'behind', text: 'v' + ts.acked_version + ' (serving v' + served + ')' };
}
async function redraw() {
  try {
    const r = await fetch('/topology/graph', { cache: 'no-store' });
    if (r.ok) document.getElementById('graph').innerHTML = await r.text();
  } catch (e) {}
}
async function tick() {
  let s;
  try {
    const r = await fetch('/status', { cache: 'no-store' });
    s = await r.json();
  } catch (e) {
    document.getElementById('status').textContent = 'admin server unreachable';
    return;
  }
  if (s.config.loaded_at !== loadedAt) {
    loadedAt = s.config.loaded_at;
    await redraw();
  }
  const served = {};
  for (const t of TYPES) served[t] = s.config.versions[t] ? s.config.versions[t].version : '';
  const v = document.getElementById('served');
  v.textContent = TYPES.map((t) => t + ' v' + (served[t] || '-') + ' (' + (s.config.versions[t] ? s.config.versions[t].resources : 0) + ')').join(' · ') + ' — loaded ' + s.config.loaded_at;
  const rej = document.getElementById('rejected');
  rej.textContent = s.config.rejected ? 'last edit REJECTED at ' + s.config.rejected.at + ' (' + s.config.rejected.errors + ' errors); still serving the versions above' : '';
  const body = document.getElementById('fleet-body');
  const rows = [];
  const nacks = [];
  for (const st of s.streams) {
    const tr = document.createElement('tr');
    tr.setAttribute('data-stream', String(st.stream));
    tr.setAttribute('data-node', st.node.id);
    cell(tr, st.node.id || '(no node yet)', { 'data-k': 'node' });
    cell(tr, st.node.cluster, { 'data-k': 'cluster' });
    cell(tr, st.peer, { 'data-k': 'address' });
    cell(tr, [st.node.user_agent_name, st.node.user_agent_version].filter((x) => x).join(' '), { 'data-k': 'agent' });
    cell(tr, st.kind, { 'data-k': 'kind' });
    cell(tr, st.connected_at, { 'data-k': 'since' });
    for (const t of TYPES) {
      const x = typeState(st.types[t], served[t]);
      const td = cell(tr, x.text, { 'data-type': t, 'data-state': x.state, 'data-acked': st.types[t] ? st.types[t].acked_version : '', 'class': x.state });
      if (x.detail !== undefined) {
        td.title = x.detail;
        nacks.push({ node: st.node.id, type: t, version: st.types[t].nacked.version, detail: x.detail, at: st.types[t].nacked.at });
      }
    }
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  const nb = document.getElementById('nacks-body');
  nb.replaceChildren(...nacks.map((n) => {
    const tr = document.createElement('tr');
    tr.setAttribute('data-node', n.node);
    tr.setAttribute('data-type', n.type);
    cell(tr, n.node);
    cell(tr, n.type);
    cell(tr, 'v' + n.version);
    cell(tr, n.at);
    cell(tr, n.detail, { 'data-k': 'error_detail' });
    return tr;
  }));
  document.getElementById('nacks').hidden = nacks.length === 0;
  document.getElementById('count').textContent = s.streams.length + ' stream' + (s.streams.length === 1 ? '' : 's') + ' on ' + s.address;
  document.getElementById('status').textContent = 'updated ' + new Date().toLocaleTimeString();
}
tick();
setInterval(tick, 1000);
`;

/** /topology: the page, drawn with the config being served now. */
export async function fleetPage(config: Bootstrap, file: string, loadedAt: string): Promise<string> {
  const title = `meshctl serve — ${file}`;
  const svg = await fleetGraphSvg(config, title);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
.graph { overflow: auto; border: 1px solid #ddd; padding: .5em; }
.graph svg { max-width: none; height: auto; }
table { border-collapse: collapse; margin-top: 1em; }
td, th { padding: .2em .7em; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.current { color: #2e7d32; }
td.behind, td.waiting { color: #ef6c00; }
td.nacked { color: #c62828; font-weight: bold; }
#rejected { color: #c62828; }
#status { color: #666; }
</style>
</head>
<body data-loaded-at="${escapeHtml(loadedAt)}">
<h1>Fleet of ${escapeHtml(file)}</h1>
<p id="status">waiting for the first status…</p>
<p>serving <span id="served"></span></p>
<p id="rejected"></p>
<h2 id="count">streams</h2>
<table id="fleet"><thead><tr><th>node</th><th>cluster</th><th>address</th><th>agent</th><th>stream</th><th>since</th><th>CDS</th><th>EDS</th><th>LDS</th><th>RDS</th></tr></thead>
<tbody id="fleet-body"></tbody></table>
<section id="nacks" hidden>
<h2>NACKs</h2>
<table><thead><tr><th>node</th><th>type</th><th>version</th><th>at</th><th>error_detail</th></tr></thead><tbody id="nacks-body"></tbody></table>
</section>
<h2>Served config</h2>
<div class="graph" id="graph">
${svg}
</div>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
