/**
 * Prints a canonical tree as YAML. A tree with comments goes through the `yaml` package's Document API, so source
 * comments come out as YAML comments (before a key, or after a value on its line) and quoting is decided by the
 * library. A tree without comments (every generated or Envoy-bound config) is written directly: the same layout,
 * with conservative quoting (JSON-style double quotes for anything that is not obviously a plain string), several
 * times faster than the library's stringifier on large configs.
 */
import { Document, Pair, Scalar, YAMLMap, YAMLSeq, type Node as YamlNode } from 'yaml';
import type { Comments } from '../node-meta.js';
import { hasComments, type TMessage, type TNode, type TScalar } from './tree.js';

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
    if (f.tag !== undefined) key.tag = f.tag;
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
  if (!hasComments(root)) return printPlainYaml(root);
  const doc = new Document();
  const map = toMap(root);
  doc.contents = map;
  if (root.comments?.leading !== undefined && root.comments.leading.length > 0) doc.commentBefore = commentText(root.comments.leading);
  return doc.toString({ indent: 2, lineWidth: 0, indentSeq: true });
}

// Words a YAML 1.1 or 1.2 reader resolves to something other than a string.
const SPECIAL_WORDS = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?\.(?:inf|nan))$/i;
const PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
const IPV4ISH = /^\d+(?:\.\d+){2,}$/;

/** Whether a string can be written without quotes and still read back as that string. */
function plainSafe(s: string): boolean {
  if (!PLAIN.test(s) || SPECIAL_WORDS.test(s)) return false;
  if (/^[-+0-9._]+$/.test(s)) return IPV4ISH.test(s);
  if (!Number.isNaN(Number(s)) || /^[-+]?0[xob]/i.test(s) || /^\d{4}-\d\d?-\d\d?/.test(s)) return false;
  return true;
}

function plainScalar(n: TScalar): string {
  switch (n.type) {
    case 'null':
      return 'null';
    case 'bool':
      return n.value ? 'true' : 'false';
    case 'number': {
      const v = n.value as number;
      if (Number.isNaN(v)) return '.nan';
      if (v === Infinity) return '.inf';
      if (v === -Infinity) return '-.inf';
      return Object.is(v, -0) ? '-0' : String(v);
    }
    default: {
      const s = String(n.value);
      return plainSafe(s) ? s : JSON.stringify(s);
    }
  }
}

function keyText(k: string): string {
  return plainSafe(k) ? k : JSON.stringify(k);
}

class PlainYaml {
  readonly out: string[] = [];

  body(m: TMessage, indent: string): void {
    for (const f of m.fields) this.field(f.tag !== undefined ? `${f.tag} ${keyText(f.name)}` : keyText(f.name), f.value, indent);
  }

  field(key: string, v: TNode, indent: string): void {
    if (v.kind === 'scalar') this.out.push(`${indent}${key}: ${plainScalar(v)}`);
    else if (v.kind === 'message') {
      if (v.fields.length === 0) this.out.push(`${indent}${key}: {}`);
      else {
        this.out.push(`${indent}${key}:`);
        this.body(v, indent + '  ');
      }
    } else if (v.items.length === 0) this.out.push(`${indent}${key}: []`);
    else {
      this.out.push(`${indent}${key}:`);
      for (const item of v.items) this.item(item, indent + '  ');
    }
  }

  item(v: TNode, indent: string): void {
    if (v.kind === 'scalar') this.out.push(`${indent}- ${plainScalar(v)}`);
    else if (v.kind === 'message') {
      if (v.fields.length === 0) {
        this.out.push(`${indent}- {}`);
        return;
      }
      // the first field shares the `- ` line; the rest line up under it
      const start = this.out.length;
      this.body(v, indent + '  ');
      this.out[start] = `${indent}- ${this.out[start]!.slice(indent.length + 2)}`;
    } else if (v.items.length === 0) this.out.push(`${indent}- []`);
    else {
      this.out.push(`${indent}-`);
      for (const item of v.items) this.item(item, indent + '  ');
    }
  }
}

function printPlainYaml(root: TMessage): string {
  if (root.fields.length === 0) return '{}\n';
  const p = new PlainYaml();
  p.body(root, '');
  return p.out.join('\n') + '\n';
}
