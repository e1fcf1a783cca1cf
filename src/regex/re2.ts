/**
 * RE2 patterns — Envoy's `safe_regex` and `regex_rewrite` — for all of meshctl: `checkRe2` for validate,
 * `compileRe2` for the router's matchers, `compileRe2Rewrite` for the proxy's regex_rewrite. One parser (parse.ts)
 * decides what RE2 accepts and one translation (emit.ts) what the JavaScript RegExp matches, and validate's verdict
 * is whether that translation compiles, so `validate` and `run` cannot disagree about a pattern.
 */
import { setFlagsFromString } from 'node:v8';
import { toJsSource } from './emit.js';
import { parseRe2, type Re2Error } from './parse.js';

export type { Re2Error } from './parse.js';

// Envoy runs these patterns on RE2, whose matching time is linear in the input; V8's backtracking engine is
// exponential on nested quantifiers such as `(a+)+$`, so one crafted path could stall the proxy's event loop for
// seconds. This V8 flag keeps the fast backtracking engine for normal input and switches a match to V8's
// linear-time engine once it backtracks excessively. It applies to every RegExp of the process, also ones compiled
// before; emit.ts writes the translated patterns so that the linear engine can run them.
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

type Re2Compiled = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly error: Re2Error };

/** Translations by pattern: validate and the router (and each reload) ask about the same patterns. */
const compiled = new Map<string, Re2Compiled>();
const MAX_REMEMBERED = 4096;

/** Why RE2 (Envoy) would refuse the pattern, or meshctl could not run it; undefined when it is fine. */
export function checkRe2(pattern: string): Re2Error | undefined {
  const r = compileRe2(pattern);
  return r.ok ? undefined : r.error;
}

/**
 * The pattern as a RegExp that matches what RE2 matches against the whole value: Envoy's RegexMatcher is a full
 * match (`RE2::FullMatch`). Without the `g` or `y` flag its `test` keeps no state, so one RegExp serves every caller.
 */
export function compileRe2(pattern: string): Re2Compiled {
  let r = compiled.get(pattern);
  if (r === undefined) {
    r = translate(pattern);
    if (compiled.size >= MAX_REMEMBERED) compiled.clear();
    compiled.set(pattern, r);
  }
  return r;
}

/** regex_rewrite: every match of the pattern in the path (no query) replaced — `String.replace(re, sub)`. */
interface Re2Rewrite {
  readonly re: RegExp;
  readonly sub: string;
}

/**
 * A regex_rewrite as a global RegExp and a JavaScript replacement string; undefined when the pattern is refused
 * (validate reports it). Envoy applies it with `RE2::GlobalReplace`, whose substitution knows `\0`…`\9` and `\\`;
 * a `$` is literal there.
 */
export function compileRe2Rewrite(pattern: string, substitution: string): Re2Rewrite | undefined {
  const r = parseRe2(pattern);
  if (!r.ok) return undefined;
  const re = new RegExp(toJsSource(r.tree, true), 'g');
  let sub = '';
  let highest = 0;
  let stopped = false;
  for (let i = 0; i < substitution.length; i++) {
    const c = substitution[i]!;
    if (c !== '\\') {
      if (!stopped) sub += c === '$' ? '$$' : c;
      continue;
    }
    const d = substitution[i + 1];
    i++;
    if (d !== undefined && d >= '0' && d <= '9') {
      highest = Math.max(highest, Number(d));
      // Two digits, so that a literal digit after the group is not read as part of its number.
      if (!stopped) sub += d === '0' ? '$&' : `$0${d}`;
    } else if (d === '\\') {
      if (!stopped) sub += '\\';
    } else {
      // RE2::Rewrite stops at any other escape ("invalid rewrite pattern"), keeping what it wrote so far.
      stopped = true;
    }
  }
  // RE2::GlobalReplace changes nothing when the substitution names a group the pattern does not have.
  return { re, sub: highest > r.tree.captures ? '$&' : sub };
}

function translate(pattern: string): Re2Compiled {
  const r = parseRe2(pattern);
  if (!r.ok) return r;
  try {
    return { ok: true, regex: new RegExp(`^(?:${toJsSource(r.tree, false)})$`) };
  } catch (err) {
    // A translation V8 refuses is meshctl's fault, not the pattern's; still, run could not honour it.
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, error: { kind: 'invalid', message: `meshctl cannot translate it: ${reason}`, offset: 0 } };
  }
}
