/**
 * Prints a canonical tree as JSON (two-space indent). JSON has no comments, so they are not written; non-finite
 * numbers use proto3 JSON's strings ("NaN", "Infinity", "-Infinity").
 */
import type { JsonValue } from '../json-value.js';
import { ORIGIN, type WithOrigin } from './origin.js';
import type { TNode } from './tree.js';

export function treeToJson(n: TNode): JsonValue {
  if (n.kind === 'list') return n.items.map(treeToJson);
  if (n.kind === 'message') {
    const o: { [k: string]: JsonValue } & WithOrigin = {};
    for (const f of n.fields) o[f.name] = treeToJson(f.value);
    if (n.origin !== undefined) o[ORIGIN] = n.origin;
    return o;
  }
  if (n.type === 'number') {
    const v = n.value as number;
    if (Number.isNaN(v)) return 'NaN';
    if (v === Infinity) return 'Infinity';
    if (v === -Infinity) return '-Infinity';
    if (Object.is(v, -0)) return NEGATIVE_ZERO;
    return v;
  }
  return n.value;
}

/** JSON.stringify writes -0 as 0; a placeholder string is swapped for the literal afterwards. */
const NEGATIVE_ZERO = '\u0000meshctl:-0';

export function printJson(n: TNode): string {
  const text = JSON.stringify(treeToJson(n), null, 2) + '\n';
  return text.includes('\\u0000meshctl:-0') ? text.replaceAll('"\\u0000meshctl:-0"', '-0') : text;
}
