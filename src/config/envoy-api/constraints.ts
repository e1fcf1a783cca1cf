/**
 * protoc-gen-validate's constraints, as Envoy checks them after reading a config (`MessageUtil::validate`, PGV's
 * generated C++): each check takes a value already read by proto3 JSON rules and a field's `(validate.rules)` as the
 * .proto writes them, and says which constraint the value breaks. Semantics follow PGV's templates
 * (github.com/bufbuild/protoc-gen-validate, templates/cc and templates/goshared): ranges with both ends are inside
 * (lower < upper) or outside (upper < lower) ranges; string lengths count code points, `*_bytes` UTF-8 bytes;
 * `pattern` is an RE2 full match; `ignore_empty` skips the default value.
 */
import { createRequire } from 'node:module';

import type { ConstraintRuleId } from './rule-ids.js';

/** A broken constraint: what the value is, and the constraint as the .proto writes it (`uint32 gte: 1, lte: 9`). */
export interface Violation {
  readonly ruleId: ConstraintRuleId;
  /** Completes "`field` …": `is 70000`, `is empty`. */
  readonly problem: string;
  readonly constraint: string;
}

type Rules = Readonly<Record<string, unknown>>;

function violation(ruleId: ConstraintRuleId, problem: string, constraint: string): Violation {
  return { ruleId, problem, constraint };
}

const NONE: readonly unknown[] = [];

let net: typeof import('node:net') | undefined;

/** node:net's isIP, loaded when a value is first checked against an IP rule (none of Envoy's v3 fields has one). */
function isIP(s: string): number {
  net ??= createRequire(import.meta.url)('node:net') as typeof import('node:net');
  return net.isIP(s);
}

/** `in`/`not_in` are repeated; protobufjs writes a one-element list as the bare element. */
function list(v: unknown): readonly unknown[] {
  return v === undefined ? NONE : Array.isArray(v) ? v : [v];
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? v.toString() : String(v);
}

// ---- ranges ----------------------------------------------------------------------------------------------------

/**
 * A totally ordered value: numbers, bigints (64-bit integers beyond 2^53) and durations/timestamps in nanoseconds
 * (a number while exact, else a bigint). JS compares numbers and bigints with each other exactly.
 */
type Ordered = number | bigint;

function cmp(a: Ordered, b: Ordered): number {
  // NaN compares false both ways (PGV's C++ comparisons do the same).
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Bounds {
  readonly lt: Ordered | undefined;
  readonly lte: Ordered | undefined;
  readonly gt: Ordered | undefined;
  readonly gte: Ordered | undefined;
  /** Both ends given and the upper one not above the lower: the value must be outside. */
  readonly outside: boolean;
  readonly any: boolean;
}

function bounds(r: Rules, read: (v: unknown) => Ordered | undefined): Bounds {
  const lt = read(r['lt']);
  const lte = read(r['lte']);
  const gt = read(r['gt']);
  const gte = read(r['gte']);
  const lower = gt ?? gte;
  const upper = lt ?? lte;
  return { lt, lte, gt, gte, outside: lower !== undefined && upper !== undefined && cmp(upper, lower) <= 0, any: lower !== undefined || upper !== undefined };
}

/**
 * PGV's range check (templates/cc/ltgt.go): an upper bound above the lower one is a range the value must be inside;
 * below it (or equal), one the value must be outside. Returns whether the value passes.
 */
function inRange(v: Ordered, b: Bounds): boolean {
  if (!b.any) return true;
  const aboveLower = b.gt !== undefined ? cmp(v, b.gt) > 0 : b.gte !== undefined ? cmp(v, b.gte) >= 0 : true;
  const belowUpper = b.lt !== undefined ? cmp(v, b.lt) < 0 : b.lte !== undefined ? cmp(v, b.lte) <= 0 : true;
  return b.outside ? aboveLower || belowUpper : aboveLower && belowUpper;
}

function boundsText(family: string, r: Rules, fmt: (v: unknown) => string): string {
  const parts: string[] = [];
  for (const k of ['const', 'gt', 'gte', 'lt', 'lte'] as const) if (r[k] !== undefined) parts.push(`${k}: ${fmt(r[k])}`);
  return `${family} ${parts.join(', ')}`.trimStart();
}

/** Each rules object's compiled form, made on first use (the descriptors' objects live as long as the process). */
function cached<T>(cache: WeakMap<object, T>, r: Rules, make: () => T): T {
  let c = cache.get(r);
  if (c === undefined) {
    c = make();
    cache.set(r, c);
  }
  return c;
}

// ---- numbers ---------------------------------------------------------------------------------------------------

/** A rule's number: numbers as they are, digit strings (64-bit rule values) exactly. */
function ruleNumber(v: unknown): Ordered | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : BigInt(v);
  }
  if (typeof v === 'bigint') return v;
  return undefined;
}

