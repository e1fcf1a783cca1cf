/**
 * The JSON-lines access log (Envoy's default fields, one object per line) to stdout or a file. Lines are batched
 * and written once per event-loop turn, so logging costs one write per turn rather than one per request.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { OutHeaders } from '../http/headers.js';
import type { DownReq } from './downstream.js';
import { formatFlags } from './local-reply.js';

export interface AccessLog {
  readonly write: (line: string) => void;
  close(): Promise<void>;
}

export function createAccessLog(target: string): AccessLog {
  const stream: NodeJS.WritableStream | WriteStream = target === '-' || target === 'stdout' ? process.stdout : createWriteStream(target, { flags: 'a' });
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('\n') + '\n';
    pending = [];
    stream.write(text);
  };
  return {
    write(line) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    close() {
      flush();
      if (stream === process.stdout) return Promise.resolve();
      return new Promise((r) => (stream as WriteStream).end(() => r()));
    },
  };
}

/** What the access log records of one finished request (the exchange provides it). */
export interface AccessLogFacts {
  readonly req: DownReq;
  readonly h2: boolean;
  readonly status: number;
  /** Response flag bits (local-reply.ts FLAG). */
  readonly flags: number;
  readonly bytesSent: number;
  /** The upstream's time to response headers, -1 without one. */
  readonly serviceTimeMs: number;
  /** The headers sent upstream, when the request went there (x-forwarded-for, x-request-id as sent). */
  readonly upstreamHeaders: OutHeaders | undefined;
  /** The last host tried, '' for none. */
  readonly upstreamHost: string;
  readonly clusterName: string | undefined;
  /** %RESPONSE_CODE_DETAILS% when an HTTP filter answered ('' otherwise). */
  readonly details: string;
}

/** One access-log line with Envoy's default fields, for a request that took `elapsed` ms. */
export function accessLogLine(f: AccessLogFacts, elapsed: number): string {
  const h = f.req.headers;
  const up = f.upstreamHeaders;
  return JSON.stringify({
    // Wall clock now less the duration: no Date read per request when logging is off.
    start_time: new Date(Date.now() - Math.round(elapsed)).toISOString(),
    method: f.req.method ?? '-',
    path: (h['x-envoy-original-path'] as string | undefined) ?? f.req.url ?? '-',
    protocol: f.h2 ? 'HTTP/2' : `HTTP/${f.req.httpVersion}`,
    response_code: f.status,
    response_flags: formatFlags(f.flags),
    bytes_received: Number(h['content-length'] ?? 0) || 0,
    bytes_sent: f.bytesSent,
    duration: Math.round(elapsed),
    upstream_service_time: f.serviceTimeMs >= 0 ? String(f.serviceTimeMs) : '-',
    x_forwarded_for: (up?.['x-forwarded-for'] as string | undefined) ?? (h['x-forwarded-for'] as string | undefined) ?? '-',
    user_agent: h['user-agent'] ?? '-',
    request_id: (up?.['x-request-id'] as string | undefined) ?? (h['x-request-id'] as string | undefined) ?? '-',
    authority: (f.h2 ? h[':authority'] : h.host) ?? '-',
    upstream_host: f.upstreamHost || '-',
    upstream_cluster: f.clusterName ?? '-',
    // Only when a filter answered, so lines without filters keep Envoy's default fields.
    ...(f.details !== '' ? { response_code_details: f.details } : {}),
  });
}
