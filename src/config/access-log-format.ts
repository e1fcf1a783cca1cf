/**
 * Envoy's access-log format strings (`%COMMAND(arg):len%` command operators between literal text), parsed into a
 * list of parts once per config: `validate` refuses what Envoy refuses (a `%` that starts no command, an unknown
 * operator, a missing or stray argument), and `run` compiles the parts into its formatter.
 *
 * Envoy's rules (docs: configuration/observability/access_log/usage, "Command Operators"; source:
 * source/common/formatter/substitution_format_utility and the command parsers): a command is
 * `%NAME%`, `%NAME(arg)%` or `%NAME(arg):N%` with NAME made of A–Z, 0–9 and `_`; any `%` that does not begin one is a
 * configuration error; an operator Envoy does not know is an error ("Not supported field in StreamInfo").
 */

import type { Listener } from './model.js';
import type { JsonObject, JsonValue } from './json-value.js';
import { writtenField } from './node-meta.js';

export interface FormatCommand {
  /** Upper-case operator name, aliases kept as written (REQUEST_HEADER, REQ). */
  readonly name: string;
  /** The text between the parentheses, undefined without them. */
  readonly arg: string | undefined;
  /** `:N` after the command: values are cut to N characters. */
  readonly maxLength: number | undefined;
}

/** A literal run of text, or a command operator. */
export type FormatPart = string | FormatCommand;

/** A format string Envoy would refuse; `offset` is where in the string. */
export class FormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'FormatError';
  }
}

/** Envoy's default access-log format (docs: "Default Format String"). */
const DEFAULT_ACCESS_LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" ' +
  '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/** How an operator takes its argument: none, optional, or required (Envoy's CommandSyntaxChecker flags). */
type ArgRule = 'none' | 'optional' | 'required';

