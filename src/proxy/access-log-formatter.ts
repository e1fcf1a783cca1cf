/**
 * Envoy's access-log formats compiled once per config: a format string becomes a list of literal texts and value
 * getters (config/access-log-format.ts parses it), a format dictionary a tree of them, so a request costs only the
 * getters its format names. Semantics (Envoy docs, access_log/usage "Command Operators" and "Format Dictionaries"):
 * - text: a value that is not set prints `-` (with omit_empty_values, nothing); `:N` cuts a value to N characters;
 * - json_format: a value that is one operator alone keeps its type (numbers stay numbers, unset is null, or the key is
 *   left out with omit_empty_values); a value mixing text and operators is a string; nested dictionaries nest;
 * - START_TIME is UTC, `%START_TIME(fmt)%` takes strftime conversions plus `%f`/`%1f`…`%9f` (fractions of a second),
 *   `%E3S`-style seconds with a fraction, and `%s` (epoch seconds).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { parseFormat, type FormatCommand, type FormatPart } from '../config/access-log-format.js';
import type { JsonObject, JsonValue } from '../config/json-value.js';
import type { OutHeaders } from '../http/headers.js';
import type { AccessLogFacts } from './access-log.js';
import { formatFlags } from './local-reply.js';

/** A value an operator yields for one request; null is "not set". */
type Value = string | number | null;
/** `start` is the wall-clock start of the request (ms since the epoch), `elapsed` its duration (ms). */
type Getter = (f: AccessLogFacts, elapsed: number, start: number) => Value;

/** A compiled format: one log line (with its own newline for text; JSON lines get one). */
export type LogFormatter = (f: AccessLogFacts, elapsed: number, start: number) => string;

/** An operator meshctl run does not produce (Envoy knows it; validate accepts it): refused at start-up. */
export class UnsupportedOperator extends Error {}

