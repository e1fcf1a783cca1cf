/** The words every renderer prints for an element, so dot, mermaid, SVG and HTML say the same thing. */
import { formatShare, type GraphEdge, type GraphNode, type GraphProblem, type NodeKind } from './model.js';

const KIND_WORD: Readonly<Record<NodeKind, string>> = {
  listener: 'listener',
  'virtual-host': 'virtual host',
  route: 'route',
  cluster: 'cluster',
  endpoint: 'endpoint',
  'missing-cluster': 'missing cluster',
};

/** The lines of a node's label: kind and name, its facts, then its problems' rule ids. */
export function nodeLines(n: GraphNode): string[] {
  return [`${KIND_WORD[n.kind]} ${n.name}`, ...n.details, ...n.problems.filter(shown).map(problemMark)];
}

/** The lines of an edge's label: share, what it carries, then its problems' rule ids. */
export function edgeLines(e: GraphEdge): string[] {
  const first = [e.note, e.share !== undefined && e.kind !== 'contains' ? formatShare(e.share) : undefined].filter((s): s is string => s !== undefined).join(' · ');
  return [...(first !== '' ? [first] : []), ...e.problems.filter(shown).map(problemMark)];
}

/** Hover text: everything the label says, and each problem in full with its line and column. */
export function hoverText(lines: readonly string[], problems: readonly GraphProblem[]): string {
  return [...lines.filter((l) => !l.startsWith('✖ ') && !l.startsWith('⚠ ')), ...problems.map((p) => `${p.severity} ${p.ruleId} (line ${p.line}:${p.column}): ${p.message}`)].join('\n');
}

/** Errors and warnings are drawn; notes (severity info) only appear in the hover text. */
function shown(p: GraphProblem): boolean {
  return p.severity !== 'info';
}

function problemMark(p: GraphProblem): string {
  return `${p.severity === 'error' ? '✖' : '⚠'} ${p.ruleId}`;
}

/** The worst drawn problem of an element, which decides its colour. */
export function worst(problems: readonly GraphProblem[]): 'error' | 'warning' | undefined {
  if (problems.some((p) => p.severity === 'error')) return 'error';
  if (problems.some((p) => p.severity === 'warning')) return 'warning';
  return undefined;
}

export const COLORS = {
  error: '#c62828',
  warning: '#e08a00',
  listener: '#dbeafe',
  'virtual-host': '#e0f2f1',
  route: '#ede7f6',
  cluster: '#fff3e0',
  endpoint: '#f1f8e9',
  'missing-cluster': '#ffebee',
} as const;
