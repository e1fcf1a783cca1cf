/** Small helpers shared by the text-proto tests: parse a string, walk the tree, show spans and diagnostics. */
import assert from 'node:assert/strict';
import { SourceFile, type Span } from '../../src/config/source.js';
import type { Diagnostic } from '../../src/config/diagnostic.js';
import type { SField, SMessage, SScalar, SyntaxNode } from '../../src/config/syntax.js';
import { parseTextproto, type TextprotoParseResult } from '../../src/config/textproto/parser.js';

export const FILE = 'test.textproto';

export function parse(text: string, partial = false): TextprotoParseResult {
  return parseTextproto(new SourceFile(FILE, text), { partial });
}

/** Parses text that must be free of diagnostics and returns the tree. */
export function parseOk(text: string): SMessage {
  const r = parse(text);
  assert.deepEqual(r.diagnostics.map(diagLine), []);
  assert.ok(r.tree !== undefined);
  return r.tree;
}

/** `line:column-endLine:endColumn` */
export function at(span: Span): string {
  return `${span.line}:${span.column}-${span.endLine}:${span.endColumn}`;
}

/** `line:column-endLine:endColumn ruleId message` */
export function diagLine(d: Diagnostic): string {
  return `${at(d.span)} ${d.ruleId} ${d.message}`;
}

/** The `index`-th field called `name` of a message node. */
export function fieldOf(node: SyntaxNode | undefined, name: string, index = 0): SField {
  assert.ok(node !== undefined && node.kind === 'message', `expected a message holding \`${name}\``);
  const found = node.fields.filter((f) => f.name === name);
  assert.ok(found.length > index, `no field \`${name}\` #${index} (fields: ${node.fields.map((f) => f.name).join(', ')})`);
  return found[index]!;
}

/** Follows a path of field names (`name` or `name#index`) from a message. */
export function path(node: SyntaxNode | undefined, ...names: string[]): SField {
  let cur = node;
  let f: SField | undefined;
  for (const n of names) {
    const [name, idx] = n.split('#');
    f = fieldOf(cur, name!, idx === undefined ? 0 : Number(idx));
    cur = f.value;
  }
  assert.ok(f !== undefined);
  return f;
}

export function scalar(node: SyntaxNode): SScalar {
  assert.equal(node.kind, 'scalar');
  return node as SScalar;
}

/** The value of the single field of a one-field document, as a scalar. */
export function onlyScalar(text: string): SScalar {
  const tree = parseOk(text);
  assert.equal(tree.fields.length, 1);
  return scalar(tree.fields[0]!.value);
}