interface NumberRules {
  readonly c: Ordered | undefined;
  readonly b: Bounds;
  readonly ins: readonly Ordered[];
  readonly outs: readonly Ordered[];
  readonly ignoreEmpty: boolean;
}
const NUMBER_RULES = new WeakMap<object, NumberRules>();

function numberRules(r: Rules): NumberRules {
  return cached(NUMBER_RULES, r, () => ({
    c: ruleNumber(r['const']),
    b: bounds(r, ruleNumber),
    ins: list(r['in']).map(ruleNumber).filter((x): x is Ordered => x !== undefined),
    outs: list(r['not_in']).map(ruleNumber).filter((x): x is Ordered => x !== undefined),
    ignoreEmpty: r['ignore_empty'] === true,
  }));
}

/** The numeric families: `int32`, `uint64`, `double`, … (each has const, lt, lte, gt, gte, in, not_in, ignore_empty). */
export function checkNumber(family: string, value: Ordered, r: Rules): Violation | undefined {
  const n = numberRules(r);
  if (n.ignoreEmpty && cmp(value, 0) === 0) return undefined;
  // The texts are built only for a violation (this runs for most numbers of a config, and nearly all pass).
  if (n.c !== undefined && cmp(value, n.c) !== 0) return violation('envoy-number-rule', `is ${show(value)}`, `${family} const: ${show(r['const'])}`);
  if (!inRange(value, n.b)) return violation('envoy-number-rule', `is ${show(value)}`, boundsText(family, r, show));
  if (n.ins.length > 0 && !includesOrdered(n.ins, value)) return violation('envoy-number-rule', `is ${show(value)}`, `${family} in: [${n.ins.map(show).join(', ')}]`);
  if (n.outs.length > 0 && includesOrdered(n.outs, value)) return violation('envoy-number-rule', `is ${show(value)}`, `${family} not_in: [${n.outs.map(show).join(', ')}]`);
  return undefined;
}

/** Whether `xs` holds a value equal to `v` (numbers and bigints compared exactly; no closure per call). */
function includesOrdered(xs: readonly Ordered[], v: Ordered): boolean {
  for (const x of xs) if (cmp(v, x) === 0) return true;
  return false;
}

export function checkBool(value: boolean, r: Rules): Violation | undefined {
  if (r['const'] !== undefined && r['const'] !== value) return violation('envoy-bool-rule', `is ${value}`, `bool const: ${show(r['const'])}`);
  return undefined;
}

// ---- enums -----------------------------------------------------------------------------------------------------

