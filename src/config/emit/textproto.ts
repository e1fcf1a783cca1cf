/**
 * Prints a canonical tree as text-proto in the article's readable style: two-space indent, `name: "x"`, nested
 * `field {`, repeated scalars as `[a, b]`, durations (`0.25s`) and enum names bare, comments as `#` lines.
 */
import type { Comments } from '../node-meta.js';
import type { TField, TList, TMessage, TNode, TScalar } from './tree.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A string literal with the escapes protobuf's text format defines. */
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f]/;

export function quoteTextproto(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\' + c.toString(8).padStart(3, '0');
    else out += ch;
  }
  return out + '"';
}

function numberTextproto(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return Object.is(n, -0) ? '-0' : String(n);
}

function scalarText(s: TScalar): string {
  switch (s.type) {
    case 'string':
      return quoteTextproto(String(s.value));
    case 'number':
      return numberTextproto(s.value as number);
    case 'bool':
      return s.value ? 'true' : 'false';
    case 'null':
      return 'null';
    default:
      // enum names and durations are bare tokens
      return String(s.value);
  }
}

/** A field name: an identifier as is; anything else (`@type`, keys of opaque JSON) quoted. */
function nameText(name: string): string {
  return IDENT.test(name) ? name : quoteTextproto(name);
}

function commentLine(text: string): string {
  return text === '' ? '#' : `# ${text}`;
}

class Printer {
  private readonly lines: string[] = [];

  leading(c: Comments | undefined, indent: string): void {
    for (const l of c?.leading ?? []) this.lines.push(indent + commentLine(l));
  }

  trailing(c: Comments | undefined): string {
    return c?.trailing !== undefined ? '  ' + commentLine(c.trailing) : '';
  }

  body(m: TMessage, indent: string): void {
    for (const f of m.fields) this.field(f, indent);
    for (const c of m.trailingComments ?? []) this.lines.push(indent + commentLine(c));
  }

  field(f: TField, indent: string): void {
    const name = nameText(f.name);
    const v = f.value;
    if (v.kind === 'list') {
      this.leading(f.comments, indent);
      if (v.opaque && v.items.some((i) => i.kind !== 'scalar')) {
        this.lines.push(`${indent}${name}: [`);
        this.listItems(v, indent + '  ');
        this.lines.push(`${indent}]${this.trailing(f.comments)}`);
        return;
      }
      if (v.items.length > 0 && v.items.every((i) => i.kind === 'message')) {
        v.items.forEach((item, idx) => {
          const m = item as TMessage;
          this.leading(m.comments, indent);
          this.block(name, m, indent, idx === 0 ? f.comments : undefined, m.comments);
        });
        return;
      }
      if (v.items.every((i) => i.kind === 'scalar')) {
        this.lines.push(`${indent}${name}: [${v.items.map((i) => scalarText(i as TScalar)).join(', ')}]${this.trailing(f.comments)}`);
        return;
      }
      this.lines.push(`${indent}${name}: ${this.inline(v)}${this.trailing(f.comments)}`);
      return;
    }
    this.leading(f.comments, indent);
    if (v.kind === 'message') {
      this.block(name, v, indent, f.comments, undefined);
      return;
    }
    this.lines.push(`${indent}${name}: ${scalarText(v)}${this.trailing(f.comments)}`);
  }

  private block(name: string, m: TMessage, indent: string, c1: Comments | undefined, c2: Comments | undefined): void {
    const tail = this.trailing(c1) || this.trailing(c2);
    if (m.fields.length === 0 && (m.trailingComments?.length ?? 0) === 0) {
      this.lines.push(`${indent}${name} {}${tail}`);
      return;
    }
    // a comment on a message field's line is read back from the line where the field ends: the closing brace
    this.lines.push(`${indent}${name} {`);
    this.body(m, indent + '  ');
    this.lines.push(`${indent}}${tail}`);
  }

  /** The elements of a verbatim JSON array, one per line, messages as `{ … }` blocks. */
  private listItems(list: TList, indent: string): void {
    list.items.forEach((item, i) => {
      const comma = i < list.items.length - 1 ? ',' : '';
      if (item.kind === 'scalar') this.lines.push(`${indent}${scalarText(item)}${comma}`);
      else if (item.kind === 'list') {
        this.lines.push(`${indent}[`);
        this.listItems(item, indent + '  ');
        this.lines.push(`${indent}]${comma}`);
      } else if (item.fields.length === 0) this.lines.push(`${indent}{}${comma}`);
      else {
        this.lines.push(`${indent}{`);
        this.body(item, indent + '  ');
        this.lines.push(`${indent}}${comma}`);
      }
    });
  }

  /** A value inside a `[...]` list that mixes messages and scalars (only opaque JSON does that): one line. */
  private inline(n: TNode): string {
    if (n.kind === 'scalar') return scalarText(n);
    if (n.kind === 'list') return `[${n.items.map((i) => this.inline(i)).join(', ')}]`;
    const parts = n.fields.map((f) =>
      f.value.kind === 'message' ? `${nameText(f.name)} ${this.inline(f.value)}` : `${nameText(f.name)}: ${this.inline(f.value)}`,
    );
    return parts.length === 0 ? '{}' : `{ ${parts.join(' ')} }`;
  }

  text(): string {
    return this.lines.length === 0 ? '' : this.lines.join('\n') + '\n';
  }
}

/** The whole tree as text-proto. */
export function printTextproto(root: TMessage): string {
  const p = new Printer();
  p.leading(root.comments, '');
  p.body(root, '');
  return p.text();
}
