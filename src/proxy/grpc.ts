/**
 * gRPC as the proxy sees it: which requests are gRPC, the grpc-status a local reply carries (Envoy's
 * Grpc::Utility::httpToGrpcStatus, after grpc's doc/http-grpc-status-mapping.md), grpc-message's percent-encoding
 * (gRPC over HTTP/2, "Responses"), and the grpc-timeout header read as the route says
 * (RouteAction.max_grpc_timeout / grpc_timeout_offset, and max_stream_duration.grpc_timeout_header_max /
 * grpc_timeout_header_offset).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { durationToMs, parseDuration, type JsonValue, type ModelNode } from '../config/model.js';
import type { OutHeaders } from '../http/headers.js';

/** Envoy's Grpc::Common::hasGrpcContentType: application/grpc, or application/grpc+<codec> / ;params. */
export function isGrpcRequest(headers: IncomingHttpHeaders): boolean {
  const ct = headers['content-type'];
  if (ct === undefined || !ct.startsWith('application/grpc')) return false;
  const next = ct.charCodeAt(16);
  return ct.length === 16 || next === 43 /* + */ || next === 59 /* ; */;
}

/** Envoy's Grpc::Utility::httpToGrpcStatus. */
function grpcStatusFor(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** grpc-message: '%' and bytes outside printable ASCII percent-encoded (UTF-8 first). */
function percentEncode(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    out += b < 0x20 || b > 0x7e || b === 0x25 ? '%' + b.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(b);
  }
  return out;
}

/**
 * The headers of a local reply to a gRPC request: HTTP 200, the HTTP status mapped to grpc-status, the body as
 * grpc-message, no body. Sent as a trailers-only response, as Envoy's Utility::sendLocalReply does for gRPC.
 */
export function grpcLocalReplyHeaders(out: OutHeaders, httpStatus: number, body: Buffer): void {
  out['content-type'] = 'application/grpc';
  out['grpc-status'] = String(grpcStatusFor(httpStatus));
  if (body.length > 0) out['grpc-message'] = percentEncode(body.toString('utf8'));
}

const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** The grpc-timeout header in milliseconds (rounded up), or undefined when absent or malformed. */
function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = GRPC_TIMEOUT.exec(value);
  if (m === null) return undefined;
  return Math.ceil(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/**
 * How a route reads grpc-timeout. `route`: max_grpc_timeout, the header (capped by `maxMs` when not 0) becomes
 * the route timeout, `maxMs` itself without a header. `stream`: max_stream_duration.grpc_timeout_header_max, the
 * header (capped likewise) bounds the whole stream from its start; without a header, max_stream_duration does.
 */
export interface GrpcTimeoutPolicy {
  readonly kind: 'route' | 'stream';
  readonly maxMs: number;
  readonly offsetMs: number;
  /** `stream` only: max_stream_duration.max_stream_duration (0: none). */
  readonly streamMaxMs: number;
}

/** A field meshctl's model may not carry yet: read from the node, or from what it kept verbatim. */
function rawField(node: ModelNode | undefined, name: string): JsonValue | undefined {
  if (node === undefined) return undefined;
  return ((node as Record<string, unknown>)[name] as JsonValue | undefined) ?? node.unmodeled?.[name];
}

function durationMs(v: JsonValue | undefined): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') {
    const d = parseDuration(v);
    return d === undefined ? undefined : durationToMs(d);
  }
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, JsonValue>;
    return durationToMs({ seconds: Number(o.seconds ?? 0), nanos: Number(o.nanos ?? 0) });
  }
  return undefined;
}

/** The route action's gRPC timeout policy, or null when grpc-timeout is not honoured (Envoy's default). */
export function compileGrpcTimeout(action: ModelNode | undefined): GrpcTimeoutPolicy | null {
  const msd = rawField(action, 'max_stream_duration');
  if (msd !== undefined && msd !== null && typeof msd === 'object' && !Array.isArray(msd)) {
    const o = msd as Record<string, JsonValue>;
    const headerMax = durationMs(o.grpc_timeout_header_max ?? o.grpcTimeoutHeaderMax);
    const streamMax = durationMs(o.max_stream_duration ?? o.maxStreamDuration) ?? 0;
    // Envoy: with max_stream_duration set, max_grpc_timeout is not used (the "new timeouts").
    if (headerMax === undefined && streamMax === 0) return null;
    return {
      kind: 'stream',
      maxMs: headerMax ?? -1,
      offsetMs: durationMs(o.grpc_timeout_header_offset ?? o.grpcTimeoutHeaderOffset) ?? 0,
      streamMaxMs: streamMax,
    };
  }
  const max = durationMs(rawField(action, 'max_grpc_timeout'));
  if (max === undefined) return null;
  return { kind: 'route', maxMs: max, offsetMs: durationMs(rawField(action, 'grpc_timeout_offset')) ?? 0, streamMaxMs: 0 };
}

/**
 * The timeout one gRPC request gets under `policy` (0: none). For `stream` with no grpc_timeout_header_max
 * (maxMs -1), the header is not read and max_stream_duration applies.
 */
export function grpcTimeoutMs(policy: GrpcTimeoutPolicy, header: string | string[] | undefined): number {
  let ms = policy.maxMs < 0 ? undefined : parseGrpcTimeout(header);
  if (ms === undefined) return policy.kind === 'route' ? policy.maxMs : policy.streamMaxMs;
  if (policy.maxMs > 0 && (ms === 0 || ms > policy.maxMs)) ms = policy.maxMs;
  if (policy.offsetMs > 0 && policy.offsetMs < ms) ms -= policy.offsetMs;
  return ms;
}