export function checkEnum(value: number, defined: (n: number) => boolean, r: Rules, name: (n: number) => string): Violation | undefined {
  const shown = (n: number): string => name(n);
  if (r['const'] !== undefined && r['const'] !== value) return violation('envoy-enum-rule', `is ${shown(value)}`, `enum const: ${show(r['const'])}`);
  if (r['defined_only'] === true && !defined(value)) return violation('envoy-enum-rule', `is ${value}, which is not a value of the enum`, 'enum defined_only: true');
  const ins = list(r['in']);
  if (ins.length > 0 && !ins.includes(value)) return violation('envoy-enum-rule', `is ${shown(value)}`, `enum in: [${ins.map((x) => shown(Number(x))).join(', ')}]`);
  const outs = list(r['not_in']);
  if (outs.includes(value)) return violation('envoy-enum-rule', `is ${shown(value)}`, `enum not_in: [${outs.map((x) => shown(Number(x))).join(', ')}]`);
  return undefined;
}

// ---- strings ---------------------------------------------------------------------------------------------------

/** PGV's well-known header regexes (validate.proto's KnownRegex; the loose one when `strict: false`). */
const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;

const PATTERNS = new Map<string, RegExp | null>();

/** An RE2 pattern as a JS RegExp for a full match (null when JS cannot read it: the check is then skipped). */
function fullMatch(pattern: string): RegExp | null {
  let re = PATTERNS.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`, 'u');
    } catch {
      re = null;
    }
    PATTERNS.set(pattern, re);
  }
  return re;
}

function runes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
    else {
      n++;
      i++;
    }
  }
  return n;
}

/** RFC 1034 host names as PGV checks them: labels of 1–63 letters, digits and hyphens, no hyphen at either end. */
export function isHostname(s: string): boolean {
  const host = s.endsWith('.') ? s.slice(0, -1) : s;
  if (s.length > 253) return false;
  for (const part of host.split('.')) {
    if (part.length === 0 || part.length > 63 || part.startsWith('-') || part.endsWith('-')) return false;
    if (!/^[A-Za-z0-9-]+$/.test(part)) return false;
  }
  return true;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

interface StringRules {
  readonly len: number | undefined;
  readonly minLen: number | undefined;
  readonly maxLen: number | undefined;
  readonly lenBytes: number | undefined;
  readonly minBytes: number | undefined;
  readonly maxBytes: number | undefined;
  readonly pattern: RegExp | null | undefined;
  readonly headers: RegExp | undefined;
  /** Any of the rarer rules (const, in, prefix, …, ip, hostname): checked one by one. */
  readonly rare: boolean;
  readonly ignoreEmpty: boolean;
}
const STRING_RULES = new WeakMap<object, StringRules>();
const RARE_STRING_RULES = ['const', 'in', 'not_in', 'prefix', 'suffix', 'contains', 'not_contains', 'ip', 'ipv4', 'ipv6', 'hostname', 'address', 'uuid'];

function stringRules(r: Rules): StringRules {
  return cached(STRING_RULES, r, () => {
    const n = (k: string): number | undefined => (r[k] === undefined ? undefined : Number(r[k]));
    const wk = r['well_known_regex'];
    const strict = r['strict'] !== false;
    return {
      len: n('len'),
      minLen: n('min_len'),
      maxLen: n('max_len'),
      lenBytes: n('len_bytes'),
      minBytes: n('min_bytes'),
      maxBytes: n('max_bytes'),
      pattern: typeof r['pattern'] === 'string' ? fullMatch(r['pattern']) : undefined,
      headers: wk === 'HTTP_HEADER_NAME' || wk === 'HTTP_HEADER_VALUE' ? (!strict ? HEADER_LOOSE : wk === 'HTTP_HEADER_NAME' ? HEADER_NAME_STRICT : HEADER_VALUE_STRICT) : undefined,
      rare: RARE_STRING_RULES.some((k) => r[k] !== undefined),
      ignoreEmpty: r['ignore_empty'] === true,
    };
  });
}

function v(problem: string, constraint: string): Violation {
  return violation('envoy-string-rule', problem, `string ${constraint}`);
}

function desc(value: string): string {
  return value === '' ? 'is empty' : `is ${JSON.stringify(value.length > 60 ? value.slice(0, 57) + '…' : value)}`;
}

function long(value: string, n: number, unit: string): string {
  return value === '' ? 'is empty' : `is ${n} ${unit} long`;
}

export function checkString(value: string, r: Rules): Violation | undefined {
  const s = stringRules(r);
  if (s.ignoreEmpty && value === '') return undefined;
  if (s.rare) {
    if (r['const'] !== undefined && r['const'] !== value) return v(desc(value), `const: ${show(r['const'])}`);
    const ins = list(r['in']);
    if (ins.length > 0 && !ins.includes(value)) return v(desc(value), `in: [${ins.map(show).join(', ')}]`);
    if (list(r['not_in']).includes(value)) return v(desc(value), `not_in: [${list(r['not_in']).map(show).join(', ')}]`);
  }
  // Only a lower bound (`min_len: 1`, most of Envoy's string rules): a string of at least twice as many UTF-16 units
  // has at least that many characters (a character is one or two units), without counting them.
  const enoughUnits = s.len === undefined && s.maxLen === undefined && s.minLen !== undefined && value.length >= 2 * s.minLen;
  if (!enoughUnits && (s.len !== undefined || s.minLen !== undefined || s.maxLen !== undefined)) {
    const count = runes(value);
    if (s.len !== undefined && count !== s.len) return v(long(value, count, 'characters'), `len: ${s.len}`);
    if (s.minLen !== undefined && count < s.minLen) return v(long(value, count, 'characters'), s.maxLen !== undefined ? `min_len: ${s.minLen}, max_len: ${s.maxLen}` : `min_len: ${s.minLen}`);
    if (s.maxLen !== undefined && count > s.maxLen) return v(long(value, count, 'characters'), s.minLen !== undefined ? `min_len: ${s.minLen}, max_len: ${s.maxLen}` : `max_len: ${s.maxLen}`);
  }
  if (s.lenBytes !== undefined || s.minBytes !== undefined || s.maxBytes !== undefined) {
    // A UTF-16 unit is at most 3 bytes of UTF-8: only a long string needs counting against an upper bound.
    const bytes = s.lenBytes === undefined && s.minBytes === undefined && value.length * 3 <= s.maxBytes! ? 0 : Buffer.byteLength(value, 'utf8');
    if (s.lenBytes !== undefined && bytes !== s.lenBytes) return v(long(value, bytes, 'bytes'), `len_bytes: ${s.lenBytes}`);
    if (s.minBytes !== undefined && bytes < s.minBytes) return v(long(value, bytes, 'bytes'), `min_bytes: ${s.minBytes}`);
    if (s.maxBytes !== undefined && bytes > s.maxBytes) return v(long(value, bytes, 'bytes'), `max_bytes: ${s.maxBytes}`);
  }
  if (s.rare) {
    if (typeof r['prefix'] === 'string' && !value.startsWith(r['prefix'])) return v(desc(value), `prefix: ${show(r['prefix'])}`);
    if (typeof r['suffix'] === 'string' && !value.endsWith(r['suffix'])) return v(desc(value), `suffix: ${show(r['suffix'])}`);
    if (typeof r['contains'] === 'string' && !value.includes(r['contains'])) return v(desc(value), `contains: ${show(r['contains'])}`);
    if (typeof r['not_contains'] === 'string' && value.includes(r['not_contains'])) return v(desc(value), `not_contains: ${show(r['not_contains'])}`);
  }
  if (s.pattern !== undefined && s.pattern !== null && !s.pattern.test(value)) return v(desc(value), `pattern: ${show(r['pattern'])}`);
  if (s.rare) {
    if (r['ip'] === true && isIP(value) === 0) return v(`${desc(value)}, not an IP address`, 'ip: true');
    if (r['ipv4'] === true && isIP(value) !== 4) return v(`${desc(value)}, not an IPv4 address`, 'ipv4: true');
    if (r['ipv6'] === true && isIP(value) !== 6) return v(`${desc(value)}, not an IPv6 address`, 'ipv6: true');
    if (r['hostname'] === true && !isHostname(value)) return v(`${desc(value)}, not a host name`, 'hostname: true');
    if (r['address'] === true && !isHostname(value) && isIP(value) === 0) return v(`${desc(value)}, neither a host name nor an IP address`, 'address: true');
    if (r['uuid'] === true && !UUID.test(value)) return v(`${desc(value)}, not a UUID`, 'uuid: true');
  }
  if (s.headers !== undefined && !s.headers.test(value)) {
    const wk = r['well_known_regex'] as string;
    const strict = r['strict'] !== false;
    const what = wk === 'HTTP_HEADER_NAME' ? 'an HTTP header name' : 'an HTTP header value';
    return v(`${desc(value)}, not ${what}${strict ? '' : ' (it holds a NUL, CR or LF)'}`, `well_known_regex: ${wk}${strict ? '' : ', strict: false'}`);
  }
  return undefined;
}

/** `bytes` rules, on the decoded length (Envoy's few `bytes` fields only bound the length). */
export function checkBytes(length: number, r: Rules): Violation | undefined {
  if (r['ignore_empty'] === true && length === 0) return undefined;
  const b = (problem: string, c: string): Violation => violation('envoy-bytes-rule', problem, `bytes ${c}`);
  const n = (k: string): number | undefined => (r[k] === undefined ? undefined : Number(r[k]));
  const size = `is ${length} bytes long`;
  if (n('len') !== undefined && length !== n('len')) return b(size, `len: ${n('len')}`);
  if (n('min_len') !== undefined && length < n('min_len')!) return b(size, `min_len: ${n('min_len')}`);
  if (n('max_len') !== undefined && length > n('max_len')!) return b(size, `max_len: ${n('max_len')}`);
  return undefined;
}

// ---- durations and timestamps ----------------------------------------------------------------------------------

/** A rule's duration (`{seconds, nanos}`, `{}` for zero) in nanoseconds. */
function ruleNanos(v: unknown): bigint | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as { seconds?: unknown; nanos?: unknown };
  const s = o.seconds === undefined ? 0n : BigInt(String(o.seconds));
  const n = o.nanos === undefined ? 0n : BigInt(String(o.nanos));
  return s * 1_000_000_000n + n;
}

/** A duration as Envoy's JSON writes it: `0s`, `0.001s`, `300s`. */
export function nanosText(n: Ordered): string {
  const b = BigInt(n);
  const neg = b < 0n;
  const a = neg ? -b : b;
  const s = a / 1_000_000_000n;
  const frac = (a % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${s}${frac === '' ? '' : '.' + frac}s`;
}

