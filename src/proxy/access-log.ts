/**
 * Where access-log lines go, and what they are made of. Two kinds of log share the writer:
 * - meshctl's own `--access-log` (JSON lines with Envoy's default fields, one object per request);
 * - the config's Envoy access logs (`access_log` of a connection manager or listener: file, stdout, stderr), formatted
 *   by access-log-formatter.ts.
 * Lines are batched and written once per event-loop turn, so logging costs one write per turn rather than one per
 * request. Files are opened once per path (every logger naming a path shares it, across reloads) and reopened on
 * request (SIGUSR1, as Envoy reopens its access logs), so a rotated log is let go.
 */
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { Socket } from 'node:net';
import type { OutHeaders } from '../http/headers.js';
import type { DownReq } from './downstream.js';
import { formatFlags } from './local-reply.js';

/** Text written in batches, one write per event-loop turn. */
export interface LogSink {
  /** `text` as is (an Envoy format carries its own newline). */
  write(text: string): void;
}

class BatchedSink implements LogSink {
  private pending = '';
  private scheduled = false;
  private readonly flushFn = (): void => this.flush();

  /** null once closed: later lines are dropped. */
  constructor(private stream: NodeJS.WritableStream | null) {}

  write(text: string): void {
    if (this.stream === null) return;
    this.pending += text;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushFn);
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.stream?.write(text);
  }

  /** Writes what is pending, then swaps to `next` (a reopened file); returns the stream let go. */
  swap(next: NodeJS.WritableStream | null): NodeJS.WritableStream | null {
    this.flush();
    const old = this.stream;
    this.stream = next;
    return old;
  }
}

function endStream(s: NodeJS.WritableStream | null): Promise<void> {
  if (s === null || s === process.stdout || s === process.stderr) return Promise.resolve();
  return new Promise((r) => (s as WriteStream).end(() => r()));
}

/** A file opened for appending, now: a path that cannot be opened fails here (at start-up or reload), not later. */
function openAppend(path: string): WriteStream {
  const fd = openSync(path, 'a');
  return createWriteStream(path, { fd, flags: 'a' });
}

/** meshctl's `--access-log` writer: JSON lines to stdout (`-`/`stdout`) or a file. */
export interface AccessLog {
  readonly write: (line: string) => void;
  close(): Promise<void>;
}

export function createAccessLog(target: string): AccessLog {
  const toStdout = target === '-' || target === 'stdout';
  const sink = new BatchedSink(toStdout ? process.stdout : openAppend(target));
  if (!toStdout) fileSinks.set(`meshctl:${target}`, { sink, path: target });
  return {
    write: (line) => sink.write(line + '\n'),
    close() {
      sink.flush();
      fileSinks.delete(`meshctl:${target}`);
      return endStream(sink.swap(null));
    },
  };
}

/** Open files by path (and meshctl's own log), so loggers share one stream per file and SIGUSR1 reopens each once. */
const fileSinks = new Map<string, { sink: BatchedSink; path: string }>();
let stdoutSink: BatchedSink | undefined;
let stderrSink: BatchedSink | undefined;

/** The sink of an Envoy file logger's `path` (opened on first use). Throws the system error if it cannot be opened. */
export function fileSink(path: string): LogSink {
  let e = fileSinks.get(path);
  if (e === undefined) {
    e = { sink: new BatchedSink(openAppend(path)), path };
    fileSinks.set(path, e);
  }
  return e.sink;
}

export function stdoutLogSink(): LogSink {
  return (stdoutSink ??= new BatchedSink(process.stdout));
}

export function stderrLogSink(): LogSink {
  return (stderrSink ??= new BatchedSink(process.stderr));
}

/** Envoy's SIGUSR1: every access-log file is reopened (after a rotation, lines go to the new file). A path that cannot
 * be opened now keeps its old stream. */
export function reopenAccessLogs(): void {
  for (const e of fileSinks.values()) {
    let next: WriteStream;
    try {
      next = openAppend(e.path);
    } catch {
      continue;
    }
    void endStream(e.sink.swap(next));
  }
}

