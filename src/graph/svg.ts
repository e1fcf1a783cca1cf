/**
 * The graph laid out and drawn as SVG by Graphviz compiled to WebAssembly (@viz-js/viz), in-process: no system
 * binary. Loaded on first use only (its WebAssembly takes ~130 ms to instantiate), so no other command pays for it.
 */
import { renderDot } from './dot.js';
import type { MeshGraph } from './model.js';

/** Room around the boxes, in inches (Graphviz's nodesep and ranksep), for a page that writes numbers beside them. */
export interface SvgSpacing {
  readonly nodesep: number;
  readonly ranksep: number;
}

export async function renderSvg(g: MeshGraph, spacing?: SvgSpacing): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  let dot = renderDot(g);
  if (spacing !== undefined) dot = dot.replace('\n', `\n  graph [nodesep=${spacing.nodesep}, ranksep=${spacing.ranksep}];\n`);
  const svg = viz.renderString(dot, { format: 'svg', engine: 'dot' });
  // The XML prolog and doctype are for a standalone file; inline in HTML they are not allowed, and an SVG file is
  // valid without them.
  return svg.slice(svg.indexOf('<svg'));
}