interface DurationRules {
  readonly c: bigint | undefined;
  readonly b: Bounds;
  readonly ins: readonly bigint[];
  readonly outs: readonly bigint[];
}
const DURATION_RULES = new WeakMap<object, DurationRules>();

function durationRules(r: Rules): DurationRules {
  return cached(DURATION_RULES, r, () => ({
    c: ruleNanos(r['const']),
    b: bounds(r, ruleNanos),
    ins: list(r['in']).map(ruleNanos).filter((x): x is bigint => x !== undefined),
    outs: list(r['not_in']).map(ruleNanos).filter((x): x is bigint => x !== undefined),
  }));
}

/** `nanos`: the duration in nanoseconds (a number while exact, else a bigint). */
export function checkDuration(nanos: Ordered, r: Rules): Violation | undefined {
  const d = durationRules(r);
  if (d.c !== undefined && cmp(nanos, d.c) !== 0) return durationViolation(nanos, `const: ${nanosText(d.c)}`);
  if (!inRange(nanos, d.b)) return durationViolation(nanos, boundsText('', r, (x) => nanosText(ruleNanos(x) ?? 0n)));
  if (d.ins.length > 0 && !includesOrdered(d.ins, nanos)) return durationViolation(nanos, `in: [${d.ins.map(nanosText).join(', ')}]`);
  if (d.outs.length > 0 && includesOrdered(d.outs, nanos)) return durationViolation(nanos, `not_in: [${d.outs.map(nanosText).join(', ')}]`);
  return undefined;
}

