/**
 * The graph as one self-contained HTML page: the SVG inline (hover a node or edge for its details: Graphviz writes
 * them as xlink:title), a legend and the list of problems. No script, stylesheet, font or image is fetched.
 */
import type { MeshGraph } from './model.js';
import { escapeHtml } from '../simulate/html.js';


const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

export function renderHtml(g: MeshGraph, svg: string): string {
  const problems = [
    ...g.nodes.flatMap((n) => n.problems.map((p) => ({ where: `${n.kind} ${n.name}`, p }))),
    ...g.edges.flatMap((e) => {
      const to = g.nodes.find((n) => n.id === e.to);
      const from = g.nodes.find((n) => n.id === e.from);
      return e.problems.map((p) => ({ where: `${from?.kind ?? ''} ${from?.name ?? e.from} → ${to?.name ?? e.to}`, p }));
    }),
    ...g.unplaced.map((p) => ({ where: 'config', p })),
  ].sort((a, b) => a.p.line - b.p.line || a.p.column - b.p.column);
  const rows = problems
    .map(({ where, p }) => `<tr class="${p.severity}"><td>${p.line}:${p.column}</td><td>${p.severity}</td><td><code>${escapeHtml(p.ruleId)}</code></td><td>${escapeHtml(where)}</td><td>${escapeHtml(p.message)}</td></tr>`)
    .join('\n');
  const shares = g.edges.filter((e) => e.share !== undefined).length;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(g.title)} — meshctl graph</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
.summary span { margin-right: 1.5em; }
.graph { overflow: auto; border: 1px solid #ddd; padding: .5em; }
.graph svg { max-width: none; height: auto; }
.graph g.node:hover polygon, .graph g.node:hover path { stroke-width: 3; }
.graph g.edge:hover path { stroke-width: 3; }
table { border-collapse: collapse; margin-top: 1em; }
td, th { padding: .2em .6em; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
tr.error td:nth-child(2) { color: #c62828; font-weight: bold; }
tr.warning td:nth-child(2) { color: #e08a00; font-weight: bold; }
</style>
</head>
<body>
<h1>${escapeHtml(g.title)}</h1>
<p class="summary">${[
    count(g.nodes.filter((n) => n.kind === 'listener').length, 'listener'),
    count(g.nodes.filter((n) => n.kind === 'route').length, 'route'),
    count(g.nodes.filter((n) => n.kind === 'cluster').length, 'cluster'),
    count(g.nodes.filter((n) => n.kind === 'endpoint').length, 'endpoint'),
    count(g.errors, 'error'),
    count(g.warnings, 'warning'),
  ]
    .map((s) => `<span>${s}</span>`)
    .join('')}</p>
<p>Edge labels are each edge's expected share of its source's traffic (${shares} edges; route → cluster from weights, cluster → endpoint from the balancer, as <code>meshctl simulate</code> computes them). Hover a box or an edge for its details.</p>
<div class="graph">
${svg}
</div>
${problems.length > 0 ? `<h2>Problems</h2>\n<table>\n<tr><th>line</th><th>severity</th><th>rule</th><th>element</th><th>message</th></tr>\n${rows}\n</table>` : '<p>No problems.</p>'}
</body>
</html>
`;
}
