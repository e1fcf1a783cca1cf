/**
 * The Unicode data RE2 patterns need — `\pL`, `\p{Greek}` and case folding under `(?i)` — read from the JavaScript
 * engine's own Unicode tables (its `\p{…}` and `/iu` support) once per process, on first use, and turned into code
 * point sets so the translated RegExp needs neither the `u` nor the `i` flag (emit.ts says why).
 */
import { CodePointSet, MAX_CODE_POINT } from './charset.js';

/**
 * The general categories RE2 knows by name (re2/unicode_groups.cc is generated from UnicodeData.txt, which lists
 * no unassigned code points: RE2's `C` is Cc, Cf, Co and Cs, while JavaScript's `\p{C}` also holds Cn).
 */
const CATEGORIES = new Set([
  'Cc', 'Cf', 'Co', 'Cs', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'Mc', 'Me', 'Mn', 'Nd', 'Nl', 'No',
  'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'Sc', 'Sk', 'Sm', 'So', 'Zl', 'Zp', 'Zs',
]);

/**
 * RE2 names scripts by their long names from Scripts.txt; JavaScript also accepts the four-letter ISO 15924 aliases
 * (`Grek`), which RE2 rejects. These long names happen to have four letters themselves.
 */
const FOUR_LETTER_SCRIPTS = new Set(['Ahom', 'Cham', 'Kawi', 'Lisu', 'Miao', 'Modi', 'Newa', 'Thai', 'Toto']);

let everyCodePoint: string | undefined;

/** Every code point but the surrogates, in order: a `/\p{…}+/gu` scan of it yields a property's ranges. */
function allCodePoints(): string {
  if (everyCodePoint === undefined) {
    const chunks: string[] = [];
    for (let lo = 0; lo <= MAX_CODE_POINT; lo += 0x1000) {
      const cps: number[] = [];
      for (let cp = lo; cp < lo + 0x1000; cp++) if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
      chunks.push(String.fromCodePoint(...cps));
    }
    everyCodePoint = chunks.join('');
  }
  return everyCodePoint;
}

/** The code point at a string index of allCodePoints(). */
function codePointAtIndex(i: number): number {
  if (i < 0xd800) return i;
  if (i < 0xf800) return i + 0x800;
  return 0x10000 + ((i - 0xf800) >> 1);
}

/** The code points a class of `\p{…}` property expressions holds, e.g. `\p{gc=Lu}`, `\p{Script=Greek}`. */
function scan(members: string): CodePointSet {
  const pairs: [number, number][] = [];
  for (const m of allCodePoints().matchAll(new RegExp(`[${members}]+`, 'gu'))) {
    pairs.push([codePointAtIndex(m.index), codePointAtIndex(m.index + m[0].length - 1)]);
  }
  return CodePointSet.fromPairs(pairs);
}

const groups = new Map<string, CodePointSet | null>();

/** What `\p{name}` means to RE2 (`Any`, a general category, or a script), or undefined when RE2 has no such group. */
export function unicodeGroup(name: string): CodePointSet | undefined {
  let set = groups.get(name);
  if (set === undefined) {
    set = lookup(name);
    groups.set(name, set);
  }
  return set ?? undefined;
}

function lookup(name: string): CodePointSet | null {
  if (name === 'Any') return CodePointSet.ALL;
  // The scanned text leaves the surrogates out; all of them are Cs.
  if (name === 'Cs') return CodePointSet.of(0xd800, 0xdfff);
  if (name === 'C') return scan('\\p{gc=Cc}\\p{gc=Cf}\\p{gc=Co}').union(unicodeGroup('Cs')!);
  // JavaScript's one-letter categories are the unions of the two-letter ones, as RE2's; only C differs (above).
  if (CATEGORIES.has(name) || /^[LMNPSZ]$/.test(name)) return scan(`\\p{gc=${name}}`);
  // Scripts.txt names only (no Unknown: it is the default value, never listed), not the ISO 15924 aliases.
  if (!/^[A-Z][A-Za-z_]*$/.test(name) || name === 'Unknown') return null;
  if (/^[A-Z][a-z]{3}$/.test(name) && !FOUR_LETTER_SCRIPTS.has(name)) return null;
  try {
    return scan(`\\p{Script=${name}}`);
  } catch {
    return null; // the engine knows no such script
  }
}

let cased: { readonly set: CodePointSet; readonly text: string } | undefined;

/** Every code point with a case mapping, as a set and as one string to search. */
function casedCodePoints(): { readonly set: CodePointSet; readonly text: string } {
  if (cased === undefined) {
    const set = scan('\\p{Changes_When_Casemapped}');
    const chars: string[] = [];
    for (const [lo, hi] of set.pairs()) for (let c = lo; c <= hi; c++) chars.push(String.fromCodePoint(c));
    cased = { set, text: chars.join('') };
  }
  return cased;
}

const orbits = new Map<number, readonly number[]>();

/**
 * The code points `cp` matches under `(?i)`, itself included. RE2 folds by CaseFolding.txt's simple and common
 * mappings (re2/make_unicode_casefold.py), the mappings a JavaScript `/iu` RegExp folds by; such a RegExp picks the
 * orbit out of every code point that has a case mapping at all.
 */
export function foldOrbit(cp: number): readonly number[] {
  let orbit = orbits.get(cp);
  if (orbit === undefined) {
    const { set, text } = casedCodePoints();
    const ch = String.fromCodePoint(cp);
    const found = [cp];
    if (set.has(cp)) {
      const same = new RegExp(ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'), 'giu');
      for (const m of text.matchAll(same)) if (m[0] !== ch) found.push(m[0].codePointAt(0)!);
    }
    orbit = found;
    orbits.set(cp, orbit);
  }
  return orbit;
}

/** The set with every member's case-folding orbit added (RE2's AddFoldedRange). */
export function foldClose(set: CodePointSet): CodePointSet {
  const extra: [number, number][] = [];
  const withCase = casedCodePoints().set.pairs();
  for (const [lo, hi] of set.pairs()) {
    for (const [a, b] of withCase) {
      if (b < lo) continue;
      if (a > hi) break;
      for (let cp = Math.max(a, lo); cp <= Math.min(b, hi); cp++) for (const o of foldOrbit(cp)) extra.push([o, o]);
    }
  }
  return extra.length === 0 ? set : set.union(CodePointSet.fromPairs(extra));
}
