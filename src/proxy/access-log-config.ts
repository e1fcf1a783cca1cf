/**
 * The config's Envoy access logs, built once per config before anything binds: each `access_log` entry of a
 * connection manager (one line per request) and of a listener (one line per downstream connection, as Envoy logs a
 * listener's own access log when a connection closes) becomes a logger: its filter, its compiled format, its sink.
 * What meshctl run cannot do as Envoy would is refused here with the place in the config (file:line:column): another
 * logger type (gRPC, OpenTelemetry, fluentd, wasm…), a filter kind meshctl cannot decide, an operator Envoy knows
 * that meshctl does not produce, a log file that cannot be opened.
 */
import type { Socket } from 'node:net';
import type { Bootstrap, DataSource, Listener } from '../config/model.js';
import { spanOf } from '../config/node-meta.js';
import { connectionManager } from '../config/connection-manager.js';
import { FormatError, listenerAccessLogs, logFormatOf } from '../config/access-log-format.js';
import type { JsonObject, JsonValue } from '../config/json-value.js';
import { readDataSource } from '../config/data-source.js';
import { UsageError } from '../config/usage-error.js';
import { fileSink, stderrLogSink, stdoutLogSink, type AccessLogFacts, type DownstreamConnection, type LogSink } from './access-log.js';
import { compileJsonFormat, compileTextFormat, UnsupportedOperator, type LogFormatter } from './access-log-formatter.js';
import { compileLogFilter, FilterError, type LogFilter } from './access-log-filter.js';

interface Logger {
  readonly filter: LogFilter | null;
  readonly format: LogFormatter;
  readonly sink: LogSink;
}

/** A listener's compiled access logs. */
export class AccessLogs {
  constructor(private readonly loggers: readonly Logger[]) {}

  /** Logs one finished request (or closed connection) that took `elapsed` ms. */
  log(f: AccessLogFacts, elapsed: number): void {
    const start = Date.now() - elapsed;
    for (const l of this.loggers) {
      if (l.filter !== null && !l.filter(f, elapsed)) continue;
      l.sink.write(l.format(f, elapsed, start));
    }
  }
}

/** A listener's request logs (its connection manager's) and connection logs (its own); null where it has none. */
export interface ListenerAccessLogs {
  readonly requests: AccessLogs | null;
  readonly connections: AccessLogs | null;
}

const FILE_TYPE = 'envoy.extensions.access_loggers.file.v3.FileAccessLog';
const STDOUT_TYPE = 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
const STDERR_TYPE = 'envoy.extensions.access_loggers.stream.v3.StderrAccessLog';

/** Envoy picks the logger by its typed_config's type URL; the name is only a label (legacy configs have no type). */
function loggerType(entry: JsonObject, tc: JsonObject | undefined): 'file' | 'stdout' | 'stderr' | string {
  const url = typeof tc?.['@type'] === 'string' ? tc['@type'] : undefined;
  const type = url?.slice(url.lastIndexOf('/') + 1);
  if (type === FILE_TYPE || (type === undefined && (entry.name === 'envoy.access_loggers.file' || entry.name === 'envoy.file_access_log'))) return 'file';
  if (type === STDOUT_TYPE || (type === undefined && entry.name === 'envoy.access_loggers.stdout')) return 'stdout';
  if (type === STDERR_TYPE || (type === undefined && entry.name === 'envoy.access_loggers.stderr')) return 'stderr';
  return type ?? String(entry.name ?? 'an unnamed logger');
}

function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

