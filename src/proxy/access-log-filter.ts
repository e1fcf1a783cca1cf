/**
 * Access-log filters (config.accesslog.v3.AccessLogFilter) compiled once per config into predicates over a finished
 * request. The ones meshctl can decide are built with Envoy's semantics (docs: access_log filters; source:
 * source/common/access_log/access_log_impl.cc); any other kind is refused at start-up, since logging every request
 * instead would be silently wrong.
 * - status_code_filter / duration_filter: `comparison` (EQ, GE, LE; NE where Envoy has it) against the response code
 *   or the duration in ms; the value is a RuntimeUInt32 whose `default_value` is used (meshctl has no runtime layer);
 * - not_health_check_filter: the request is not one the health_check filter answered;
 * - response_flag_filter: any response flag set (no `flags`), or any of the listed ones;
 * - header_filter: a HeaderMatcher on the request headers;
 * - and_filter / or_filter: every / any of `filters`;
 * - runtime_filter: `percent_sampled` (its static default; 0% when absent). Unless `use_independent_randomness`, the
 *   decision follows the x-request-id (Envoy's UUID extension: the id's leading 8 hex digits modulo the denominator),
 *   so every log of one request agrees; without an id, or with independent randomness, a random draw.
 */
import type { HeaderMatcher } from '../config/model.js';
import type { JsonObject, JsonValue } from '../config/json-value.js';
import { compileHeaderMatcher, type CompileProblem } from '../router/matchers.js';
import type { AccessLogFacts } from './access-log.js';
import { requestHeaderOf } from './access-log-formatter.js';
import { FLAG, type ResponseFlag } from './local-reply.js';

export type LogFilter = (f: AccessLogFacts, elapsed: number) => boolean;

/** A filter meshctl cannot apply, or a malformed one: the message names the field. */
export class FilterError extends Error {}

/** Envoy's response flag names (short form, as response_flag_filter lists them), all of them; those meshctl never
 * sets simply never match. */
const ENVOY_FLAGS = new Set([
  'LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE',
  'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR',
]);

function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

/** ComparisonFilter: op (EQ default) against value.default_value. */
function comparison(v: JsonValue | undefined, what: string): (n: number) => boolean {
  const c = obj(v);
  if (c === undefined) throw new FilterError(`${what}.comparison is required`);
  const value = obj(c.value);
  const want = Number(value?.default_value ?? 0);
  if (!Number.isFinite(want)) throw new FilterError(`${what}.comparison.value.default_value is not a number`);
  switch (c.op ?? 'EQ') {
    case 'EQ':
    case 0:
      return (n) => n === want;
    case 'GE':
    case 1:
      return (n) => n >= want;
    case 'LE':
    case 2:
      return (n) => n <= want;
    case 'NE':
    case 3:
      return (n) => n !== want;
    default:
      throw new FilterError(`${what}.comparison.op ${JSON.stringify(c.op)} is not EQ, GE, LE or NE`);
  }
}

const DENOMINATORS: Readonly<Record<string, number>> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

function runtimeFilter(r: JsonObject): LogFilter {
  const pct = obj(r.percent_sampled);
  const numerator = Number(pct?.numerator ?? 0);
  const den = pct?.denominator ?? 'HUNDRED';
  const denominator = typeof den === 'number' ? [100, 10_000, 1_000_000][den] : DENOMINATORS[String(den)];
  if (denominator === undefined) throw new FilterError(`runtime_filter.percent_sampled.denominator ${JSON.stringify(den)} is not HUNDRED, TEN_THOUSAND or MILLION`);
  const independent = r.use_independent_randomness === true;
  return (f) => {
    const id = independent ? undefined : requestHeaderOf(f, 'x-request-id');
    const hex = id === undefined ? NaN : parseInt(id.slice(0, 8), 16);
    const draw = Number.isNaN(hex) ? Math.floor(Math.random() * denominator) : hex % denominator;
    return draw < numerator;
  };
}

function responseFlagFilter(r: JsonObject): LogFilter {
  const list = Array.isArray(r.flags) ? r.flags : [];
  let mask = 0;
  for (const name of list) {
    if (typeof name !== 'string' || !ENVOY_FLAGS.has(name)) throw new FilterError(`response_flag_filter: ${JSON.stringify(name)} is not one of Envoy's response flags`);
    mask |= (FLAG as Readonly<Record<string, number>>)[name as ResponseFlag] ?? 0;
  }
  if (list.length === 0) return (f) => f.flags !== 0;
  return (f) => (f.flags & mask) !== 0;
}

export function compileLogFilter(v: JsonValue | undefined): LogFilter {
  const node = obj(v);
  if (node === undefined) throw new FilterError('filter is not an object');
  const keys = Object.keys(node);
  if (keys.length !== 1) throw new FilterError(`a filter has exactly one kind; this one has ${keys.length === 0 ? 'none' : keys.join(', ')}`);
  const kind = keys[0]!;
  const body = obj(node[kind]) ?? {};
  switch (kind) {
    case 'status_code_filter': {
      const test = comparison(body.comparison, kind);
      return (f) => test(f.status);
    }
    case 'duration_filter': {
      const test = comparison(body.comparison, kind);
      return (_f, elapsed) => test(Math.floor(elapsed));
    }
    case 'not_health_check_filter':
      // A request the health_check HTTP filter took for a health check (filters/health-check.ts).
      return (f) => !f.healthCheck;
    case 'response_flag_filter':
      return responseFlagFilter(body);
    case 'header_filter': {
      const problems: CompileProblem[] = [];
      const m = compileHeaderMatcher((obj(body.header) ?? {}) as HeaderMatcher, problems);
      if (problems.length > 0) throw new FilterError(`header_filter: ${problems[0]!.message}`);
      return (f) => m.test(requestHeaderOf(f, m.name));
    }
    case 'and_filter':
    case 'or_filter': {
      const list = (Array.isArray(body.filters) ? body.filters : []).map((x) => compileLogFilter(x));
      if (list.length < 2) throw new FilterError(`${kind} needs at least two filters`);
      return kind === 'and_filter' ? (f, e) => list.every((t) => t(f, e)) : (f, e) => list.some((t) => t(f, e));
    }
    case 'runtime_filter':
      return runtimeFilter(body);
    default:
      throw new FilterError(`the ${kind} access-log filter is not supported by meshctl run`);
  }
}