/** A duration rule broken (a function, not a closure per check: most durations pass). */
function durationViolation(nanos: Ordered, c: string): Violation {
  return violation('envoy-duration-rule', `is ${nanosText(nanos)}`, `duration ${c}`);
}

/** Timestamp rules other than those relative to now (lt_now/gt_now/within depend on when Envoy starts). */
export function checkTimestamp(nanos: Ordered, r: Rules): Violation | undefined {
  if (!inRange(nanos, bounds(r, ruleNanos))) return violation('envoy-timestamp-rule', 'is out of range', boundsText('timestamp', r, (x) => nanosText(ruleNanos(x) ?? 0n)));
  return undefined;
}

// ---- repeated and maps -----------------------------------------------------------------------------------------

export function checkRepeatedCount(count: number, r: Rules): Violation | undefined {
  if (r['ignore_empty'] === true && count === 0) return undefined;
  const min = r['min_items'] === undefined ? undefined : Number(r['min_items']);
  const max = r['max_items'] === undefined ? undefined : Number(r['max_items']);
  // The text is built only for a violation: most lists pass.
  if (min !== undefined && count < min) return violation('envoy-repeated-rule', items(count), max !== undefined ? `repeated min_items: ${min}, max_items: ${max}` : `repeated min_items: ${min}`);
  if (max !== undefined && count > max) return violation('envoy-repeated-rule', items(count), min !== undefined ? `repeated min_items: ${min}, max_items: ${max}` : `repeated max_items: ${max}`);
  return undefined;
}

