/**
 * Sets of Unicode code points — what an RE2 character class, a literal under `(?i)` or `.` stands for — and their
 * spelling as JavaScript RegExp source without the `u` flag. RE2 matches code points; a flagless JavaScript RegExp
 * matches UTF-16 code units, so a code point above U+FFFF is spelled as its surrogate pair, and lone surrogates
 * (which UTF-8 text cannot hold) match nothing.
 */

export const MAX_CODE_POINT = 0x10ffff;

export class CodePointSet {
  /** Sorted, disjoint, non-adjacent inclusive ranges, flattened: lo0, hi0, lo1, hi1, … */
  private constructor(readonly ranges: readonly number[]) {}

  static readonly EMPTY = new CodePointSet([]);
  static readonly ALL = new CodePointSet([0, MAX_CODE_POINT]);

  static of(lo: number, hi: number = lo): CodePointSet {
    return new CodePointSet([lo, hi]);
  }

  /** From [lo, hi] pairs in any order, overlapping or not. */
  static fromPairs(pairs: readonly (readonly [number, number])[]): CodePointSet {
    const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
    const out: number[] = [];
    for (const [lo, hi] of sorted) {
      const n = out.length;
      if (n > 0 && lo <= out[n - 1]! + 1) out[n - 1] = Math.max(out[n - 1]!, hi);
      else out.push(lo, hi);
    }
    return new CodePointSet(out);
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** The one code point in the set, if it holds exactly one. */
  get single(): number | undefined {
    return this.ranges.length === 2 && this.ranges[0] === this.ranges[1] ? this.ranges[0] : undefined;
  }

  has(cp: number): boolean {
    let a = 0;
    let b = this.ranges.length / 2;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (this.ranges[2 * mid + 1]! < cp) a = mid + 1;
      else b = mid;
    }
    return 2 * a < this.ranges.length && this.ranges[2 * a]! <= cp;
  }

  pairs(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.ranges.length; i += 2) out.push([this.ranges[i]!, this.ranges[i + 1]!]);
    return out;
  }

  union(other: CodePointSet): CodePointSet {
    if (other.isEmpty) return this;
    if (this.isEmpty) return other;
    return CodePointSet.fromPairs([...this.pairs(), ...other.pairs()]);
  }

  negate(): CodePointSet {
    const out: number[] = [];
    let next = 0;
    for (let i = 0; i < this.ranges.length; i += 2) {
      if (this.ranges[i]! > next) out.push(next, this.ranges[i]! - 1);
      next = this.ranges[i + 1]! + 1;
    }
    if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT);
    return new CodePointSet(out);
  }

  /** JavaScript RegExp source (no flags) matching one code point of the set. */
  toJs(): string {
    const bmp: string[] = [];
    const astral: [number, number][] = [];
    for (const [lo, hi] of this.pairs()) {
      // Surrogate code points are left out: UTF-8 text has none, and here they would match half a pair.
      for (const [a, b] of [
        [lo, Math.min(hi, 0xd7ff)],
        [Math.max(lo, 0xe000), Math.min(hi, 0xffff)],
      ] as const) {
        if (a <= b) bmp.push(a === b ? unit(a) : `${unit(a)}-${unit(b)}`);
      }
      if (hi >= 0x10000) astral.push([Math.max(lo, 0x10000), hi]);
    }
    const single = this.single;
    const alternatives: string[] = [];
    if (single !== undefined) return literal(single);
    if (bmp.length > 0) alternatives.push(`[${bmp.join('')}]`);
    alternatives.push(...surrogatePairs(astral));
    if (alternatives.length === 0) return '[]'; // the empty class: matches nothing
    return alternatives.length === 1 ? alternatives[0]! : `(?:${alternatives.join('|')})`;
  }
}

/** One code point as RegExp source outside a class: itself when alphanumeric, else an escape. */
function literal(cp: number): string {
  if (cp < 0x10000) return unit(cp);
  const v = cp - 0x10000;
  return unit(0xd800 + (v >> 10)) + unit(0xdc00 + (v & 0x3ff));
}

/** One UTF-16 code unit, spelled so that it means itself inside and outside a class. */
function unit(u: number): string {
  if ((u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5a) || (u >= 0x61 && u <= 0x7a)) return String.fromCharCode(u);
  return u < 0x100 ? `\\x${u.toString(16).padStart(2, '0')}` : `\\u${u.toString(16).padStart(4, '0')}`;
}

/** Astral ranges as alternatives of a high surrogate (or a class of them) followed by a class of low surrogates. */
function surrogatePairs(ranges: readonly [number, number][]): string[] {
  // Per high surrogate, the low-surrogate span; consecutive highs with the full low span are merged.
  const pieces: { hiFrom: number; hiTo: number; loFrom: number; loTo: number }[] = [];
  const push = (h: number, l1: number, l2: number): void => {
    const last = pieces[pieces.length - 1];
    if (last !== undefined && last.hiTo + 1 === h && last.loFrom === 0xdc00 && last.loTo === 0xdfff && l1 === 0xdc00 && l2 === 0xdfff) {
      last.hiTo = h;
    } else pieces.push({ hiFrom: h, hiTo: h, loFrom: l1, loTo: l2 });
  };
  for (const [lo, hi] of ranges) {
    const h1 = 0xd800 + ((lo - 0x10000) >> 10);
    const h2 = 0xd800 + ((hi - 0x10000) >> 10);
    const l1 = 0xdc00 + ((lo - 0x10000) & 0x3ff);
    const l2 = 0xdc00 + ((hi - 0x10000) & 0x3ff);
    if (h1 === h2) push(h1, l1, l2);
    else {
      push(h1, l1, 0xdfff);
      for (let h = h1 + 1; h < h2; h++) push(h, 0xdc00, 0xdfff);
      push(h2, 0xdc00, l2);
    }
  }
  const span = (a: number, b: number): string => (a === b ? unit(a) : `[${unit(a)}-${unit(b)}]`);
  return pieces.map((p) => span(p.hiFrom, p.hiTo) + span(p.loFrom, p.loTo));
}