function headerString(v: string | string[] | number | undefined): string | null {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

/** The downstream connection a request came on (the HTTP/2 session's socket for an HTTP/2 stream). */
function downSocket(f: AccessLogFacts): Partial<TLSSocket> | undefined {
  return f.socket as Partial<TLSSocket> | undefined;
}

/** A request header as the access log sees it: after the router's changes (the headers sent upstream) when the
 * request went there, else as received. HTTP/1.1's Host is :authority, as in Envoy's header map. */
function requestHeader(f: AccessLogFacts, name: string): string | null {
  const req = f.req;
  if (req === undefined) return null;
  switch (name) {
    case ':method':
      return req.method ?? null;
    case ':path':
      return f.sentPath ?? req.url ?? null;
    case ':authority':
    case 'host':
      return headerString(f.upstreamHeaders?.host) ?? headerString(f.h2 ? req.headers[':authority'] : req.headers.host);
    case ':scheme':
      return headerString(req.headers[':scheme']) ?? (downSocket(f)?.encrypted === true ? 'https' : 'http');
    default: {
      const up = f.upstreamHeaders?.[name];
      return up !== undefined ? headerString(up) : headerString(req.headers[name]);
    }
  }
}

/** `name` or `name?alternative` (Envoy's REQ/RESP/TRAILER argument), lower-cased once. */
function headerNames(arg: string): [string, string | undefined] {
  const [main, alt] = arg.split('?');
  return [main!.toLowerCase(), alt?.toLowerCase()];
}

function lookupGetter(arg: string, lookup: (f: AccessLogFacts, name: string) => string | null): Getter {
  const [main, alt] = headerNames(arg);
  if (alt === undefined) return (f) => lookup(f, main);
  return (f) => lookup(f, main) ?? lookup(f, alt);
}

function fromHeaders(h: OutHeaders | null | undefined, name: string): string | null {
  return h === undefined || h === null ? null : headerString(h[name]);
}

function hostPort(ip: string | undefined, port: number | undefined): string | null {
  if (ip === undefined || ip === '') return null;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${port}`;
}

/** Envoy's downstream connection id: one number per connection, counted from 1 in the order connections are first
 * logged (Envoy counts them as accepted; the numbers differ, the one-per-connection identity is the same). */
const connectionIds = new WeakMap<object, number>();
let nextConnectionId = 1;
function connectionId(f: AccessLogFacts): number | null {
  const s = f.socket;
  if (s === undefined || s === null) return null;
  let id = connectionIds.get(s);
  if (id === undefined) {
    id = nextConnectionId++;
    connectionIds.set(s, id);
  }
  return id;
}

/** grpc-status codes by number (gRPC's status names, as %GRPC_STATUS% prints them). */
const GRPC_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss',
  'Unauthenticated',
];

function grpcStatus(f: AccessLogFacts): number | null {
  const v = fromHeaders(f.responseTrailers, 'grpc-status') ?? fromHeaders(f.responseHeaders, 'grpc-status');
  if (v === null) return null;
  const n = Number(v);
  return Number.isInteger(n) ? n : null;
}

const HOSTNAME = hostname();

/** The getter of one operator. Throws UnsupportedOperator for one meshctl does not produce. */
function getterOf(c: FormatCommand): Getter {
  const arg = c.arg;
  switch (c.name) {
    case 'START_TIME': {
      const fmt = arg === undefined || arg === '' ? null : compileTimeFormat(arg);
      return fmt === null ? (_f, _e, start) => new Date(start).toISOString() : (_f, _e, start) => fmt(start);
    }
    case 'REQ':
    case 'REQUEST_HEADER':
      return lookupGetter(arg!, requestHeader);
    case 'RESP':
    case 'RESPONSE_HEADER':
      return lookupGetter(arg!, (f, name) => (name === ':status' ? (f.status > 0 ? String(f.status) : null) : fromHeaders(f.responseHeaders, name)));
    case 'TRAILER':
    case 'RESPONSE_TRAILER':
      return lookupGetter(arg!, (f, name) => fromHeaders(f.responseTrailers, name));
    case 'PROTOCOL':
      return (f) => (f.req === undefined ? null : f.h2 ? 'HTTP/2' : `HTTP/${f.req.httpVersion}`);
    case 'RESPONSE_CODE':
      return (f) => f.status;
    case 'RESPONSE_CODE_DETAILS':
      return (f) => f.details || null;
    case 'RESPONSE_FLAGS':
      return (f) => formatFlags(f.flags);
    case 'BYTES_RECEIVED':
      return (f) => f.bytesReceived;
    case 'BYTES_SENT':
      return (f) => f.bytesSent;
    // Envoy prints durations as whole milliseconds, truncated.
    case 'DURATION':
      return (_f, elapsed) => Math.floor(elapsed);
    case 'REQUEST_DURATION':
      return (f) => (f.requestDoneMs >= 0 ? Math.floor(f.requestDoneMs) : null);
    case 'RESPONSE_DURATION':
      return (f) => (f.firstByteMs >= 0 ? Math.floor(f.firstByteMs) : null);
    case 'UPSTREAM_HOST':
    case 'UPSTREAM_REMOTE_ADDRESS':
      return (f) => f.upstreamHost || null;
    // Envoy: UPSTREAM_CLUSTER is the observability name (alt_stat_name when set), UPSTREAM_CLUSTER_RAW the name itself.
    case 'UPSTREAM_CLUSTER':
      return (f) => f.clusterObservabilityName ?? null;
    case 'UPSTREAM_CLUSTER_RAW':
      return (f) => f.clusterName ?? null;
    case 'UPSTREAM_LOCAL_ADDRESS':
      return (f) => f.upstreamLocal || null;
    case 'UPSTREAM_TRANSPORT_FAILURE_REASON':
      return (f) => f.transportFailure || null;
    case 'UPSTREAM_REQUEST_ATTEMPT_COUNT':
      return (f) => f.attempts;
    case 'DOWNSTREAM_REMOTE_ADDRESS':
    case 'DOWNSTREAM_DIRECT_REMOTE_ADDRESS':
      return (f) => hostPort(f.socket?.remoteAddress, f.socket?.remotePort);
    case 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT':
    case 'DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT':
      return (f) => f.socket?.remoteAddress ?? null;
    case 'DOWNSTREAM_REMOTE_PORT':
    case 'DOWNSTREAM_DIRECT_REMOTE_PORT':
      return (f) => f.socket?.remotePort ?? null;
    case 'DOWNSTREAM_LOCAL_ADDRESS':
    case 'DOWNSTREAM_DIRECT_LOCAL_ADDRESS':
      return (f) => hostPort(f.socket?.localAddress, f.socket?.localPort);
    case 'DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT':
    case 'DOWNSTREAM_DIRECT_LOCAL_ADDRESS_WITHOUT_PORT':
      return (f) => f.socket?.localAddress ?? null;
    case 'DOWNSTREAM_LOCAL_PORT':
    case 'DOWNSTREAM_DIRECT_LOCAL_PORT':
      return (f) => f.socket?.localPort ?? null;
    case 'ROUTE_NAME':
      return (f) => f.routeName || null;
    case 'HOSTNAME':
      return () => HOSTNAME;
    case 'REQUESTED_SERVER_NAME':
      return (f) => {
        const sni = downSocket(f)?.servername;
        return typeof sni === 'string' && sni !== '' ? sni : null;
      };
    case 'DOWNSTREAM_TLS_VERSION':
      return (f) => {
        const s = downSocket(f);
        return s?.encrypted === true ? (s.getProtocol?.() ?? null) : null;
      };
    case 'CONNECTION_ID':
      return connectionId;
    case 'STREAM_ID':
      // Envoy's stream id is the request's x-request-id under the (default) UUID request-id extension.
      return (f) => requestHeader(f, 'x-request-id');
    case 'UNIQUE_ID':
      return () => randomUUID();
    case 'GRPC_STATUS_NUMBER':
      return grpcStatus;
    case 'GRPC_STATUS':
      return (f) => {
        const n = grpcStatus(f);
        return n === null ? null : (GRPC_NAMES[n] ?? String(n));
      };
    case 'ENVIRONMENT': {
      // Envoy reads the variable when the format is built.
      const v = process.env[arg!];
      return () => v ?? null;
    }
    default:
      throw new UnsupportedOperator(`%${c.name}%`);
  }
}

/** A getter cut to `:N` characters (strings only: numbers keep their type). */
function withMaxLength(g: Getter, max: number | undefined): Getter {
  if (max === undefined) return g;
  return (f, e, s) => {
    const v = g(f, e, s);
    return typeof v === 'string' && v.length > max ? v.slice(0, max) : v;
  };
}

type Piece = string | Getter;

function compilePieces(text: string): Piece[] {
  return parseFormat(text).map((p: FormatPart) => (typeof p === 'string' ? p : withMaxLength(getterOf(p), p.maxLength)));
}

/** A text format: literal pieces and values, `-` (or '' with omit_empty_values) for a value not set. */
export function compileTextFormat(text: string, omitEmpty: boolean): LogFormatter {
  const pieces = compilePieces(text);
  const unset = omitEmpty ? '' : '-';
  return (f, elapsed, start) => {
    let out = '';
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (typeof p === 'string') out += p;
      else {
        const v = p(f, elapsed, start);
        out += v === null || v === '' ? unset : v;
      }
    }
    return out;
  };
}

/** One value of a format dictionary: an operator alone keeps its type; anything else is text. */
type JsonNode = { kind: 'typed'; get: Getter } | { kind: 'text'; pieces: Piece[] } | { kind: 'literal'; value: JsonValue } | { kind: 'object'; fields: [string, JsonNode][] };

function compileJsonNode(v: JsonValue): JsonNode {
  if (typeof v === 'string') {
    const pieces = compilePieces(v);
    if (pieces.length === 1 && typeof pieces[0] !== 'string') return { kind: 'typed', get: pieces[0]! };
    return { kind: 'text', pieces };
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return { kind: 'object', fields: Object.entries(v).map(([k, x]) => [k, compileJsonNode(x)]) };
  return { kind: 'literal', value: v };
}

function renderJson(node: JsonNode, f: AccessLogFacts, elapsed: number, start: number, omitEmpty: boolean): JsonValue | undefined {
  switch (node.kind) {
    case 'typed': {
      const v = node.get(f, elapsed, start);
      if (v === null || v === '') return omitEmpty ? undefined : null;
      return v;
    }
    case 'text': {
      let out = '';
      for (const p of node.pieces) {
        if (typeof p === 'string') out += p;
        else {
          const v = p(f, elapsed, start);
          out += v === null || v === '' ? (omitEmpty ? '' : '-') : v;
        }
      }
      return out;
    }
    case 'literal':
      return node.value;
    case 'object': {
      const o: JsonObject = {};
      for (const [k, child] of node.fields) {
        const v = renderJson(child, f, elapsed, start, omitEmpty);
        if (v !== undefined) o[k] = v;
      }
      return o;
    }
  }
}

/** A format dictionary: one JSON object per line. */
export function compileJsonFormat(json: JsonObject, omitEmpty: boolean): LogFormatter {
  const root = compileJsonNode(json);
  return (f, elapsed, start) => JSON.stringify(renderJson(root, f, elapsed, start, omitEmpty)) + '\n';
}

// ---- START_TIME(format) ----

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function pad(n: number, w = 2, c = '0'): string {
  return String(n).padStart(w, c);
}

/** Fraction of a second to `digits` places (ms precision; finer places are zeros). `ms` may carry a fraction of a
 * millisecond (a start time taken from the monotonic clock): it is truncated, as Envoy truncates to the place asked. */
function fraction(ms: number, digits: number): string {
  const whole = Math.floor(ms);
  return (pad(((whole % 1000) + 1000) % 1000, 3) + '000000').slice(0, digits);
}

type TimePiece = string | ((d: Date, ms: number) => string);

/**
 * A strftime-style format (UTC) compiled to pieces. Envoy formats START_TIME with absl's FormatTime plus its own
 * `%f`/`%Nf` (fractional seconds) and `%s`; the conversions below are those of strftime and absl.
 */
function compileTimeFormat(fmt: string): (ms: number) => string {
  const pieces: TimePiece[] = [];
  let lit = '';
  const push = (p: TimePiece): void => {
    if (lit !== '') pieces.push(lit);
    lit = '';
    pieces.push(p);
  };
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch !== '%' || i + 1 >= fmt.length) {
      lit += ch;
      continue;
    }
    const c = fmt[++i]!;
    // %1f … %9f: that many digits of the fraction; %E3S / %E*S: seconds with a fraction; %Ez: +hh:mm.
    if (c >= '1' && c <= '9' && fmt[i + 1] === 'f') {
      const n = Number(c);
      i++;
      push((_d, ms) => fraction(ms, n));
      continue;
    }
    if (c === 'E') {
      const n = fmt[i + 1];
      if (n === 'z') {
        i++;
        push(() => '+00:00');
        continue;
      }
      if (n !== undefined && (n === '*' || (n >= '0' && n <= '9')) && fmt[i + 2] === 'S') {
        const digits = n === '*' ? 3 : Number(n);
        i += 2;
        push((d, ms) => pad(d.getUTCSeconds()) + (digits > 0 ? '.' + fraction(ms, digits) : ''));
        continue;
      }
    }
    switch (c) {
      case 'Y': push((d) => String(d.getUTCFullYear())); break;
      case 'y': push((d) => pad(d.getUTCFullYear() % 100)); break;
      case 'm': push((d) => pad(d.getUTCMonth() + 1)); break;
      case 'd': push((d) => pad(d.getUTCDate())); break;
      case 'e': push((d) => pad(d.getUTCDate(), 2, ' ')); break;
      case 'H': push((d) => pad(d.getUTCHours())); break;
      case 'I': push((d) => pad(((d.getUTCHours() + 11) % 12) + 1)); break;
      case 'p': push((d) => (d.getUTCHours() < 12 ? 'AM' : 'PM')); break;
      case 'M': push((d) => pad(d.getUTCMinutes())); break;
      case 'S': push((d) => pad(d.getUTCSeconds())); break;
      case 'f': push((_d, ms) => fraction(ms, 9)); break;
      case 's': push((_d, ms) => String(Math.floor(ms / 1000))); break;
      case 'j': push((d) => pad(Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3)); break;
      case 'a': push((d) => DAYS[d.getUTCDay()]!.slice(0, 3)); break;
      case 'A': push((d) => DAYS[d.getUTCDay()]!); break;
      case 'b': case 'h': push((d) => MONTHS[d.getUTCMonth()]!.slice(0, 3)); break;
      case 'B': push((d) => MONTHS[d.getUTCMonth()]!); break;
      case 'u': push((d) => String(d.getUTCDay() === 0 ? 7 : d.getUTCDay())); break;
      case 'w': push((d) => String(d.getUTCDay())); break;
      case 'Z': push(() => 'UTC'); break;
      case 'z': push(() => '+0000'); break;
      case 'F': push((d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`); break;
      case 'T': push((d) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`); break;
      case 'R': push((d) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`); break;
      case 'D': push((d) => `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCFullYear() % 100)}`); break;
      case 'n': lit += '\n'; break;
      case 't': lit += '\t'; break;
      case '%': lit += '%'; break;
      default:
        // Not a conversion: kept as written.
        lit += '%' + c;
    }
  }
  if (lit !== '') pieces.push(lit);
  return (ms) => {
    const d = new Date(ms);
    let out = '';
    for (const p of pieces) out += typeof p === 'string' ? p : p(d, ms);
    return out;
  };
}

/** Envoy's `:status`-less request view for filters: a request header by lower-case name (pseudo-headers included). */
export function requestHeaderOf(f: AccessLogFacts, name: string): string | undefined {
  return requestHeader(f, name) ?? undefined;
}

