/** Collects the dialect notes of a parsed model (see src/config/normalize.ts), for validate's dialect warnings. */
import { type DialectNote, META, type ModelNode } from './node-meta.js';

export interface LocatedNote {
  readonly note: DialectNote;
  /** The node the rewrite produced. */
  readonly node: ModelNode;
  /** Where it sits in the model, e.g. `static_resources.clusters[0]`. */
  readonly path: string;
}

/** Every dialect note in the model, in document order. */
export function dialectNotes(root: ModelNode): LocatedNote[] {
  const out: LocatedNote[] = [];
  const walk = (node: ModelNode, path: string): void => {
    for (const note of node[META]?.dialect ?? []) out.push({ note, node, path });
    for (const [key, value] of Object.entries(node)) {
      if (key === 'unmodeled' || value === null || typeof value !== 'object') continue;
      if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (item !== null && typeof item === 'object' && META in item) walk(item as ModelNode, `${path}${path ? '.' : ''}${key}[${i}]`);
        });
      } else if (META in value) {
        walk(value as ModelNode, `${path}${path ? '.' : ''}${key}`);
      }
    }
  };
  walk(root, '');
  return out.sort((a, b) => a.note.span.line - b.note.span.line || a.note.span.column - b.note.span.column);
}
