/**
 * google.protobuf.Duration in the model: reading the forms users write, writing the forms Envoy and the article use,
 * and milliseconds for the run-time parts.
 */

/** google.protobuf.Duration. `nanos` has the sign of `seconds` and |nanos| < 1e9. */
export interface Duration {
  seconds: number;
  nanos: number;
}

export function durationToMs(d: Duration): number {
  return d.seconds * 1000 + d.nanos / 1e6;
}

/**
 * `envoy`: the protobuf JSON mapping Envoy writes (`0.250s`, `5s`, `0.000000001s`: 0, 3, 6 or 9 fractional digits);
 * `short`: trailing zeros trimmed (`0.25s`, the article's style).
 */
export type DurationStyle = 'short' | 'envoy';

/** A duration as text, in the given style. */
export function durationText(d: Duration, style: DurationStyle): string {
  const neg = d.seconds < 0 || d.nanos < 0;
  const s = Math.abs(d.seconds);
  const n = Math.abs(d.nanos);
  let frac = '';
  if (n !== 0) {
    const nine = String(n).padStart(9, '0');
    if (style === 'short') frac = '.' + nine.replace(/0+$/, '');
    else if (n % 1e6 === 0) frac = '.' + nine.slice(0, 3);
    else if (n % 1e3 === 0) frac = '.' + nine.slice(0, 6);
    else frac = '.' + nine;
  }
  return `${neg ? '-' : ''}${s}${frac}s`;
}

/**
 * Parse a duration in the forms users write: `0.25s`, `250ms`, `1m30s`, `1h`, `5us`, `10ns`, or a bare number of
 * seconds. Returns undefined when the text is not a duration.
 */
export function parseDuration(text: string): Duration | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(t)) return secondsToDuration(t);
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let neg = false;
  let i = 0;
  if (t[0] === '-') {
    neg = true;
    i = 1;
  }
  re.lastIndex = i;
  let totalNanos = 0n;
  let matched = false;
  while (re.lastIndex < t.length) {
    const m = re.exec(t);
    if (m === null) return undefined;
    matched = true;
    const unitNanos: Record<string, bigint> = {
      h: 3_600_000_000_000n,
      m: 60_000_000_000n,
      s: 1_000_000_000n,
      ms: 1_000_000n,
      us: 1_000n,
      µs: 1_000n,
      ns: 1n,
    };
    totalNanos += decimalTimes(m[1]!, unitNanos[m[2]!]!);
  }
  if (!matched) return undefined;
  if (neg) totalNanos = -totalNanos;
  const seconds = totalNanos / 1_000_000_000n;
  const nanos = totalNanos - seconds * 1_000_000_000n;
  return { seconds: Number(seconds), nanos: Number(nanos) };
}

function secondsToDuration(t: string): Duration {
  const neg = t.startsWith('-');
  const total = decimalTimes(neg ? t.slice(1) : t, 1_000_000_000n);
  const signed = neg ? -total : total;
  const seconds = signed / 1_000_000_000n;
  return { seconds: Number(seconds), nanos: Number(signed - seconds * 1_000_000_000n) };
}

/** Exact decimal × integer, truncated toward zero (so `0.1s` is exactly 100000000 nanos). */
function decimalTimes(decimal: string, factor: bigint): bigint {
  const [whole, frac = ''] = decimal.split('.');
  const digits = BigInt((whole ?? '0') + frac);
  const scale = 10n ** BigInt(frac.length);
  return (digits * factor) / scale;
}