function compileLogger(entry: JsonObject, baseDir: string, where: string): Logger {
  const tc = obj(entry.typed_config);
  const type = loggerType(entry, tc);
  if (type !== 'file' && type !== 'stdout' && type !== 'stderr') {
    throw new UsageError(`${where}access logger ${type} is not supported by meshctl run (it writes file, stdout and stderr access logs)`);
  }
  let format: LogFormatter;
  const spec = logFormatOf(tc);
  if (spec.formatters > 0) throw new UsageError(`${where}access log format: formatter extensions (log_format.formatters) are not supported by meshctl run`);
  try {
    if (spec.kind === 'json') format = compileJsonFormat(spec.json!, spec.omitEmpty);
    else {
      const text = spec.text ?? readDataSource(spec.source as DataSource, baseDir, 'access log text_format_source')?.toString('utf8') ?? '';
      format = compileTextFormat(text, spec.omitEmpty);
    }
  } catch (err) {
    if (err instanceof UnsupportedOperator) throw new UsageError(`${where}access log format: command operator ${err.message} is not produced by meshctl run`);
    if (err instanceof FormatError) throw new UsageError(`${where}access log format: ${err.message}`);
    throw err;
  }
  let filter: LogFilter | null = null;
  if (entry.filter !== undefined) {
    try {
      filter = compileLogFilter(entry.filter);
    } catch (err) {
      if (err instanceof FilterError) throw new UsageError(`${where}access log filter: ${err.message}`);
      throw err;
    }
  }
  let sink: LogSink;
  if (type === 'file') {
    const path = tc?.path;
    if (typeof path !== 'string' || path === '') throw new UsageError(`${where}a file access log needs a path`);
    try {
      sink = fileSink(path);
    } catch (err) {
      throw new UsageError(`${where}access log ${path} cannot be opened: ${(err as Error).message}`);
    }
  } else sink = type === 'stdout' ? stdoutLogSink() : stderrLogSink();
  return { filter, format, sink };
}

function whereOf(node: object, field: string, index?: number): string {
  const s = spanOf(node, field, index);
  return s === undefined ? '' : `${s.file}:${s.line}:${s.column}: `;
}

/** Every listener's access logs (listeners without any are absent). Throws UsageError for what run cannot log. */
export function compileAccessLogs(config: Bootstrap, baseDir: string): Map<Listener, ListenerAccessLogs> {
  const out = new Map<Listener, ListenerAccessLogs>();
  for (const l of config.static_resources?.listeners ?? []) {
    const hcm = connectionManager(l);
    const requests = (hcm?.access_log ?? []).map((e, i) => compileLogger(e, baseDir, whereOf(hcm!, 'access_log', i)));
    const connections = listenerAccessLogs(l).map((e) => compileLogger(e, baseDir, whereOf(l, 'access_log')));
    if (requests.length === 0 && connections.length === 0) continue;
    out.set(l, {
      requests: requests.length > 0 ? new AccessLogs(requests) : null,
      connections: connections.length > 0 ? new AccessLogs(connections) : null,
    });
  }
  return out;
}

/** What a listener's own access log records of one downstream connection (no request: HTTP operators are unset,
 * the byte counts are the connection's). The addresses are read when it opens: a closed socket no longer has them. */
class ConnectionFacts implements AccessLogFacts {
  readonly req = undefined;
  readonly h2 = false;
  readonly status = 0;
  readonly flags = 0;
  readonly serviceTimeMs = -1;
  readonly upstreamHeaders = undefined;
  readonly sentPath = undefined;
  readonly upstreamHost = '';
  readonly clusterName = undefined;
  readonly clusterObservabilityName = undefined;
  readonly routeName = undefined;
  readonly responseHeaders = undefined;
  readonly responseTrailers = null;
  readonly details = '';
  readonly healthCheck = false;
  readonly requestDoneMs = -1;
  readonly firstByteMs = -1;
  readonly transportFailure = '';
  readonly upstreamLocal = '';
  readonly attempts = 0;
  readonly socket: DownstreamConnection;
  private readonly openedAt = performance.now();
  constructor(private readonly sock: Socket) {
    this.socket = { remoteAddress: sock.remoteAddress, remotePort: sock.remotePort, localAddress: sock.localAddress, localPort: sock.localPort };
  }
  get bytesReceived(): number {
    return this.sock.bytesRead;
  }
  get bytesSent(): number {
    return this.sock.bytesWritten;
  }
  /** The connection closed: one line. */
  closed(logs: AccessLogs): void {
    logs.log(this, performance.now() - this.openedAt);
  }
}

/** Starts a connection's log line when it opens; call `closed()` on the result when it closes. */
export function connectionLog(socket: Socket): { closed(logs: AccessLogs): void } {
  return new ConnectionFacts(socket);
}
