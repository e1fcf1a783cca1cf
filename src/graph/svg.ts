/**
 * The graph laid out and drawn as SVG by Graphviz compiled to WebAssembly (@viz-js/viz), in-process: no system
 * binary. Loaded on first use only (its WebAssembly takes ~130 ms to instantiate), so no other command pays for it.
 */
import { renderDot } from './dot.js';
import type { MeshGraph } from './model.js';

export async function renderSvg(g: MeshGraph): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  const svg = viz.renderString(renderDot(g), { format: 'svg', engine: 'dot' });
  // The XML prolog and doctype are for a standalone file; inline in HTML they are not allowed, and an SVG file is
  // valid without them.
  return svg.slice(svg.indexOf('<svg'));
}
