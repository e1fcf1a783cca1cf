/**
 * Envoy's `safe_regex` uses Google RE2, which has no backtracking features. This checks a pattern against the RE2
 * syntax (flagging the constructs RE2 lacks) and then compiles an equivalent JavaScript pattern to catch the errors
 * both engines share (unbalanced parentheses, nothing to repeat, bad ranges).
 */

export interface RegexProblem {
  readonly kind: 'unsupported' | 'invalid';
  readonly message: string;
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** RE2's limit on `{n,m}` counts. */
const MAX_REPEAT = 1000;

export function checkRe2(pattern: string): RegexProblem | undefined {
  const unsupported = (message: string): RegexProblem => ({ kind: 'unsupported', message });
  const invalid = (message: string): RegexProblem => ({ kind: 'invalid', message });
  let js = '';
  let needsUnicode = false;
  let i = 0;
  const n = pattern.length;
  let lastWasQuantifier = false;
  let lastWasLazy = false;
  while (i < n) {
    const c = pattern[i]!;
    if (c === '\\') {
      const d = pattern[i + 1];
      if (d === undefined) return invalid('trailing backslash at end of pattern');
      if (/[1-9]/.test(d)) return unsupported(`backreference \`\\${d}\` (RE2 has no backreferences)`);
      if (d === 'k' && (pattern[i + 2] === '<' || pattern[i + 2] === '{' || pattern[i + 2] === "'")) {
        return unsupported('named backreference `\\k<…>` (RE2 has no backreferences)');
      }
      if (d === 'G' || d === 'Z') return unsupported(`\`\\${d}\` anchor (RE2 supports \\A and \\z)`);
      if (d === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const lit = pattern.slice(i + 2, end < 0 ? n : end);
        js += lit.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
        i = end < 0 ? n : end + 2;
        lastWasQuantifier = false;
        continue;
      }
      if (d === 'A') js += '^';
      else if (d === 'z') js += '$';
      else if ((d === 'p' || d === 'P') && pattern[i + 2] !== '{') {
        const cls = pattern[i + 2];
        if (cls === undefined) return invalid('missing Unicode class name after `\\p`');
        js += `\\${d}{${cls}}`;
        needsUnicode = true;
        i += 3;
        lastWasQuantifier = false;
        continue;
      } else {
        if (d === 'p' || d === 'P') needsUnicode = true;
        js += c + d;
      }
      i += 2;
      lastWasQuantifier = false;
      continue;
    }
    if (c === '[') {
      // Copy the class, translating POSIX names, until its closing bracket.
      let j = i + 1;
      let cls = '[';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      if (pattern[j] === ']') {
        cls += '\\]';
        j++;
      }
      let closed = false;
      while (j < n) {
        const e = pattern[j]!;
        if (e === '\\') {
          const d = pattern[j + 1];
          if (d === undefined) return invalid('trailing backslash in character class');
          if ((d === 'p' || d === 'P') && pattern[j + 2] !== '{' && pattern[j + 2] !== undefined) {
            cls += `\\${d}{${pattern[j + 2]}}`;
            needsUnicode = true;
            j += 3;
            continue;
          }
          cls += e + d;
          j += 2;
          continue;
        }
        if (e === '[' && pattern[j + 1] === ':') {
          const m = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(j));
          if (m !== null) {
            const set = POSIX_CLASSES[m[2]!];
            if (set === undefined) return invalid(`unknown POSIX class \`[:${m[2]}:]\``);
            if (m[1] === '^') return unsupported('negated POSIX class inside a bracket expression');
            cls += set;
            j += m[0].length;
            continue;
          }
        }
        if (e === '[') {
          cls += '\\[';
          j++;
          continue;
        }
        if (e === ']') {
          closed = true;
          j++;
          break;
        }
        cls += e;
        j++;
      }
      if (!closed) return invalid('missing closing `]` of a character class');
      js += cls + ']';
      i = j;
      lastWasQuantifier = false;
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (rest.startsWith('=') || rest.startsWith('!')) {
        return unsupported(`look-ahead \`(?${rest[0]}\` (RE2 has no look-around)`);
      }
      if (rest.startsWith('<=') || rest.startsWith('<!')) {
        return unsupported(`look-behind \`(?${rest.slice(0, 2)}\` (RE2 has no look-around)`);
      }
      if (rest.startsWith('>')) return unsupported('atomic group `(?>` (RE2 has no atomic groups)');
      if (rest.startsWith('(')) return unsupported('conditional `(?(` (RE2 has no conditionals)');
      if (rest.startsWith('#')) return unsupported('comment group `(?#` (not RE2 syntax)');
      if (/^(R|\d|&|\+)/.test(rest)) return unsupported('recursion `(?R)` (RE2 has no recursion)');
      const named = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (named !== null) {
        js += `(?<${named[1]}>`;
        i += 2 + named[0].length;
        lastWasQuantifier = false;
        continue;
      }
      if (rest.startsWith('P=') || rest.startsWith('P>')) return unsupported('named backreference `(?P=…)` (RE2 has no backreferences)');
      const flags = /^([imsU]*)(?:-([imsU]+))?([:)])/.exec(rest);
      if (flags !== null) {
        // JavaScript has no inline flags: drop them for the compile check (they do not change validity).
        js += flags[3] === ':' ? '(?:' : '';
        i += 2 + flags[0].length;
        lastWasQuantifier = false;
        continue;
      }
      if (rest.startsWith(':')) {
        js += '(?:';
        i += 3;
        lastWasQuantifier = false;
        continue;
      }
      return invalid(`invalid or unsupported group \`(?${rest.slice(0, 2)}\``);
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      let q = c;
      let len = 1;
      if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
        if (m === null) {
          // RE2 treats a `{` that does not start a repeat as a literal.
          js += '\\{';
          i++;
          lastWasQuantifier = false;
          continue;
        }
        const lo = Number(m[1]);
        const hi = m[3] === undefined || m[3] === '' ? lo : Number(m[3]);
        if (lo > MAX_REPEAT || hi > MAX_REPEAT) return invalid(`repeat count in \`${m[0]}\` exceeds RE2's limit of ${MAX_REPEAT}`);
        if (m[3] !== undefined && m[3] !== '' && hi < lo) return invalid(`bad repeat range \`${m[0]}\``);
        q = m[0];
        len = m[0].length;
      }
      if (lastWasQuantifier) {
        if (c === '+' && !lastWasLazy) return unsupported('possessive quantifier (RE2 has no possessive quantifiers)');
        return invalid(`bad repetition operator \`${pattern.slice(i - 1, i + len)}\``);
      }
      js += q;
      i += len;
      lastWasQuantifier = true;
      lastWasLazy = false;
      if (pattern[i] === '?') {
        js += '?';
        i++;
        lastWasLazy = true;
      }
      continue;
    }
    js += c;
    i++;
    lastWasQuantifier = false;
  }
  try {
    new RegExp(js, needsUnicode ? 'u' : '');
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    // V8's message repeats the pattern; keep only the reason after the last colon.
    const reason = msg.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return invalid(reason.charAt(0).toLowerCase() + reason.slice(1));
  }
  return undefined;
}
