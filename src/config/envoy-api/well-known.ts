/**
 * The JSON forms of google.protobuf's well-known types as protobuf's JSON parser reads them
 * (https://protobuf.dev/programming-guides/json/), which is how Envoy reads them from YAML and JSON.
 */

/** protobuf's Duration range: ±10,000 years in seconds. */
const MAX_DURATION_SECONDS = 315_576_000_000n;

const NANO_SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

/**
 * A Duration string: `-`?, whole seconds, an optional fraction of 1–9 digits, then `s` (`5s`, `0.25s`). Any other
 * unit is refused ("duration must end with a single 's'"). Returns the nanoseconds (a number while exact, else a
 * bigint), or a reason.
 */
export function parseJsonDuration(text: string): { nanos: number | bigint } | { error: string } {
  // Nearly every duration is a few digits of seconds: read them digit by digit, without a regex or a bigint.
  const last = text.length - 1;
  if (last >= 1 && last <= 17 && text.charCodeAt(last) === 0x73 /* s */) {
    let i = 0;
    let seconds = 0;
    for (let c = text.charCodeAt(0); i < last && c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) seconds = seconds * 10 + (c - 0x30);
    if (i > 0 && i <= 6) {
      if (i === last) return { nanos: seconds * 1e9 };
      if (text.charCodeAt(i) === 0x2e /* . */) {
        const from = ++i;
        let frac = 0;
        for (let c = text.charCodeAt(i); i < last && c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) frac = frac * 10 + (c - 0x30);
        const digits = i - from;
        if (i === last && digits > 0 && digits <= 9) return { nanos: seconds * 1e9 + frac * NANO_SCALE[digits]! };
      }
    }
  }
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (m === null) return { error: 'a duration is written as seconds with an `s`, such as "5s" or "0.25s"' };
  const seconds = BigInt(m[2]!);
  if (seconds > MAX_DURATION_SECONDS) return { error: `a duration is at most ${MAX_DURATION_SECONDS}s` };
  const nanos = seconds * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
  return { nanos: m[1] === '-' ? -nanos : nanos };
}

/** The same duration in Envoy's form, when meshctl's own reader understands the text (`250ms` → `0.25s`). */
export function envoyDurationForm(nanos: bigint): string {
  const neg = nanos < 0n;
  const a = neg ? -nanos : nanos;
  const frac = (a % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${a / 1_000_000_000n}${frac === '' ? '' : '.' + frac}s`;
}

/** RFC 3339 with an upper-case `T` and `Z` or an offset, as protobuf's Timestamp parser wants. Nanoseconds since 1970. */
export function parseJsonTimestamp(text: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (m === null) return undefined;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

/** `bytes`: standard or URL-safe base64, padded or not. Returns the decoded length, or undefined. */
export function base64Length(text: string): number | undefined {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return undefined;
  const body = text.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
  return Math.floor((body.length * 3) / 4);
}
