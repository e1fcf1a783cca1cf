/**
 * Envoy's string, header and query-parameter matchers (type.matcher.v3.StringMatcher, route.v3.HeaderMatcher and
 * QueryParameterMatcher in Envoy's API reference), compiled once into closures. A request is
 * seen through a header lookup function so the proxy can pass its own header object without copying it.
 */
import type { HeaderMatcher, QueryParameterMatcher, StringMatcher } from '../config/model.js';
import { compileRe2 } from '../regex/re2.js';

/** A request header by lower-case name (several values joined with ","), or undefined when absent. */
export type HeaderLookup = (name: string) => string | undefined;

type ValueMatcher = (value: string) => boolean;

/** Problems found while compiling (bad regexes); the matcher that had one never matches. */
export interface CompileProblem {
  readonly message: string;
  readonly node: object;
  readonly field: string;
}

/** type.matcher.v3.StringMatcher as a predicate (also read by the proxy's RBAC and CORS filters). */
export function compileStringMatcher(m: StringMatcher, problems: CompileProblem[]): ValueMatcher {
  const ic = m.ignore_case === true;
  if (m.exact !== undefined) {
    const want = ic ? m.exact.toLowerCase() : m.exact;
    return ic ? (v) => v.toLowerCase() === want : (v) => v === want;
  }
  if (m.prefix !== undefined) {
    const want = ic ? m.prefix.toLowerCase() : m.prefix;
    return ic ? (v) => v.toLowerCase().startsWith(want) : (v) => v.startsWith(want);
  }
  if (m.suffix !== undefined) {
    const want = ic ? m.suffix.toLowerCase() : m.suffix;
    return ic ? (v) => v.toLowerCase().endsWith(want) : (v) => v.endsWith(want);
  }
  if (m.contains !== undefined) {
    const want = ic ? m.contains.toLowerCase() : m.contains;
    return ic ? (v) => v.toLowerCase().includes(want) : (v) => v.includes(want);
  }
  if (m.safe_regex?.regex !== undefined) return compileRegexMatcher(m.safe_regex.regex, m.safe_regex, problems);
  problems.push({ message: 'string matcher has no exact, prefix, suffix, contains or safe_regex', node: m, field: 'exact' });
  return () => false;
}

/** An RE2 pattern (safe_regex) matching the whole value; one that RE2 would refuse is a problem and never matches. */
export function compileRegexMatcher(pattern: string, node: object, problems: CompileProblem[]): ValueMatcher {
  const r = compileRe2(pattern);
  if (!r.ok) {
    problems.push({ message: `invalid regex ${JSON.stringify(pattern)}: ${r.error.message}`, node, field: 'regex' });
    return () => false;
  }
  const re = r.regex;
  return (v) => re.test(v);
}

export interface CompiledHeaderMatcher {
  /** Lower-case header name (pseudo-headers keep their colon). */
  readonly name: string;
  readonly test: (value: string | undefined) => boolean;
}

export function compileHeaderMatcher(h: HeaderMatcher, problems: CompileProblem[]): CompiledHeaderMatcher {
  const name = (h.name ?? '').toLowerCase();
  const invert = h.invert_match === true;
  const missingAsEmpty = h.treat_missing_header_as_empty === true;
  let presentOnly: boolean | undefined;
  let match: ValueMatcher | undefined;
  if (h.string_match) match = compileStringMatcher(h.string_match, problems);
  else if (h.exact_match !== undefined) match = compileStringMatcher({ exact: h.exact_match }, problems);
  else if (h.prefix_match !== undefined) match = compileStringMatcher({ prefix: h.prefix_match }, problems);
  else if (h.suffix_match !== undefined) match = compileStringMatcher({ suffix: h.suffix_match }, problems);
  else if (h.contains_match !== undefined) match = compileStringMatcher({ contains: h.contains_match }, problems);
  else if (h.safe_regex_match?.regex !== undefined) match = compileRegexMatcher(h.safe_regex_match.regex, h.safe_regex_match, problems);
  else if (h.range_match) {
    const start = h.range_match.start ?? 0;
    const end = h.range_match.end ?? 0;
    match = (v) => {
      if (!/^-?\d+$/.test(v)) return false;
      const n = Number(v);
      return n >= start && n < end;
    };
  } else presentOnly = h.present_match ?? true; // no match field: a presence check
  const test = (value: string | undefined): boolean => {
    if (value === undefined && missingAsEmpty) value = '';
    let result: boolean;
    if (presentOnly !== undefined) result = presentOnly ? value !== undefined : value === undefined;
    else result = value !== undefined && match!(value);
    return invert ? !result : result;
  };
  return { name, test };
}

export interface CompiledQueryMatcher {
  readonly name: string;
  readonly test: (value: string | undefined) => boolean;
}

export function compileQueryMatcher(q: QueryParameterMatcher, problems: CompileProblem[]): CompiledQueryMatcher {
  const name = q.name ?? '';
  if (q.string_match) {
    const m = compileStringMatcher(q.string_match, problems);
    return { name, test: (v) => v !== undefined && m(v) };
  }
  const present = q.present_match ?? true;
  return { name, test: (v) => (present ? v !== undefined : v === undefined) };
}

/** The first value of `name` in a query string (without the '?'), URL-decoded; undefined when absent. */
export function queryParam(query: string, name: string): string | undefined {
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    const eq = query.indexOf('=', start);
    const keyEnd = eq >= 0 && eq < end ? eq : end;
    if (decode(query.slice(start, keyEnd)) === name) return eq >= 0 && eq < end ? decode(query.slice(eq + 1, end)) : '';
    start = end + 1;
  }
  return undefined;
}

function decode(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      let v = part.slice(eq + 1).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      return v;
    }
  }
  return undefined;
}