/** Operators whose argument Envoy requires (header and metadata lookups). */
const REQUIRED_ARG = new Set([
  'REQ', 'RESP', 'TRAILER', 'REQUEST_HEADER', 'RESPONSE_HEADER', 'RESPONSE_TRAILER', 'DYNAMIC_METADATA', 'CLUSTER_METADATA',
  'UPSTREAM_METADATA', 'FILTER_STATE', 'UPSTREAM_FILTER_STATE', 'ENVIRONMENT', 'QUERY_PARAM',
]);
/** Operators with an optional argument (a time format, a path option, a SAN index…). */
const OPTIONAL_ARG = new Set([
  'START_TIME', 'START_TIME_LOCAL', 'EMIT_TIME', 'EMIT_TIME_LOCAL', 'DOWNSTREAM_PEER_CERT_V_START', 'DOWNSTREAM_PEER_CERT_V_END',
  'UPSTREAM_PEER_CERT_V_START', 'UPSTREAM_PEER_CERT_V_END', 'PATH', 'TRACE_ID', 'GRPC_STATUS', 'ACCESS_LOG_TYPE',
  'DOWNSTREAM_PEER_URI_SAN', 'DOWNSTREAM_PEER_DNS_SAN', 'DOWNSTREAM_PEER_IP_SAN', 'DOWNSTREAM_PEER_EMAIL_SAN',
  'DOWNSTREAM_PEER_OTHERNAME_SAN', 'DOWNSTREAM_LOCAL_URI_SAN', 'DOWNSTREAM_LOCAL_DNS_SAN', 'DOWNSTREAM_LOCAL_IP_SAN',
  'DOWNSTREAM_LOCAL_EMAIL_SAN', 'DOWNSTREAM_LOCAL_OTHERNAME_SAN', 'UPSTREAM_PEER_URI_SAN', 'UPSTREAM_PEER_DNS_SAN',
  'UPSTREAM_PEER_IP_SAN', 'UPSTREAM_PEER_EMAIL_SAN', 'UPSTREAM_PEER_OTHERNAME_SAN', 'UPSTREAM_LOCAL_URI_SAN',
  'UPSTREAM_LOCAL_DNS_SAN', 'UPSTREAM_LOCAL_IP_SAN', 'UPSTREAM_LOCAL_EMAIL_SAN', 'UPSTREAM_LOCAL_OTHERNAME_SAN',
]);
/** Every other built-in operator of Envoy's substitution formatter (no argument). */
const NO_ARG = new Set([
  'REQUEST_HEADERS_BYTES', 'RESPONSE_HEADERS_BYTES', 'RESPONSE_TRAILERS_BYTES', 'BYTES_RECEIVED', 'BYTES_SENT',
  'BYTES_RETRANSMITTED', 'PACKETS_RETRANSMITTED', 'UPSTREAM_WIRE_BYTES_RECEIVED', 'UPSTREAM_HEADER_BYTES_RECEIVED',
  'DOWNSTREAM_WIRE_BYTES_RECEIVED', 'DOWNSTREAM_HEADER_BYTES_RECEIVED', 'UPSTREAM_WIRE_BYTES_SENT',
  'UPSTREAM_HEADER_BYTES_SENT', 'DOWNSTREAM_WIRE_BYTES_SENT', 'DOWNSTREAM_HEADER_BYTES_SENT', 'PROTOCOL',
  'UPSTREAM_PROTOCOL', 'RESPONSE_CODE', 'RESPONSE_CODE_DETAILS', 'CONNECTION_TERMINATION_DETAILS', 'DURATION',
  'REQUEST_DURATION', 'REQUEST_TX_DURATION', 'RESPONSE_DURATION', 'RESPONSE_TX_DURATION', 'DOWNSTREAM_HANDSHAKE_DURATION',
  'ROUNDTRIP_DURATION', 'UPSTREAM_CONNECTION_POOL_READY_DURATION', 'RESPONSE_FLAGS', 'RESPONSE_FLAGS_LONG', 'UPSTREAM_HOST',
  'UPSTREAM_HOST_NAME', 'UPSTREAM_HOST_NAME_WITHOUT_PORT', 'UPSTREAM_CLUSTER', 'UPSTREAM_CLUSTER_RAW',
  'UPSTREAM_LOCAL_ADDRESS', 'UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT', 'UPSTREAM_LOCAL_PORT', 'UPSTREAM_REMOTE_ADDRESS',
  'UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT', 'UPSTREAM_REMOTE_PORT', 'UPSTREAM_REQUEST_ATTEMPT_COUNT',
  'UPSTREAM_TLS_CIPHER', 'UPSTREAM_TLS_VERSION', 'UPSTREAM_TLS_SESSION_ID', 'UPSTREAM_PEER_ISSUER', 'UPSTREAM_PEER_CERT',
  'UPSTREAM_PEER_SUBJECT', 'UPSTREAM_LOCAL_SUBJECT', 'UPSTREAM_TRANSPORT_FAILURE_REASON', 'UPSTREAM_CONNECTION_ID',
  'UPSTREAM_DETECTED_CLOSE_TYPE', 'DOWNSTREAM_LOCAL_ADDRESS', 'DOWNSTREAM_DIRECT_LOCAL_ADDRESS',
  'DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT', 'DOWNSTREAM_DIRECT_LOCAL_ADDRESS_WITHOUT_PORT', 'DOWNSTREAM_LOCAL_PORT',
  'DOWNSTREAM_DIRECT_LOCAL_PORT', 'DOWNSTREAM_REMOTE_ADDRESS', 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT',
  'DOWNSTREAM_REMOTE_PORT', 'DOWNSTREAM_DIRECT_REMOTE_ADDRESS', 'DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT',
  'DOWNSTREAM_DIRECT_REMOTE_PORT', 'DOWNSTREAM_TRANSPORT_FAILURE_REASON', 'DOWNSTREAM_DETECTED_CLOSE_TYPE',
  'CONNECTION_ID', 'GRPC_STATUS_NUMBER', 'HOSTNAME', 'LOCAL_REPLY_BODY', 'FILTER_CHAIN_NAME', 'VIRTUAL_CLUSTER_NAME',
  'TLS_JA3_FINGERPRINT', 'TLS_JA4_FINGERPRINT', 'UNIQUE_ID', 'STREAM_ID', 'ROUTE_NAME', 'REQUESTED_SERVER_NAME',
  'DOWNSTREAM_PEER_SUBJECT', 'DOWNSTREAM_LOCAL_SUBJECT', 'DOWNSTREAM_TLS_SESSION_ID', 'DOWNSTREAM_TLS_CIPHER',
  'DOWNSTREAM_TLS_VERSION', 'DOWNSTREAM_PEER_FINGERPRINT_256', 'DOWNSTREAM_PEER_FINGERPRINT_1', 'DOWNSTREAM_PEER_SERIAL',
  'DOWNSTREAM_PEER_ISSUER', 'DOWNSTREAM_PEER_CERT', 'DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256',
  'DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1', 'DOWNSTREAM_PEER_CHAIN_SERIALS', 'UPSTREAM_PEER_FINGERPRINT_256',
  'UPSTREAM_PEER_FINGERPRINT_1', 'UPSTREAM_PEER_SERIAL', 'UPSTREAM_PEER_CHAIN_FINGERPRINTS_256',
  'UPSTREAM_PEER_CHAIN_FINGERPRINTS_1', 'UPSTREAM_PEER_CHAIN_SERIALS', 'CUSTOM_FLAGS', 'COMMON_DURATION',
]);

