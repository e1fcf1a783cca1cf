/**
 * Goodness of fit for the simulator's report: Pearson's chi-square statistic and its p-value through the
 * regularized upper incomplete gamma function Q(k/2, x/2) (series below a+1, Lentz continued fraction above).
 */

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = 0.99999999999980993;
  const t = x + 7.5;
  for (let i = 0; i < LANCZOS.length; i++) a += LANCZOS[i]! / (x + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

const EPS = 1e-15;
const MAX_ITER = 10_000;

/** P(a, x), the regularized lower incomplete gamma function. */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  if (x < a + 1) return gammaSeries(a, x);
  return 1 - gammaContinuedFraction(a, x);
}

/** Q(a, x) = 1 − P(a, x), the regularized upper incomplete gamma function. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x < a + 1) return 1 - gammaSeries(a, x);
  return gammaContinuedFraction(a, x);
}

function gammaSeries(a: number, x: number): number {
  let sum = 1 / a;
  let term = sum;
  let ap = a;
  for (let n = 0; n < MAX_ITER; n++) {
    ap += 1;
    term *= x / ap;
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

function gammaContinuedFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

interface ChiSquare {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  /** Probability of a deviation at least this large if the expected shares were right; undefined when df = 0. */
  readonly pValue: number | undefined;
}

/**
 * Pearson's test of observed counts against expected counts (same total). Cells with expected 0 are left out, unless
 * they were observed, which makes the fit impossible (p = 0).
 */
export function chiSquareTest(observed: ArrayLike<number>, expected: ArrayLike<number>): ChiSquare {
  let stat = 0;
  let cells = 0;
  let impossible = false;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i]!;
    const o = observed[i]!;
    if (e <= 1e-9) {
      if (o > 0) impossible = true;
      continue;
    }
    cells++;
    stat += ((o - e) * (o - e)) / e;
  }
  const df = Math.max(0, cells - 1);
  if (impossible) return { statistic: Infinity, degreesOfFreedom: df, pValue: 0 };
  return { statistic: stat, degreesOfFreedom: df, pValue: df === 0 ? undefined : gammaQ(df / 2, stat / 2) };
}
