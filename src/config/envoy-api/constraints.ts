/**
 * protoc-gen-validate's constraints, as Envoy checks them after reading a config (`MessageUtil::validate`, PGV's
 * generated C++): each check takes a value already read by proto3 JSON rules and a field's `(validate.rules)` as the
 * .proto writes them, and says which constraint the value breaks. Semantics follow PGV's templates
 * (github.com/bufbuild/protoc-gen-validate, templates/cc and templates/goshared): ranges with both ends are inside
 * (lower < upper) or outside (upper < lower) ranges; string lengths count code points, `*_bytes` UTF-8 bytes;
 * `pattern` is an RE2 full match; `ignore_empty` skips the default value.
 */
import { isIP } from 'node:net';

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

/** `in`/`not_in` are repeated; protobufjs writes a one-element list as the bare element. */
function list(v: unknown): readonly unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? v.toString() : String(v);
}

// ---- ranges ----------------------------------------------------------------------------------------------------

/** A totally ordered value: numbers, bigints (64-bit integers) and durations/timestamps as bigint nanoseconds. */
type Ordered = number | bigint;

function cmp(a: Ordered, b: Ordered): number {
  // number vs bigint compares exactly in JS; NaN compares false both ways (PGV's C++ comparisons do the same).
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Bounds {
  readonly lt?: Ordered;
  readonly lte?: Ordered;
  readonly gt?: Ordered;
  readonly gte?: Ordered;
}

/**
 * PGV's range check (templates/cc/ltgt.go): an upper bound above the lower one is a range the value must be inside;
 * below it, one the value must be outside. Returns whether the value passes.
 */
function inRange(v: Ordered, b: Bounds): boolean {
  const lower = b.gt ?? b.gte;
  const upper = b.lt ?? b.lte;
  const aboveLower = (): boolean => (b.gt !== undefined ? cmp(v, b.gt) > 0 : b.gte !== undefined ? cmp(v, b.gte) >= 0 : true);
  const belowUpper = (): boolean => (b.lt !== undefined ? cmp(v, b.lt) < 0 : b.lte !== undefined ? cmp(v, b.lte) <= 0 : true);
  if (lower === undefined || upper === undefined) return aboveLower() && belowUpper();
  if (cmp(upper, lower) > 0) return aboveLower() && belowUpper();
  // Outside: fails only when strictly between the two bounds' complements.
  return !(!belowUpper() && !aboveLower());
}

function boundsText(family: string, r: Rules, fmt: (v: unknown) => string): string {
  const parts: string[] = [];
  for (const k of ['const', 'gt', 'gte', 'lt', 'lte'] as const) if (r[k] !== undefined) parts.push(`${k}: ${fmt(r[k])}`);
  return `${family} ${parts.join(', ')}`;
}

// ---- numbers ---------------------------------------------------------------------------------------------------

/** A rule's number as the value's kind (64-bit values are bigints when they are not safe integers). */
function asOrdered(v: unknown, big: boolean): Ordered | undefined {
  if (typeof v === 'number') return big && Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return big ? BigInt(v) : Number(v);
  if (typeof v === 'bigint') return big ? v : Number(v);
  return undefined;
}

/** The numeric families: `int32`, `uint64`, `double`, … (each has const, lt, lte, gt, gte, in, not_in, ignore_empty). */
export function checkNumber(family: string, value: Ordered, r: Rules): Violation | undefined {
  const big = typeof value === 'bigint';
  if (r['ignore_empty'] === true && (value === 0 || value === 0n)) return undefined;
  const c = asOrdered(r['const'], big);
  if (c !== undefined && cmp(value, c) !== 0) return violation('envoy-number-rule', `is ${show(value)}`, `${family} const: ${show(r['const'])}`);
  const b: { -readonly [K in keyof Bounds]: Bounds[K] } = {};
  for (const k of ['lt', 'lte', 'gt', 'gte'] as const) {
    const x = asOrdered(r[k], big);
    if (x !== undefined) b[k] = x;
  }
  if (!inRange(value, b)) return violation('envoy-number-rule', `is ${show(value)}`, boundsText(family, r, show));
  const ins = list(r['in']);
  if (ins.length > 0 && !ins.some((x) => asOrdered(x, big) !== undefined && cmp(value, asOrdered(x, big)!) === 0)) {
    return violation('envoy-number-rule', `is ${show(value)}`, `${family} in: [${ins.map(show).join(', ')}]`);
  }
  const outs = list(r['not_in']);
  if (outs.some((x) => asOrdered(x, big) !== undefined && cmp(value, asOrdered(x, big)!) === 0)) {
    return violation('envoy-number-rule', `is ${show(value)}`, `${family} not_in: [${outs.map(show).join(', ')}]`);
  }
  return undefined;
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

export function checkString(value: string, r: Rules): Violation | undefined {
  if (r['ignore_empty'] === true && value === '') return undefined;
  const v = (problem: string, constraint: string): Violation => violation('envoy-string-rule', problem, `string ${constraint}`);
  const desc = value === '' ? 'is empty' : `is ${JSON.stringify(value.length > 60 ? value.slice(0, 57) + '…' : value)}`;
  if (r['const'] !== undefined && r['const'] !== value) return v(desc, `const: ${show(r['const'])}`);
  const ins = list(r['in']);
  if (ins.length > 0 && !ins.includes(value)) return v(desc, `in: [${ins.map(show).join(', ')}]`);
  if (list(r['not_in']).includes(value)) return v(desc, `not_in: [${list(r['not_in']).map(show).join(', ')}]`);
  const n = (k: string): number | undefined => (r[k] === undefined ? undefined : Number(r[k]));
  const len = n('len');
  const minLen = n('min_len');
  const maxLen = n('max_len');
  if (len !== undefined || minLen !== undefined || maxLen !== undefined) {
    const count = runes(value);
    const long = value === '' ? 'is empty' : `is ${count} characters long`;
    if (len !== undefined && count !== len) return v(long, `len: ${len}`);
    if (minLen !== undefined && count < minLen) return v(long, maxLen !== undefined ? `min_len: ${minLen}, max_len: ${maxLen}` : `min_len: ${minLen}`);
    if (maxLen !== undefined && count > maxLen) return v(long, minLen !== undefined ? `min_len: ${minLen}, max_len: ${maxLen}` : `max_len: ${maxLen}`);
  }
  const lenBytes = n('len_bytes');
  const minBytes = n('min_bytes');
  const maxBytes = n('max_bytes');
  if (lenBytes !== undefined || minBytes !== undefined || maxBytes !== undefined) {
    const bytes = Buffer.byteLength(value, 'utf8');
    const size = value === '' ? 'is empty' : `is ${bytes} bytes long`;
    if (lenBytes !== undefined && bytes !== lenBytes) return v(size, `len_bytes: ${lenBytes}`);
    if (minBytes !== undefined && bytes < minBytes) return v(size, `min_bytes: ${minBytes}`);
    if (maxBytes !== undefined && bytes > maxBytes) return v(size, `max_bytes: ${maxBytes}`);
  }
  if (typeof r['prefix'] === 'string' && !value.startsWith(r['prefix'])) return v(desc, `prefix: ${show(r['prefix'])}`);
  if (typeof r['suffix'] === 'string' && !value.endsWith(r['suffix'])) return v(desc, `suffix: ${show(r['suffix'])}`);
  if (typeof r['contains'] === 'string' && !value.includes(r['contains'])) return v(desc, `contains: ${show(r['contains'])}`);
  if (typeof r['not_contains'] === 'string' && value.includes(r['not_contains'])) return v(desc, `not_contains: ${show(r['not_contains'])}`);
  if (typeof r['pattern'] === 'string') {
    const re = fullMatch(r['pattern']);
    if (re !== null && !re.test(value)) return v(desc, `pattern: ${show(r['pattern'])}`);
  }
  if (r['ip'] === true && isIP(value) === 0) return v(`${desc}, not an IP address`, 'ip: true');
  if (r['ipv4'] === true && isIP(value) !== 4) return v(`${desc}, not an IPv4 address`, 'ipv4: true');
  if (r['ipv6'] === true && isIP(value) !== 6) return v(`${desc}, not an IPv6 address`, 'ipv6: true');
  if (r['hostname'] === true && !isHostname(value)) return v(`${desc}, not a host name`, 'hostname: true');
  if (r['address'] === true && !isHostname(value) && isIP(value) === 0) return v(`${desc}, neither a host name nor an IP address`, 'address: true');
  if (r['uuid'] === true && !UUID.test(value)) return v(`${desc}, not a UUID`, 'uuid: true');
  const wk = r['well_known_regex'];
  if (wk === 'HTTP_HEADER_NAME' || wk === 'HTTP_HEADER_VALUE') {
    const strict = r['strict'] !== false;
    const re = !strict ? HEADER_LOOSE : wk === 'HTTP_HEADER_NAME' ? HEADER_NAME_STRICT : HEADER_VALUE_STRICT;
    if (!re.test(value)) {
      const what = wk === 'HTTP_HEADER_NAME' ? 'an HTTP header name' : 'an HTTP header value';
      return v(`${desc}, not ${what}${strict ? '' : ' (it holds a NUL, CR or LF)'}`, `well_known_regex: ${wk}${strict ? '' : ', strict: false'}`);
    }
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
export function nanosText(n: bigint): string {
  const neg = n < 0n;
  const a = neg ? -n : n;
  const s = a / 1_000_000_000n;
  const frac = (a % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${s}${frac === '' ? '' : '.' + frac}s`;
}

export function checkDuration(nanos: bigint, r: Rules): Violation | undefined {
  const d = (c: string): Violation => violation('envoy-duration-rule', `is ${nanosText(nanos)}`, `duration ${c}`);
  const c = ruleNanos(r['const']);
  if (c !== undefined && nanos !== c) return d(`const: ${nanosText(c)}`);
  const b: { -readonly [K in keyof Bounds]: Bounds[K] } = {};
  for (const k of ['lt', 'lte', 'gt', 'gte'] as const) {
    const x = ruleNanos(r[k]);
    if (x !== undefined) b[k] = x;
  }
  if (!inRange(nanos, b)) return d(boundsText('', r, (x) => nanosText(ruleNanos(x) ?? 0n)).trimStart());
  const ins = list(r['in']).map(ruleNanos);
  if (ins.length > 0 && !ins.includes(nanos)) return d(`in: [${ins.map((x) => nanosText(x ?? 0n)).join(', ')}]`);
  const outs = list(r['not_in']).map(ruleNanos);
  if (outs.includes(nanos)) return d(`not_in: [${outs.map((x) => nanosText(x ?? 0n)).join(', ')}]`);
  return undefined;
}

/** Timestamp rules other than those relative to now (lt_now/gt_now/within depend on when Envoy starts). */
export function checkTimestamp(nanos: bigint, r: Rules): Violation | undefined {
  const b: { -readonly [K in keyof Bounds]: Bounds[K] } = {};
  for (const k of ['lt', 'lte', 'gt', 'gte'] as const) {
    const x = ruleNanos(r[k]);
    if (x !== undefined) b[k] = x;
  }
  if (!inRange(nanos, b)) return violation('envoy-timestamp-rule', 'is out of range', boundsText('timestamp', r, (x) => nanosText(ruleNanos(x) ?? 0n)));
  return undefined;
}

// ---- repeated and maps -----------------------------------------------------------------------------------------

export function checkRepeatedCount(count: number, r: Rules): Violation | undefined {
  if (r['ignore_empty'] === true && count === 0) return undefined;
  const min = r['min_items'] === undefined ? undefined : Number(r['min_items']);
  const max = r['max_items'] === undefined ? undefined : Number(r['max_items']);
  const has = count === 0 ? 'is empty' : `has ${count} item${count === 1 ? '' : 's'}`;
  if (min !== undefined && count < min) return violation('envoy-repeated-rule', has, max !== undefined ? `repeated min_items: ${min}, max_items: ${max}` : `repeated min_items: ${min}`);
  if (max !== undefined && count > max) return violation('envoy-repeated-rule', has, min !== undefined ? `repeated min_items: ${min}, max_items: ${max}` : `repeated max_items: ${max}`);
  return undefined;
}

export function checkMapCount(count: number, r: Rules): Violation | undefined {
  if (r['ignore_empty'] === true && count === 0) return undefined;
  const min = r['min_pairs'] === undefined ? undefined : Number(r['min_pairs']);
  const max = r['max_pairs'] === undefined ? undefined : Number(r['max_pairs']);
  const has = count === 0 ? 'is empty' : `has ${count} entr${count === 1 ? 'y' : 'ies'}`;
  if (min !== undefined && count < min) return violation('envoy-map-rule', has, `map min_pairs: ${min}`);
  if (max !== undefined && count > max) return violation('envoy-map-rule', has, `map max_pairs: ${max}`);
  return undefined;
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
