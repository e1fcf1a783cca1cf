/**
 * gRPC as the proxy sees it: which requests are gRPC, the grpc-status a local reply carries (Envoy's
 * Grpc::Utility::httpToGrpcStatus, after grpc's doc/http-grpc-status-mapping.md), grpc-message's percent-encoding
 * (gRPC over HTTP/2, "Responses"), and the grpc-timeout header read as the route's max_grpc_timeout /
 * grpc_timeout_offset say (max_stream_duration.grpc_timeout_header_max is stream-timeouts.ts's).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { durationToMs, type RouteAction } from '../config/model.js';
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
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = GRPC_TIMEOUT.exec(value);
  if (m === null) return undefined;
  return Math.ceil(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/**
 * How a route reads grpc-timeout for its route timeout (max_grpc_timeout): the header (capped by `maxMs` when not 0,
 * less `offsetMs`) becomes the route timeout, `maxMs` itself without a header. max_stream_duration's
 * grpc_timeout_header_max is stream-timeouts.ts's.
 */
export interface GrpcTimeoutPolicy {
  readonly maxMs: number;
  readonly offsetMs: number;
}

/** The route action's gRPC timeout policy, or null when grpc-timeout does not set the route timeout (Envoy's
 * default; and with max_stream_duration set, Envoy's router uses "the new timeouts" and ignores max_grpc_timeout). */
export function compileGrpcTimeout(action: RouteAction | undefined): GrpcTimeoutPolicy | null {
  if (action === undefined || action.max_stream_duration !== undefined || action.max_grpc_timeout === undefined) return null;
  const offset = action.grpc_timeout_offset;
  return { maxMs: durationToMs(action.max_grpc_timeout), offsetMs: offset === undefined ? 0 : durationToMs(offset) };
}

/** The route timeout one gRPC request gets under `policy` (0: none). */
export function grpcTimeoutMs(policy: GrpcTimeoutPolicy, header: string | string[] | undefined): number {
  let ms = parseGrpcTimeout(header);
  if (ms === undefined) return policy.maxMs;
  if (policy.maxMs > 0 && (ms === 0 || ms > policy.maxMs)) ms = policy.maxMs;
  if (policy.offsetMs > 0 && policy.offsetMs < ms) ms -= policy.offsetMs;
  return ms;
}
