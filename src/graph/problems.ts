/**
 * Places the validator's diagnostics on the graph: each goes to the innermost element whose source span holds it —
 * an edge's field first (a route's cluster name: `route-unknown-cluster` lands on the dangling edge), else the
 * innermost node (an endpoint before its cluster, a route before its virtual host and listener).
 */
import type { Diagnostic } from '../config/diagnostic.js';
import type { Span } from '../config/source.js';
import type { GraphEdge, GraphNode, GraphProblem } from './model.js';

/** Whether `outer` holds `inner` (same file, start not after, end not before). */
function holds(outer: Span, inner: Span): boolean {
  if (outer.file !== inner.file) return false;
  const startsBefore = outer.line < inner.line || (outer.line === inner.line && outer.column <= inner.column);
  const endsAfter = outer.endLine > inner.endLine || (outer.endLine === inner.endLine && outer.endColumn >= inner.endColumn);
  return startsBefore && endsAfter;
}

function innermost<T extends { readonly span: Span | undefined }>(items: readonly T[], at: Span): T | undefined {
  let best: T | undefined;
  for (const it of items) {
    if (it.span === undefined || !holds(it.span, at)) continue;
    if (best === undefined || holds(best.span!, it.span)) best = it;
  }
  return best;
}

/** Attaches each diagnostic to its element; returns those no element holds. */
export function placeProblems(diagnostics: readonly Diagnostic[], nodes: readonly GraphNode[], edges: readonly GraphEdge[]): GraphProblem[] {
  const unplaced: GraphProblem[] = [];
  for (const d of diagnostics) {
    const p: GraphProblem = { ruleId: d.ruleId, severity: d.severity, message: d.message, line: d.span.line, column: d.span.column };
    const target = innermost(edges, d.span) ?? innermost(nodes, d.span);
    (target?.problems ?? unplaced).push(p);
  }
  return unplaced;
}
