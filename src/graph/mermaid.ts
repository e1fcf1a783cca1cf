/** The graph as a Mermaid flowchart (renders in GitHub markdown and most wikis). */
import { COLORS, edgeLines, nodeLines, worst } from './labels.js';
import type { MeshGraph } from './model.js';

/**
 * Text for a quoted Mermaid label. Mermaid reads `#name;` and `#123;` as entity codes
 * (https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters), so `#` itself is written as one
 * first, then the characters that would end the string or start markup; lines are joined with `<br/>`.
 */
export function mermaidText(lines: readonly string[]): string {
  const esc = (s: string): string =>
    s
      .replace(/#/g, '#35;')
      .replace(/"/g, '#quot;')
      .replace(/&/g, '#amp;')
      .replace(/</g, '#lt;')
      .replace(/>/g, '#gt;')
      .replace(/`/g, '#96;')
      .replace(/\r?\n/g, ' ');
  return `"${lines.map(esc).join('<br/>')}"`;
}

export function renderMermaid(g: MeshGraph): string {
  const out = ['---', `title: ${mermaidText([g.title])}`, '---', 'flowchart LR'];
  for (const n of g.nodes) out.push(`  ${n.id}[${mermaidText(nodeLines(n))}]`);
  const red: number[] = [];
  const orange: number[] = [];
  const kinds = new Map(g.nodes.map((n) => [n.id, n.kind]));
  g.edges.forEach((e, i) => {
    const lines = edgeLines(e);
    const arrow = e.kind === 'mirror' ? '-.->' : '-->';
    out.push(`  ${e.from} ${arrow}${lines.length > 0 ? `|${mermaidText(lines)}|` : ''} ${e.to}`);
    const bad = worst(e.problems) ?? (kinds.get(e.to) === 'missing-cluster' ? 'error' : undefined);
    if (bad === 'error') red.push(i);
    else if (bad === 'warning') orange.push(i);
  });
  for (const kind of ['listener', 'virtual-host', 'route', 'cluster', 'endpoint'] as const) {
    const ids = g.nodes.filter((n) => n.kind === kind).map((n) => n.id);
    if (ids.length > 0) out.push(`  classDef ${kind.replace('-', '_')} fill:${COLORS[kind]}`, `  class ${ids.join(',')} ${kind.replace('-', '_')}`);
  }
  const errorNodes = g.nodes.filter((n) => n.kind === 'missing-cluster' || worst(n.problems) === 'error').map((n) => n.id);
  const warningNodes = g.nodes.filter((n) => n.kind !== 'missing-cluster' && worst(n.problems) === 'warning').map((n) => n.id);
  if (errorNodes.length > 0) out.push(`  classDef error stroke:${COLORS.error},stroke-width:2px,color:${COLORS.error}`, `  class ${errorNodes.join(',')} error`);
  if (warningNodes.length > 0) out.push(`  classDef warning stroke:${COLORS.warning},stroke-width:2px`, `  class ${warningNodes.join(',')} warning`);
  if (red.length > 0) out.push(`  linkStyle ${red.join(',')} stroke:${COLORS.error},stroke-width:2px,color:${COLORS.error}`);
  if (orange.length > 0) out.push(`  linkStyle ${orange.join(',')} stroke:${COLORS.warning},stroke-width:2px`);
  return out.join('\n') + '\n';
}
