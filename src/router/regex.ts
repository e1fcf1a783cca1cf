/**
 * RE2 patterns (Envoy's safe_regex) as JavaScript RegExps, compiled once. Envoy requires a full match, so the pattern
 * is anchored. The common RE2 syntax is shared with JS; the few spellings that differ are rewritten, and RE2-only
 * constructs JS cannot express are reported instead of silently matching something else.
 */
import { setFlagsFromString } from 'node:v8';

// Envoy runs safe_regex on RE2, whose matching time is linear in the input; V8's backtracking engine is exponential
// on nested quantifiers such as `(a+)+$`, so one crafted path could stall the proxy's event loop for seconds. This
// V8 flag keeps the fast backtracking engine for normal input and switches a match to V8's linear-time engine once
// it backtracks excessively. It applies to every RegExp of the process, also ones compiled before; patterns the linear
// engine cannot run (back-references, look-around) are rejected by `validate` as outside RE2 anyway.
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

export type RegexResult = { ok: true; regex: RegExp } | { ok: false; message: string };

export function compileRe2(pattern: string, opts: { ignoreCase?: boolean; anchored?: boolean } = {}): RegexResult {
  let src = pattern;
  let flags = opts.ignoreCase ? 'i' : '';
  // A leading (?i) / (?s) / (?is) flag group applies to the whole pattern.
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U') return { ok: false, message: 'RE2 flag U (ungreedy) has no JavaScript equivalent' };
      if (!flags.includes(f)) flags += f;
    }
    src = src.slice(lead[0].length);
  }
  if (/\\[CzQE]/.test(src.replace(/\\\\/g, ''))) {
    // \z (end of text) is the only common one; \A likewise. \C, \Q…\E are not supported.
    src = src.replace(/\\z/g, '$').replace(/\\A/g, '^');
    if (/\\[CQE]/.test(src.replace(/\\\\/g, ''))) return { ok: false, message: 'RE2 escapes \\C and \\Q…\\E are not supported' };
  }
  src = src.replace(/\(\?P</g, '(?<');
  if (/\\p\{|\\P\{|\\p[A-Z]/.test(src)) flags += 'u';
  try {
    return { ok: true, regex: new RegExp(opts.anchored === false ? src : `^(?:${src})$`, flags) };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}
