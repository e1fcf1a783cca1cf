/**
 * Prints a canonical tree as YAML through the `yaml` package's Document API, so source comments come out as YAML
 * comments (before a key, or after a scalar on its line) and quoting is decided by the library.
 */
import { Document, Pair, Scalar, YAMLMap, YAMLSeq, type Node as YamlNode } from 'yaml';
import type { Comments } from '../model-base.js';
import type { TMessage, TNode } from './tree.js';

function commentText(lines: readonly string[]): string {
  // the library writes `#` + text; readers strip the marker and one space, so add that space back
  return lines.map((l) => (l === '' ? '' : ' ' + l)).join('\n');
}

function scalar(n: TNode & { kind: 'scalar' }): Scalar {
  const s = new Scalar(n.value);
  if (n.type === 'string' || n.type === 'enum' || n.type === 'duration') s.value = String(n.value);
  return s;
}

function setBefore(node: YamlNode, c: Comments | undefined): void {
  if (c?.leading !== undefined && c.leading.length > 0) node.commentBefore = commentText(c.leading);
}

function toNode(n: TNode): YamlNode {
  if (n.kind === 'scalar') return scalar(n);
  if (n.kind === 'list') {
    const seq = new YAMLSeq();
    for (const item of n.items) {
      const y = toNode(item);
      if (item.kind === 'message') {
        // a comment between `- ` and the first key would be lost; it goes above the `- ` line with the item's own
        const first = (y as YAMLMap).items[0]?.key as Scalar | undefined;
        const lines = [...(item.comments?.leading ?? [])];
        if (first?.commentBefore) {
          lines.push(...first.commentBefore.split('\n').map((l) => l.replace(/^ /, '')));
          first.commentBefore = undefined;
        }
        setBefore(y, { leading: lines });
      }
      seq.items.push(y);
    }
    return seq;
  }
  return toMap(n);
}

function toMap(m: TMessage): YAMLMap {
  const map = new YAMLMap();
  for (const f of m.fields) {
    const key = new Scalar(f.name);
    setBefore(key, f.comments);
    const value = toNode(f.value);
    // a repeated message field's line comment travels with its first element (text-proto's first `field {`)
    const first = f.value.kind === 'list' ? f.value.items[0] : undefined;
    const trailing = f.comments?.trailing ?? (first?.kind === 'message' ? first.comments?.trailing : undefined);
    if (trailing !== undefined) {
      // `key: value # c` for a scalar; `key: # c` above a block mapping or sequence
      if (value instanceof Scalar) value.comment = commentText([trailing]);
      else key.comment = commentText([trailing]);
    }
    map.items.push(new Pair(key, value));
  }
  if (m.trailingComments !== undefined && m.trailingComments.length > 0) map.comment = commentText(m.trailingComments);
  return map;
}

/** The whole tree as one YAML document. */
export function printYaml(root: TMessage): string {
  const doc = new Document();
  const map = toMap(root);
  doc.contents = map;
  if (root.comments?.leading !== undefined && root.comments.leading.length > 0) doc.commentBefore = commentText(root.comments.leading);
  return doc.toString({ indent: 2, lineWidth: 0, indentSeq: true });
}
