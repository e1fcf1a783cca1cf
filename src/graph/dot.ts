/** The graph in Graphviz's DOT language (also the input of the SVG layout, ./svg.ts). */
import { COLORS, edgeLines, hoverText, nodeLines, worst } from './labels.js';
import type { GraphEdge, GraphNode, MeshGraph } from './model.js';

/**
 * A DOT quoted string. Inside one, `"` must be escaped, and a backslash starts an escape of Graphviz's own (`\n`,
 * `\l`, `\N` …; https://graphviz.org/docs/attr-types/escString/), so a literal one is doubled. Lines are joined with
 * `\n`; a line break inside a value becomes a space.
 */
export function dotString(lines: readonly string[]): string {
  return `"${lines.map((l) => l.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, ' ')).join('\\n')}"`;
}

function nodeStatement(n: GraphNode): string {
  const bad = worst(n.problems);
  const attrs = [`label=${dotString(nodeLines(n))}`, `tooltip=${dotString(hoverText(nodeLines(n), n.problems).split('\n'))}`, `fillcolor="${COLORS[n.kind]}"`];
  if (n.kind === 'missing-cluster') attrs.push('style="dashed,filled"', `color="${COLORS.error}"`, `fontcolor="${COLORS.error}"`);
  else if (bad !== undefined) attrs.push(`color="${COLORS[bad]}"`, 'penwidth=2');
  return `  ${n.id} [${attrs.join(', ')}];`;
}

function edgeStatement(e: GraphEdge, nodes: ReadonlyMap<string, GraphNode>): string {
  const attrs: string[] = [];
  const lines = edgeLines(e);
  if (lines.length > 0) attrs.push(`label=${dotString(lines)}`, `tooltip=${dotString(hoverText(lines, e.problems).split('\n'))}`);
  if (e.kind === 'mirror') attrs.push('style=dashed');
  const bad = worst(e.problems) ?? (nodes.get(e.to)?.kind === 'missing-cluster' ? 'error' : undefined);
  if (bad !== undefined) attrs.push(`color="${COLORS[bad]}"`, `fontcolor="${COLORS[bad]}"`, 'penwidth=2');
  return `  ${e.from} -> ${e.to}${attrs.length > 0 ? ` [${attrs.join(', ')}]` : ''};`;
}

export function renderDot(g: MeshGraph): string {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const out = [
    'digraph mesh {',
    `  graph [rankdir=LR, fontname="Helvetica", fontsize=12, labelloc=t, label=${dotString([g.title, ...g.unplaced.map((p) => `${p.severity} ${p.ruleId} (line ${p.line}:${p.column}): ${p.message}`)])}];`,
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
    ...g.nodes.map(nodeStatement),
    ...g.edges.map((e) => edgeStatement(e, byId)),
    '}',
  ];
  return out.join('\n') + '\n';
}
