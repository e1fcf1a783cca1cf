/**
 * Local replies: the answers the proxy gives itself instead of an upstream, with Envoy's status codes, response
 * flags and bodies (Envoy's docs: access-log "Response flags" and "Local reply modification"). One catalogue, so every path answers the same way and counts the same flag.
 */
import type { UpstreamErrorKind } from '../upstream/pool.js';
import type { HeaderMutation } from './header-mutation.js';

export type ResponseFlag = 'NR' | 'NC' | 'UH' | 'UF' | 'UO' | 'UT' | 'UR' | 'UC' | 'UPE' | 'URX' | 'LR' | 'DC' | 'DPE' | 'DT' | 'SI' | 'DI' | 'FI' | 'RL' | 'LH';

/** Envoy's fixed order for %RESPONSE_FLAGS% (joined by ","). */
const FLAG_ORDER: readonly ResponseFlag[] = ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'DC', 'URX', 'DPE', 'UPE', 'NC', 'DT', 'SI'];

export function formatFlags(flags: number): string {
  if (flags === 0) return '-';
  let out = '';
  for (let i = 0; i < FLAG_ORDER.length; i++) {
    if ((flags & (1 << i)) !== 0) out += (out ? ',' : '') + FLAG_ORDER[i];
  }
  return out;
}

function flagBit(flag: ResponseFlag): number {
  return 1 << FLAG_ORDER.indexOf(flag);
}

export const FLAG = {
  UH: flagBit('UH'),
  UT: flagBit('UT'),
  LR: flagBit('LR'),
  UR: flagBit('UR'),
  UF: flagBit('UF'),
  UC: flagBit('UC'),
  UO: flagBit('UO'),
  NR: flagBit('NR'),
  DC: flagBit('DC'),
  URX: flagBit('URX'),
  UPE: flagBit('UPE'),
  NC: flagBit('NC'),
  DPE: flagBit('DPE'),
  DT: flagBit('DT'),
  SI: flagBit('SI'),
  DI: flagBit('DI'),
  FI: flagBit('FI'),
  RL: flagBit('RL'),
  LH: flagBit('LH'),
} as const;

const RESET_PREFIX = 'upstream connect error or disconnect/reset before headers. ';

export interface LocalReply {
  readonly status: number;
  /** Response flag bits (FLAG); 0 for an answer that is not a failure (direct response, redirect, health check). */
  readonly flag: number;
  readonly body: string | Buffer;
  /** Extra response headers (x-envoy-overloaded on overflow, a redirect's location). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The route's response header mutation (direct responses and redirects). */
  readonly responseMutation?: HeaderMutation | null;
  /** Envoy's response code details (%RESPONSE_CODE_DETAILS%), for the access log (a filter's: rbac_access_denied_matched_policy[…], local_rate_limited…). */
  readonly details?: string;
  /** The grpc-status of the answer to a gRPC request, when not the one mapped from `status` (a fault's grpc_status). */
  readonly grpcStatus?: number;
}

/** Envoy's details for an upstream reset before the response began: the reason, spaces as underscores. */
function resetDetails(reason: string): string {
  return `upstream_reset_before_response_started{${reason.replace(/ /g, '_')}}`;
}

/** How upstream failures before response headers are answered. `envoy` (default): 503 UF/UR/UC, 502 only for
 * protocol errors. `502`: the variant, 502 for refused connections and resets as well. */
export type UpstreamFailureMode = 'envoy' | '502';

export function noRoute(): LocalReply {
  return { status: 404, flag: FLAG.NR, body: '', details: 'route_not_found' };
}

export function noCluster(status: number): LocalReply {
  return { status, flag: FLAG.NC, body: '', details: 'cluster_not_found' };
}

/** An upgrade (or CONNECT) no upgrade_configs allows: Envoy's 403, empty body, no response flag. */
export function upgradeRefused(): LocalReply {
  return { status: 403, flag: 0, body: '', details: 'upgrade_failed' };
}

