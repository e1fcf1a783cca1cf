/**
 * Telling an Envoy bootstrap from meshctl's own YAML/JSON shape before the file is read (the reader decodes elements
 * while it reads, so the choice is made up front, from the text). A top-level key that only meshctl's shape has
 * (`http_server`, `dns_query`, the dialect's `cluster` fragment, …) makes it meshctl's. Otherwise the file is Envoy's
 * when it names a `@type`, or when every top-level key is a Bootstrap field (by its proto or JSON name) and at least
 * one of them is not meshctl's as written (`layered_runtime`, `staticResources`, …). A file whose top-level keys are
 * all common to both (`static_resources`, `node`, `admin`, `dynamic_resources`) and names no `@type` is read in
 * meshctl's shape, as before.
 */
import { jsonName } from './json-name.js';

/** Whether the text names a type URL (`"@type":` / `@type:` as a key). */
export function hasTypeUrl(text: string): boolean {
  return /["']?@type["']?\s*:/.test(text);
}

/**
 * The keys of the top-level mapping: YAML block keys at column 0, or a JSON / flow object's first-level keys.
 * Undefined when the text is neither (a list, a scalar, nothing).
 */
export function topLevelKeys(text: string): string[] | undefined {
  let i = 0;
  // Skip blank lines, comments and a document marker.
  for (;;) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) i++;
    if (text[i] === '#' || text.startsWith('---', i)) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
      continue;
    }
    break;
  }
  if (i >= text.length) return undefined;
  return text[i] === '{' ? flowKeys(text, i) : blockKeys(text);
}

/** Keys at column 0 of a YAML block mapping: `key:`, `"key":`, `'key':`. */
function blockKeys(text: string): string[] {
  const keys: string[] = [];
  const take = (start: number): void => {
    const nl = text.indexOf('\n', start);
    const m = BLOCK_KEY.exec(text.slice(start, nl < 0 ? text.length : nl));
    if (m !== null) keys.push(m[1] ?? m[2]?.replace(/''/g, "'") ?? m[3]!);
  };
  if (text.length > 0 && !/[\s#.\-%]/.test(text[0]!)) take(0);
  // Lines that start with something other than indentation, a list item, a comment or a document marker: found by
  // the regex engine (a big config has hundreds of thousands of indented lines, and no key among them).
  const lineStart = /\n(?=[^\s#.\-%])/g;
  for (let m = lineStart.exec(text); m !== null; m = lineStart.exec(text)) take(m.index + 1);
  return keys;
}

const BLOCK_KEY = /^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^:#'"\s][^:#]*?))\s*:(?:\s|$)/;

/** First-level keys of a JSON object (or YAML flow mapping) starting at `from`. */
function flowKeys(text: string, from: number): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' && c === '"' ? 2 : 1;
      if (depth === 1 && expectKey) {
        keys.push(text.slice(i + 1, j));
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) break;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    } else if (depth === 1 && expectKey && /[A-Za-z_]/.test(c)) {
      // A plain flow key: `{ static_resources: … }`.
      const m = /^[A-Za-z_][\w.-]*/.exec(text.slice(i, i + 200));
      if (m !== null) {
        keys.push(m[0]);
        i += m[0].length - 1;
        expectKey = false;
      }
    }
  }
  return keys;
}

export type BootstrapShape =
  /** Every key is an Envoy Bootstrap field, at least one of them not meshctl's (as written). */
  | 'envoy'
  /** Every key is a field of both (`static_resources`, `node`, …). */
  | 'shared'
  /** Some key is one only meshctl's shape has. */
  | 'meshctl'
  /** Some key is neither's (a typo), or there is no mapping at all. */
  | 'other';

/** How the top-level keys relate to Envoy's Bootstrap fields and meshctl's (`meshctlKeys`: its Bootstrap fields and top-level fragments). */
export function bootstrapShape(keys: readonly string[] | undefined, envoyFields: readonly string[], meshctlKeys: ReadonlySet<string>): BootstrapShape {
  if (keys === undefined || keys.length === 0) return 'other';
  const envoy = new Set<string>();
  for (const f of envoyFields) envoy.add(f).add(jsonName(f));
  let envoyOnly = false;
  let unknown = false;
  for (const k of keys) {
    if (!envoy.has(k)) {
      if (meshctlKeys.has(k)) return 'meshctl';
      unknown = true;
    } else if (!meshctlKeys.has(k)) envoyOnly = true;
  }
  return unknown ? 'other' : envoyOnly ? 'envoy' : 'shared';
}