/** Writes what is pending and closes the config's log files (the proxy is stopping). meshctl's own log closes itself. */
export async function closeAccessLogSinks(): Promise<void> {
  stdoutSink?.flush();
  stderrSink?.flush();
  const ends: Promise<void>[] = [];
  for (const [key, e] of fileSinks) {
    if (key.startsWith('meshctl:')) continue;
    fileSinks.delete(key);
    ends.push(endStream(e.sink.swap(null)));
  }
  await Promise.all(ends);
}

/** What an access log records of one finished request (the exchange provides it) or, for a listener's own access
 * log, of one closed connection (`req` undefined). */
export interface AccessLogFacts {
  readonly req: DownReq | undefined;
  readonly h2: boolean;
  /** 0 when no response began. */
  readonly status: number;
  /** Response flag bits (local-reply.ts FLAG). */
  readonly flags: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** The upstream's time to response headers, -1 without one. */
  readonly serviceTimeMs: number;
  /** The headers sent upstream, when the request went there (x-forwarded-for, x-request-id as sent). */
  readonly upstreamHeaders: OutHeaders | undefined;
  /** The :path sent upstream (after rewrites), undefined when the request did not go there. */
  readonly sentPath: string | undefined;
  /** The last host tried, '' for none. */
  readonly upstreamHost: string;
  readonly clusterName: string | undefined;
  /** alt_stat_name when the cluster has one, else its name. */
  readonly clusterObservabilityName: string | undefined;
  readonly routeName: string | undefined;
  /** The response headers as sent downstream, undefined before a response began. */
  readonly responseHeaders: OutHeaders | undefined;
  readonly responseTrailers: OutHeaders | null;
  /** Envoy's response code details (`via_upstream`, `route_not_found`, …), '' when none is known. */
  readonly details: string;
  /** The health_check HTTP filter took the request for a health check (Envoy's StreamInfo healthCheck()). */
  readonly healthCheck: boolean;
  /** Time from the start to the end of the request body (ms), -1 while it has not ended. */
  readonly requestDoneMs: number;
  /** Time from the start to the upstream's response headers (ms), -1 without them. */
  readonly firstByteMs: number;
  /** Why the upstream connection failed, '' when it did not. */
  readonly transportFailure: string;
  /** The upstream connection's local address (ip:port), '' when not known. */
  readonly upstreamLocal: string;
  readonly attempts: number;
  /** The downstream connection (the TLS socket under TLS). */
  readonly socket: DownstreamConnection | undefined;
}

/** What the access log reads of the downstream connection: a live socket, or what a closed one was. */
export type DownstreamConnection = Pick<Socket, 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort'>;

/** One line of meshctl's own JSON access log (Envoy's default fields), for a request that took `elapsed` ms. */
export function accessLogLine(f: AccessLogFacts, elapsed: number): string {
  const req = f.req!;
  const h = req.headers;
  const up = f.upstreamHeaders;
  return JSON.stringify({
    // Wall clock now less the duration: no Date read per request when logging is off.
    start_time: new Date(Date.now() - Math.round(elapsed)).toISOString(),
    method: req.method ?? '-',
    path: (h['x-envoy-original-path'] as string | undefined) ?? req.url ?? '-',
    protocol: f.h2 ? 'HTTP/2' : `HTTP/${req.httpVersion}`,
    response_code: f.status,
    response_flags: formatFlags(f.flags),
    bytes_received: f.bytesReceived,
    bytes_sent: f.bytesSent,
    duration: Math.round(elapsed),
    upstream_service_time: f.serviceTimeMs >= 0 ? String(f.serviceTimeMs) : '-',
    x_forwarded_for: (up?.['x-forwarded-for'] as string | undefined) ?? (h['x-forwarded-for'] as string | undefined) ?? '-',
    user_agent: h['user-agent'] ?? '-',
    request_id: (up?.['x-request-id'] as string | undefined) ?? (h['x-request-id'] as string | undefined) ?? '-',
    authority: (f.h2 ? h[':authority'] : h.host) ?? '-',
    upstream_host: f.upstreamHost || '-',
    upstream_cluster: f.clusterObservabilityName ?? '-',
  });
}