function argRule(name: string): ArgRule | undefined {
  if (NO_ARG.has(name)) return 'none';
  if (REQUIRED_ARG.has(name)) return 'required';
  if (OPTIONAL_ARG.has(name)) return 'optional';
  return undefined;
}

/** Where a length (`:N`) is allowed: Envoy accepts it on the header, metadata and filter-state lookups. */
const LENGTH_ALLOWED = new Set([...REQUIRED_ARG, 'TRACE_ID', 'PATH']);

/** `%NAME(arg):N%` at the start of the rest of the string (Envoy's command regex). */
const COMMAND = /^%([A-Z0-9_]+)(\([^)]*\))?(:[0-9]+)?%/;

/**
 * The parts of a format string, literal runs merged. Throws FormatError for what Envoy refuses at config load.
 */
export function parseFormat(text: string): FormatPart[] {
  const parts: FormatPart[] = [];
  let literal = '';
  for (let i = 0; i < text.length; ) {
    const ch = text[i]!;
    if (ch !== '%') {
      literal += ch;
      i++;
      continue;
    }
    const m = COMMAND.exec(text.slice(i));
    if (m === null) throw new FormatError(`no valid command operator at position ${i} ("${text.slice(i, i + 24)}")`, i);
    const name = m[1]!;
    const arg = m[2] === undefined ? undefined : m[2].slice(1, -1);
    const maxLength = m[3] === undefined ? undefined : Number(m[3].slice(1));
    const rule = argRule(name);
    if (rule === undefined) throw new FormatError(`unknown command operator %${name}% (Envoy refuses it: not a supported field)`, i);
    if (rule === 'none' && arg !== undefined) throw new FormatError(`%${name}% takes no argument`, i);
    if (rule === 'required' && (arg === undefined || arg === '')) throw new FormatError(`%${name}% needs an argument, as in %${name}(x-example)%`, i);
    if (maxLength !== undefined && !LENGTH_ALLOWED.has(name)) throw new FormatError(`%${name}% takes no length (:${maxLength})`, i);
    if (rule === 'required' && (name === 'REQ' || name === 'RESP' || name === 'TRAILER' || name.endsWith('_HEADER') || name === 'RESPONSE_TRAILER')) {
      // Envoy: at most one alternative (`main?alt`), and neither side empty.
      const alts = arg!.split('?');
      if (alts.length > 2 || alts.some((a) => a === '')) throw new FormatError(`%${name}(${arg})%: a header lookup is \`name\` or \`name?alternative\``, i);
    }
    if (literal !== '') {
      parts.push(literal);
      literal = '';
    }
    parts.push({ name, arg, maxLength });
    i += m[0].length;
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

/** How an access log entry formats its lines (SubstitutionFormatString, or FileAccessLog's deprecated fields). */
interface LogFormatSpec {
  readonly kind: 'text' | 'json';
  /** kind text: the format string, when given inline (`text_format`, `format`, `text_format_source.inline_string`). */
  readonly text: string | undefined;
  /** kind text: `text_format_source` as a file or bytes (read by `run`, relative to the config's directory). */
  readonly source: { filename?: string; inline_bytes?: string } | undefined;
  /** kind json: the format dictionary (values are format strings or nested dictionaries). */
  readonly json: JsonObject | undefined;
  readonly omitEmpty: boolean;
  /** log_format.formatters: extension command operators (CEL, METADATA, REQ_WITHOUT_QUERY…) this format may use. */
  readonly formatters: number;
}

function objectOf(v: JsonValue | undefined): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

/**
 * The format of one access-log entry's typed_config: `log_format` (text_format_source, text_format, json_format,
 * omit_empty_values), else FileAccessLog's deprecated `format` / `json_format` / `typed_json_format`, else Envoy's
 * default format.
 */
export function logFormatOf(typedConfig: JsonObject | undefined): LogFormatSpec {
  const lf = objectOf(typedConfig?.log_format);
  const omitEmpty = lf?.omit_empty_values === true;
  const formatters = Array.isArray(lf?.formatters) ? lf.formatters.length : 0;
  const text = (t: string | undefined, source?: LogFormatSpec['source']): LogFormatSpec => ({ kind: 'text', text: t, source, json: undefined, omitEmpty, formatters });
  if (lf !== undefined) {
    const src = objectOf(lf.text_format_source);
    if (src !== undefined) {
      if (typeof src.inline_string === 'string') return text(src.inline_string);
      return text(undefined, {
        ...(typeof src.filename === 'string' ? { filename: src.filename } : {}),
        ...(typeof src.inline_bytes === 'string' ? { inline_bytes: src.inline_bytes } : {}),
      });
    }
    if (typeof lf.text_format === 'string') return text(lf.text_format);
    const json = objectOf(lf.json_format);
    if (json !== undefined) return { kind: 'json', text: undefined, source: undefined, json, omitEmpty, formatters };
  }
  if (typeof typedConfig?.format === 'string') return text(typedConfig.format);
  const json = objectOf(typedConfig?.json_format) ?? objectOf(typedConfig?.typed_json_format);
  if (json !== undefined) return { kind: 'json', text: undefined, source: undefined, json, omitEmpty: false, formatters: 0 };
  return text(DEFAULT_ACCESS_LOG_FORMAT);
}

/** Every format string of a json format dictionary (nested dictionaries included), keyed by its dotted path. */
export function jsonFormatStrings(json: JsonObject, path = ''): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const [k, v] of Object.entries(json)) {
    const at = path === '' ? k : `${path}.${k}`;
    if (typeof v === 'string') out.push({ path: at, text: v });
    else {
      const o = objectOf(v);
      if (o !== undefined) out.push(...jsonFormatStrings(o, at));
    }
  }
  return out;
}

/** A listener's own access_log entries (Envoy logs them once per downstream connection; the connection manager's
 * are logged once per request). The model keeps them verbatim. */
export function listenerAccessLogs(listener: Listener): JsonObject[] {
  const own = writtenField(listener, 'access_log');
  if (!Array.isArray(own)) return [];
  const out: JsonObject[] = [];
  for (const e of own) {
    const o = objectOf(e);
    if (o !== undefined) out.push(o);
  }
  return out;
}