export function checkMapCount(count: number, r: Rules): Violation | undefined {
  if (r['ignore_empty'] === true && count === 0) return undefined;
  const min = r['min_pairs'] === undefined ? undefined : Number(r['min_pairs']);
  const max = r['max_pairs'] === undefined ? undefined : Number(r['max_pairs']);
  if (min !== undefined && count < min) return violation('envoy-map-rule', pairs(count), `map min_pairs: ${min}`);
  if (max !== undefined && count > max) return violation('envoy-map-rule', pairs(count), `map max_pairs: ${max}`);
  return undefined;
}

function items(count: number): string {
  return count === 0 ? 'is empty' : `has ${count} item${count === 1 ? '' : 's'}`;
}

function pairs(count: number): string {
  return count === 0 ? 'is empty' : `has ${count} entr${count === 1 ? 'y' : 'ies'}`;
}

/** `any` rules: `in` / `not_in` on the type URL. */
export function checkAnyUrl(url: string, r: Rules): Violation | undefined {
  const ins = list(r['in']);
  if (ins.length > 0 && !ins.includes(url)) return violation('envoy-any-rule', `is ${JSON.stringify(url)}`, `any in: [${ins.map(show).join(', ')}]`);
  const outs = list(r['not_in']);
  if (outs.includes(url)) return violation('envoy-any-rule', `is ${JSON.stringify(url)}`, `any not_in: [${outs.map(show).join(', ')}]`);
  return undefined;
}

/** Whether the field's rules require it to be set (`message.required`, `duration.required`, …). */
export function isRequired(r: Rules | undefined): boolean {
  if (r === undefined) return false;
  for (const k of ['message', 'duration', 'timestamp', 'any'] as const) {
    const x = r[k] as Rules | undefined;
    if (x !== undefined && x['required'] === true) return true;
  }
  return false;
}

/** Whether the message-level rules say not to look inside (`message.skip`). */
export function isSkipped(r: Rules | undefined): boolean {
  return (r?.['message'] as Rules | undefined)?.['skip'] === true;
}
