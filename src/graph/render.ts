/** One graph, any output format: text formats are written by our code, svg and html laid out by Graphviz. */
import type { MeshGraph } from './model.js';

export type GraphFormat = 'svg' | 'html' | 'dot' | 'mermaid';

export async function renderGraph(g: MeshGraph, format: GraphFormat): Promise<string> {
  switch (format) {
    case 'dot':
      return (await import('./dot.js')).renderDot(g);
    case 'mermaid':
      return (await import('./mermaid.js')).renderMermaid(g);
    case 'svg':
      return (await import('./svg.js')).renderSvg(g);
    case 'html': {
      const [{ renderSvg }, { renderHtml }] = await Promise.all([import('./svg.js'), import('./html.js')]);
      return renderHtml(g, await renderSvg(g));
    }
  }
}