export function noHealthyUpstream(): LocalReply {
  return { status: 503, flag: FLAG.UH, body: 'no healthy upstream', details: 'no_healthy_upstream' };
}

export function overflow(): LocalReply {
  return {
    status: 503,
    flag: FLAG.UO,
    body: RESET_PREFIX + 'reset reason: overflow',
    headers: { 'x-envoy-overloaded': 'true' },
    details: resetDetails('overflow'),
  };
}

/** max_stream_duration reached before the response began (Envoy: 408 while the request is still arriving, else 504). */
export function durationTimeout(requestComplete: boolean): LocalReply {
  return { status: requestComplete ? 504 : 408, flag: FLAG.DT, body: 'downstream duration timeout', details: 'max_duration_timeout' };
}

/** stream_idle_timeout (or the route's idle_timeout) before the response began: Envoy's onIdleTimeout answers 408
 * while the request is still arriving, 504 once it is whole (Utility::maybeRequestTimeoutCode), flag SI. */
export function streamIdleTimeout(requestComplete: boolean): LocalReply {
  return { status: requestComplete ? 504 : 408, flag: FLAG.SI, body: 'stream timeout' };
}

/** HCM request_timeout: the request did not arrive whole in time (Envoy counts downstream_rq_timeout, no flag). */
export function requestTimeout(): LocalReply {
  return { status: 408, flag: 0, body: 'request timeout', details: 'request_overall_timeout' };
}

/** `perTry`: the last try's per_try_timeout ended the request (Envoy's details differ). */
export function upstreamTimeout(perTry = false): LocalReply {
  return { status: 504, flag: FLAG.UT, body: 'upstream request timeout', details: perTry ? 'upstream_per_try_timeout' : 'response_timeout' };
}

function connectFailure(detail: string, retried: boolean, mode: UpstreamFailureMode): LocalReply {
  return {
    status: mode === '502' ? 502 : 503,
    flag: FLAG.UF,
    body: `${RESET_PREFIX}${retried ? 'retried and the latest ' : ''}reset reason: remote connection failure, transport failure reason: ${detail}`,
    details: resetDetails(`remote connection failure,${detail}`),
  };
}

function connectTimeout(retried: boolean, mode: UpstreamFailureMode): LocalReply {
  return {
    status: mode === '502' ? 502 : 503,
    flag: FLAG.UF,
    body: `${RESET_PREFIX}${retried ? 'retried and the latest ' : ''}reset reason: connection timeout`,
    details: resetDetails('connection timeout'),
  };
}

function upstreamReset(retried: boolean, mode: UpstreamFailureMode): LocalReply {
  return {
    status: mode === '502' ? 502 : 503,
    flag: FLAG.UR,
    body: `${RESET_PREFIX}${retried ? 'retried and the latest ' : ''}reset reason: remote reset`,
    details: resetDetails('remote reset'),
  };
}

function connectionTermination(retried: boolean, mode: UpstreamFailureMode): LocalReply {
  return {
    status: mode === '502' ? 502 : 503,
    flag: FLAG.UC,
    body: `${RESET_PREFIX}${retried ? 'retried and the latest ' : ''}reset reason: connection termination`,
    details: resetDetails('connection termination'),
  };
}

export function protocolError(retried: boolean): LocalReply {
  return {
    status: 502,
    flag: FLAG.UPE,
    body: `${RESET_PREFIX}${retried ? 'retried and the latest ' : ''}reset reason: protocol error`,
    details: resetDetails('protocol error'),
  };
}

/** The answer to an upstream failure before response headers that is not retried (`retried`: earlier attempts were). */
export function upstreamFailure(kind: UpstreamErrorKind, detail: string, retried: boolean, mode: UpstreamFailureMode): LocalReply {
  switch (kind) {
    case 'connect-failure':
      return connectFailure(detail, retried, mode);
    case 'connect-timeout':
      return connectTimeout(retried, mode);
    case 'termination':
      return connectionTermination(retried, mode);
    case 'protocol':
      return protocolError(retried);
    default:
      return upstreamReset(retried, mode);
  }
}
