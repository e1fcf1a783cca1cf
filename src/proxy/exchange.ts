/**
 * One downstream request through the proxy: route, pick a host, forward with retries and timeouts, stream the
 * response back, answer locally on failure, count and log. HTTP/1.1 and HTTP/2 downstreams share this code through
 * node's compatible request/response objects.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Host } from '../balancer/types.js';
import type { UpstreamOutcome } from '../upstream/types.js';
import { applyMutation, type HeaderMutation } from './header-mutation.js';
import { copyRequestHeaders, type OutHeaders } from '../http/headers.js';
import * as reply from './local-reply.js';
import { FLAG, type LocalReply } from './local-reply.js';
import { backoffMs, retriableFailure, retriableStatus, type CompiledRetry } from './retry.js';
import { redirectTarget, type RouteRuntime } from './route-runtime.js';
import type { AttemptControl, AttemptSink, UpstreamErrorKind } from '../upstream/pool.js';
import type { ClusterRuntime, Generation, HostCounters, ListenerRuntime } from './generation.js';

const CONNECTION_CLOSE: Readonly<Record<string, string>> = { connection: 'close' };

export type DownReq = IncomingMessage | Http2ServerRequest;
export type DownRes = ServerResponse | Http2ServerResponse;

/** Request bodies kept for a retry, up to Envoy's default per-connection buffer limit. */
const RETRY_BUFFER_LIMIT = 1024 * 1024;

interface BodyTee {
  readonly chunks: Buffer[];
  size: number;
  started: boolean;
  complete: boolean;
  overflow: boolean;
  readonly iter: AsyncGenerator<Buffer>;
}

function makeTee(src: Readable): BodyTee {
  const state = { chunks: [] as Buffer[], size: 0, started: false, complete: false, overflow: false };
  async function* gen(): AsyncGenerator<Buffer> {
    state.started = true;
    for await (const c of src as AsyncIterable<Buffer>) {
      if (!state.overflow) {
        if (state.size + c.length > RETRY_BUFFER_LIMIT) {
          state.overflow = true;
          state.chunks.length = 0;
        } else {
          state.chunks.push(c);
          state.size += c.length;
        }
      }
      yield c;
    }
    state.complete = true;
  }
  return Object.assign(state, { iter: gen() });
}

function hasBody(req: DownReq): boolean {
  if (req.httpVersionMajor === 2) {
    return !(req as Http2ServerRequest).stream.endAfterHeaders;
  }
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}

/** Called when an HTTP/1.1 downstream response closes (the listener's per-connection in-flight count): one function
 * per listener, handed to every exchange, instead of a 'close' listener closure per request. */
export type ResponseClosed = (sock: Socket) => void;

/** Handles one request. Called by the listener's server for every request. */
export function handleRequest(gen: Generation, lr: ListenerRuntime, req: DownReq, res: DownRes, closed: ResponseClosed | null = null): void {
  new Exchange(gen, lr, req, res, closed).start();
}

/** Answers a request the codec layer refuses (too many headers: 431) with Envoy's local reply for a downstream
 * protocol error: the status text as body, flag DPE, and the connection closed. Counted and logged as a request. */
export function rejectRequest(
  gen: Generation,
  lr: ListenerRuntime,
  req: DownReq,
  res: DownRes,
  status: number,
  body: string,
  closed: ResponseClosed | null = null,
): void {
  new Exchange(gen, lr, req, res, closed).reject(status, body);
}

/** The exchange a downstream response belongs to, so one shared 'close' listener finds it (no closure per request). */
const EXCHANGE = Symbol('meshctl.exchange');
type TaggedRes = DownRes & { [EXCHANGE]?: Exchange };
type TaggedReq = DownReq & { [EXCHANGE]?: Exchange };

function onResponseClose(this: TaggedRes): void {
  this[EXCHANGE]?.downstreamClosed();
}

/** Timer callbacks get the exchange as their argument: no bound function or closure per request. */
function globalTimeoutFired(ex: Exchange): void {
  ex.onGlobalTimeout();
}
function tryTimeoutFired(ex: Exchange): void {
  ex.onTryTimeout();
}
function retryFired(ex: Exchange): void {
  ex.retryDue();
}
function bodyEnded(this: TaggedReq): void {
  this[EXCHANGE]?.startGlobalTimer();
}

/** The request headers the router's header matchers read: set just before the (synchronous) match call, so one
 * lookup function serves every request instead of a closure per request. */
let matchHeaders: IncomingHttpHeaders = {};
let matchReq: DownReq | undefined;
const lookupHeader = (name: string): string | undefined => headerValue(matchHeaders, name);
/** The peer address, read only when a hash policy asks for it (under HTTP/2, req.socket is a Proxy made per stream). */
const lookupPeer = (): string | undefined => (matchReq === undefined ? undefined : peerAddress(matchReq));

function peerAddress(req: DownReq): string | undefined {
  if (req.httpVersionMajor === 2) return (req as Http2ServerRequest).stream.session?.socket?.remoteAddress;
  return req.socket?.remoteAddress;
}

class Exchange implements AttemptSink {
  private readonly startMs = performance.now();
  private cluster: ClusterRuntime | undefined;
  private rr: RouteRuntime | undefined;
  private responseMutation: HeaderMutation | null = null;
  private upstreamHeaders: OutHeaders | undefined;
  private upstreamPath = '';
  private host: Host | undefined;
  private hostCounters: HostCounters | undefined;
  private attemptNo = 0;
  private attemptStartMs = 0;
  private tried: Set<Host> | undefined;
  private hash: bigint | undefined;
  private tee: BodyTee | undefined;
  private bodyBuffer: Buffer | null = null;
  private ctl: AttemptControl | undefined;
  private globalTimer: NodeJS.Timeout | undefined;
  private tryTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private headersSent = false;
  private done = false;
  private holdsRequest = false;
  private holdsRetry = false;
  private status = 0;
  private flags = 0;
  private bytesSent = 0;
  private serviceTimeMs = -1;
  private retried = false;
  private readonly h2: boolean;

  constructor(
    private readonly gen: Generation,
    private readonly lr: ListenerRuntime,
    private readonly req: DownReq,
    private readonly res: DownRes,
    private readonly closed: ResponseClosed | null,
  ) {
    this.h2 = req.httpVersionMajor === 2;
  }

  private begin(): void {
    const lr = this.lr;
    lr.stats.rq_total.value++;
    lr.stats.rq_active.value++;
    this.gen.inflight++;
    // 'close' comes once per response: on() rather than once() (no wrapper per request).
    (this.res as TaggedRes)[EXCHANGE] = this;
    this.res.on('close', onResponseClose);
  }

  reject(status: number, body: string): void {
    this.begin();
    this.lr.stats.cx_protocol_error.value++;
    this.flags |= FLAG.DPE;
    if (!this.h2) (this.res as ServerResponse).shouldKeepAlive = false;
    this.sendLocal(status, Buffer.from(body), this.h2 ? undefined : CONNECTION_CLOSE, FLAG.DPE);
  }

  start(): void {
    this.begin();
    const lr = this.lr;
    const headers = this.req.headers;
    const authority = ((this.h2 ? headers[':authority'] : headers.host) as string | undefined) ?? '';
    let path = this.req.url ?? '/';
    if (lr.normalizePath !== null) {
      const n = lr.normalizePath(path);
      // Envoy: 400 with an empty body (details path_normalization_failed).
      if (n === null) return this.sendLocal(400, EMPTY, undefined, 0);
      if (n !== path) {
        path = n;
        // Envoy rewrites :path itself, so the access log shows the normalised path too.
        this.req.url = n;
      }
    }
    const method = this.req.method ?? 'GET';
    if (lr.healthCheckPath !== null && path === lr.healthCheckPath) {
      const failing = this.gen.healthFailing();
      return this.sendLocal(failing ? 503 : 200, EMPTY, failing ? { 'x-envoy-immediate-health-check-fail': 'true' } : undefined, 0);
    }
    matchHeaders = headers;
    matchReq = this.req;
    const d = lr.router.match(authority, path, method, lookupHeader, lookupPeer);
    matchHeaders = EMPTY_HEADERS;
    matchReq = undefined;
    if (d.kind === 'none') {
      lr.stats.no_route.value++;
      return this.localReply(reply.noRoute());
    }
    const rr = this.gen.routes.route(d.route, d.vhost);
    this.rr = rr;
    if (d.kind === 'direct') {
      lr.stats.rq_direct_response.value++;
      this.responseMutation = rr.responseMutation;
      return this.sendLocal(rr.direct!.status, rr.direct!.body, undefined, 0);
    }
    if (d.kind === 'redirect') {
      lr.stats.rq_redirect.value++;
      const t = redirectTarget(rr.redirect!, lr.scheme, authority, path, rr.matchedPrefixLength);
      this.responseMutation = rr.responseMutation;
      return this.sendLocal(t.status, Buffer.alloc(0), { location: t.location }, 0);
    }
    const cluster = this.gen.clusters.get(d.clusterName) ?? this.gen.resolveCluster(d.clusterName);
    if (cluster === undefined) {
      lr.stats.no_cluster.value++;
      return this.localReply(reply.noCluster(rr.clusterNotFoundStatus));
    }
    this.cluster = cluster;
    this.hash = d.hash;
    cluster.stats.rq_total.value++;
    if (!cluster.upstream.tryAcquire('requests')) {
      cluster.stats.rq_pending_overflow.value++;
      return this.localReply(reply.overflow());
    }
    this.holdsRequest = true;
    cluster.stats.rq_active.value++;

    // Upstream request headers, built once and reused by every attempt.
    const out = copyRequestHeaders(headers);
    let hostRewrite = rr.hostRewrite;
    let reqMutation = rr.requestMutation;
    this.responseMutation = rr.responseMutation;
    if (d.weighted !== undefined) {
      const w = this.gen.routes.weightedCluster(d.route, d.vhost, d.weighted);
      hostRewrite = w.hostRewrite;
      reqMutation = w.requestMutation;
      this.responseMutation = w.responseMutation;
    }
    out.host = hostRewrite ?? authority;
    if (hostRewrite !== null) out['x-envoy-original-host'] = authority;
    let upath = path;
    if (rr.prefixRewrite !== null) {
      upath = rr.prefixRewrite + path.slice(rr.matchedPrefixLength);
      out['x-envoy-original-path'] = path;
    } else if (rr.regexRewrite !== null) {
      const q = path.indexOf('?');
      const p = q >= 0 ? path.slice(0, q) : path;
      upath = p.replace(rr.regexRewrite.re, rr.regexRewrite.sub) + (q >= 0 ? path.slice(q) : '');
      out['x-envoy-original-path'] = path;
    }
    if (upath.charCodeAt(0) !== 47 /* / */) upath = '/' + upath;
    this.upstreamPath = upath;
    out['x-forwarded-proto'] = lr.scheme;
    if (lr.appendXff) {
      const peer = peerAddress(this.req) ?? '';
      const prev = headers['x-forwarded-for'];
      out['x-forwarded-for'] = prev ? `${prev}, ${peer}` : peer;
    }
    if (lr.generateRequestId && headers['x-request-id'] === undefined) out['x-request-id'] = randomUUID();
    if (rr.timeoutMs > 0) out['x-envoy-expected-rq-timeout-ms'] = rr.timeoutHeader;
    if (reqMutation !== null) applyMutation(out, reqMutation);
    this.upstreamHeaders = out;

    if (hasBody(this.req)) {
      if (rr.retry !== null) this.tee = makeTee(this.req);
      (this.req as TaggedReq)[EXCHANGE] = this;
      this.req.once('end', bodyEnded);
    } else this.startGlobalTimer();
    this.attempt();
  }

  startGlobalTimer(): void {
    const ms = this.rr!.timeoutMs;
    if (ms > 0 && !this.done) this.globalTimer = setTimeout(globalTimeoutFired, ms, this);
  }

  private attempt(): void {
    const cluster = this.cluster!;
    const retry = this.rr!.retry;
    const exclude = this.tried !== undefined && retry !== null && retry.excludeTried ? this.tried : undefined;
    const host = cluster.upstream.balancer.pick(
      exclude === undefined && this.hash === undefined ? undefined : { hash: this.hash, exclude },
    );
    if (host === undefined) {
      cluster.stats.cx_none_healthy.value++;
      return this.localReply(reply.noHealthyUpstream());
    }
    this.host = host;
    if (retry !== null) (this.tried ??= new Set()).add(host);
    this.lastHostAddress = host.address;
    this.attemptNo++;
    this.attemptStartMs = performance.now();
    cluster.upstream.onAttemptStart(host);
    const entry = cluster.entryFor(host);
    this.hostCounters = entry.counters;
    entry.counters.rq_total++;
    let body: Readable | Buffer | AsyncIterable<Buffer> | null = null;
    if (this.tee !== undefined) {
      const t = this.tee;
      if (!t.started) body = t.iter;
      else body = this.bodyBuffer ?? (this.bodyBuffer = Buffer.concat(t.chunks));
    } else if (this.attemptNo === 1 && hasBody(this.req)) body = this.req;
    const retry2 = retry;
    if (retry2 !== null && retry2.perTryTimeoutMs > 0) this.tryTimer = setTimeout(tryTimeoutFired, retry2.perTryTimeoutMs, this);
    const sink = retry === null ? this : new RetrySink(this, this.attemptNo);
    entry.pool.dispatch(
      { method: this.req.method ?? 'GET', path: this.upstreamPath, headers: this.upstreamHeaders!, body: body as Readable | Buffer | null },
      sink,
    );
  }

  // ---- AttemptSink (the current attempt) ----
  current(n: number): boolean {
    return n === this.attemptNo && !this.done;
  }

  onStart(ctl: AttemptControl): void {
    this.ctl = ctl;
  }

  onHeaders(status: number, out: OutHeaders): void {
    if (this.done) return;
    const retry = this.rr!.retry;
    if (retry !== null && retriableStatus(retry, status) && this.canRetry(retry)) {
      this.endAttempt({ kind: 'response', status });
      this.ctl?.abort(new RetryAbort());
      return this.scheduleRetry();
    }
    this.clearTryTimer();
    this.status = status;
    this.serviceTimeMs = Math.round(performance.now() - this.attemptStartMs);
    out['x-envoy-upstream-service-time'] = String(this.serviceTimeMs);
    out.server = this.lr.serverName;
    if (this.responseMutation !== null) applyMutation(out, this.responseMutation);
    this.headersSent = true;
    const res = this.res;
    try {
      if (this.h2) this.respondH2(status, out);
      else {
        // Headers, a small body and the end usually arrive in one parser pass: corked, they leave in one write.
        const r = res as ServerResponse;
        r.cork();
        process.nextTick(uncork, r);
        r.writeHead(status, out as Record<string, string | string[]>);
      }
    } catch {
      // Headers the downstream codec refuses (malformed upstream headers): a protocol error.
      this.headersSent = false;
      this.endAttempt({ kind: 'reset' });
      this.ctl?.abort(new RetryAbort());
      return this.localReply(reply.protocolError(this.retried));
    }
  }

  /**
   * An upstream response's head on an HTTP/2 stream, sent on the stream itself rather than through node's
   * compatibility response (which validates and copies every header again and always asks for trailers, so each
   * response ended with an extra frame). What the compatibility layer did is kept: a `connection` header dropped,
   * no content-length on a 204, nothing sent on a stream already gone.
   */
  private respondH2(status: number, out: OutHeaders): void {
    const stream = (this.res as Http2ServerResponse).stream;
    if (stream.destroyed || stream.closed) return;
    if (status === 204) delete out['content-length'];
    if (out.connection !== undefined && out.connection !== 'trailers') delete out.connection;
    out[':status'] = String(status);
    stream.respond(out as Record<string, string | string[]>, { endStream: false });
  }

  onData(chunk: Buffer): void {
    if (this.done) return;
    this.bytesSent += chunk.length;
    if (this.h2) {
      const stream = (this.res as Http2ServerResponse).stream;
      if (stream.destroyed || stream.writableEnded) return;
      if (!stream.write(chunk)) {
        const ctl = this.ctl;
        ctl?.pause();
        stream.once('drain', () => ctl?.resume());
      }
      return;
    }
    if (!(this.res as ServerResponse).write(chunk)) {
      const ctl = this.ctl;
      ctl?.pause();
      this.res.once('drain', () => ctl?.resume());
    }
  }

  onEnd(): void {
    if (this.done) return;
    this.endAttempt({ kind: 'response', status: this.status });
    if (this.h2) {
      const stream = (this.res as Http2ServerResponse).stream;
      if (!stream.destroyed && !stream.writableEnded) stream.end();
    } else this.res.end();
    this.finish();
  }

  onError(kind: UpstreamErrorKind, detail: string): void {
    if (this.done || kind === 'aborted') return;
    this.clearTryTimer();
    const cluster = this.cluster!;
    if (kind === 'connect-failure' || kind === 'connect-timeout') {
      this.endAttempt({ kind: 'connect-failure' });
    } else if (kind === 'reset' || kind === 'termination' || kind === 'protocol') {
      cluster.stats.rq_rx_reset.value++;
      this.endAttempt({ kind: 'reset' });
    }
    if (this.headersSent) {
      // The response already started: all we can do is reset the downstream stream, as Envoy does.
      this.flags |= FLAG.UR;
      this.abortDownstream();
      return;
    }
    const retry = this.rr!.retry;
    if (retry !== null && retriableFailure(retry, kind) && this.canRetry(retry)) return this.scheduleRetry();
    const mode = this.gen.upstreamFailureMode;
    switch (kind) {
      case 'connect-failure':
        return this.localReply(reply.connectFailure(detail, this.retried, mode));
      case 'connect-timeout':
        return this.localReply(reply.connectTimeout(this.retried, mode));
      case 'termination':
        return this.localReply(reply.connectionTermination(this.retried, mode));
      case 'protocol':
        return this.localReply(reply.protocolError(this.retried));
      default:
        return this.localReply(reply.upstreamReset(this.retried, mode));
    }
  }

  // ---- retries and timeouts ----
  private canRetry(retry: CompiledRetry): boolean {
    const cluster = this.cluster!;
    if (this.attemptNo > retry.numRetries) {
      cluster.stats.rq_retry_limit_exceeded.value++;
      this.flags |= FLAG.URX;
      return false;
    }
    if (this.tee !== undefined && this.tee.started && (!this.tee.complete || this.tee.overflow)) return false;
    this.releaseRetry();
    if (!cluster.upstream.tryAcquire('retries')) {
      cluster.stats.rq_retry_overflow.value++;
      this.flags |= FLAG.UO;
      return false;
    }
    this.holdsRetry = true;
    return true;
  }

  private scheduleRetry(): void {
    const cluster = this.cluster!;
    cluster.stats.rq_retry.value++;
    this.retried = true;
    const wait = backoffMs(this.rr!.retry!, this.attemptNo, this.gen.retryRandom);
    cluster.stats.rq_retry_backoff_exponential.value++;
    this.retryTimer = setTimeout(retryFired, wait, this);
  }

  retryDue(): void {
    this.retryTimer = undefined;
    if (!this.done) this.attempt();
  }

  onTryTimeout(): void {
    this.tryTimer = undefined;
    if (this.done || this.headersSent) return;
    const cluster = this.cluster!;
    cluster.stats.rq_per_try_timeout.value++;
    this.endAttempt({ kind: 'timeout' });
    this.ctl?.abort(new RetryAbort());
    const retry = this.rr!.retry!;
    if (retriableFailure(retry, 'per-try-timeout') && this.canRetry(retry)) return this.scheduleRetry();
    this.localReply(reply.upstreamTimeout());
  }

  onGlobalTimeout(): void {
    this.globalTimer = undefined;
    if (this.done) return;
    const cluster = this.cluster;
    if (cluster !== undefined) {
      cluster.stats.rq_timeout.value++;
      if (this.host !== undefined && this.attemptStartMs > 0 && this.ctl !== undefined) this.endAttempt({ kind: 'timeout' });
    }
    this.ctl?.abort(new RetryAbort());
    if (this.headersSent) {
      this.flags |= FLAG.UT;
      this.abortDownstream();
    } else this.localReply(reply.upstreamTimeout());
  }

  private endAttempt(outcome: UpstreamOutcome): void {
    const host = this.host;
    if (host === undefined) return;
    this.host = undefined;
    const latency = performance.now() - this.attemptStartMs;
    const hc = this.hostCounters!;
    if (outcome.kind === 'response' && outcome.status < 500) hc.rq_success++;
    else hc.rq_error++;
    if (outcome.kind === 'timeout') hc.rq_timeout++;
    this.cluster!.upstream.onAttemptEnd(host, outcome, latency);
    if (this.retried) this.releaseRetry();
    if (outcome.kind === 'response' && this.retried && outcome.status < 500) this.cluster!.stats.rq_retry_success.value++;
  }

  private releaseRetry(): void {
    if (this.holdsRetry) {
      this.holdsRetry = false;
      this.cluster!.upstream.release('retries');
    }
  }

  private clearTryTimer(): void {
    if (this.tryTimer !== undefined) {
      clearTimeout(this.tryTimer);
      this.tryTimer = undefined;
    }
  }

  // ---- local answers and completion ----
  private localReply(r: LocalReply): void {
    this.flags |= r.flag;
    // A host attempt that was in progress ends here (timeouts); connect/reset errors have already ended theirs.
    if (this.host !== undefined && this.ctl !== undefined) this.endAttempt({ kind: 'timeout' });
    this.sendLocal(r.status, r.body.length > 0 ? Buffer.from(r.body) : EMPTY, r.headers, r.flag);
  }

  private sendLocal(status: number, body: Buffer, extra: Readonly<Record<string, string>> | undefined, _flag: number): void {
    if (this.done) return;
    this.status = status;
    const out: OutHeaders = { server: this.lr.serverName };
    if (body.length > 0) out['content-type'] = 'text/plain';
    out['content-length'] = String(body.length);
    if (extra !== undefined) for (const k in extra) out[k] = extra[k];
    if (this.responseMutation !== null) applyMutation(out, this.responseMutation);
    this.headersSent = true;
    this.bytesSent = body.length;
    try {
      this.res.writeHead(status, out as Record<string, string>);
      this.res.end(body);
    } catch {
      // The downstream went away.
    }
    this.finish();
  }

  private abortDownstream(): void {
    if (this.h2) (this.res as Http2ServerResponse).stream.close(2 /* INTERNAL_ERROR */);
    else this.req.socket?.destroy();
    this.finish();
  }

  /** The downstream response closed: normally after it ended; before that, the client went away. */
  downstreamClosed(): void {
    (this.res as TaggedRes)[EXCHANGE] = undefined;
    if (this.closed !== null) this.closed(this.req.socket as Socket);
    if (this.done) return;
    // The client went away before the response ended.
    this.flags |= FLAG.DC;
    this.ctl?.abort(new RetryAbort());
    if (this.host !== undefined) this.endAttempt({ kind: 'reset' });
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.globalTimer !== undefined) clearTimeout(this.globalTimer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.clearTryTimer();
    this.releaseRetry();
    const lr = this.lr;
    const status = this.status;
    const elapsed = performance.now() - this.startMs;
    lr.stats.rq_active.value--;
    lr.stats.rq_completed.value++;
    const cls = (status / 100) | 0;
    if (cls >= 1 && cls <= 5) lr.stats.rq_xx[cls]!.value++;
    lr.stats.rq_time.record(elapsed);
    const cluster = this.cluster;
    if (cluster !== undefined && this.holdsRequest) {
      this.holdsRequest = false;
      cluster.upstream.release('requests');
      cluster.stats.rq_active.value--;
      cluster.stats.rq_completed.value++;
      if (status > 0) {
        if (cls >= 1 && cls <= 5) cluster.stats.rq_xx[cls]!.value++;
        cluster.codeCounter(status).value++;
      }
      cluster.stats.rq_time.record(elapsed);
    }
    this.gen.inflight--;
    if (this.gen.inflight === 0 && this.gen.onIdle !== undefined) this.gen.onIdle();
    const log = this.gen.accessLog;
    if (log !== null) this.writeLog(log, elapsed);
    const obs = this.gen.observer;
    if (obs !== null) obs(status, this.lastHostAddress, elapsed);
  }

  private lastHostAddress = '';

  private writeLog(log: (line: string) => void, elapsed: number): void {
    const h = this.req.headers;
    const up = this.upstreamHeaders;
    const entry = {
      // Wall clock now less the duration: no Date read per request when logging is off.
      start_time: new Date(Date.now() - Math.round(elapsed)).toISOString(),
      method: this.req.method ?? '-',
      path: (h['x-envoy-original-path'] as string | undefined) ?? this.req.url ?? '-',
      protocol: this.h2 ? 'HTTP/2' : `HTTP/${this.req.httpVersion}`,
      response_code: this.status,
      response_flags: reply.formatFlags(this.flags),
      bytes_received: Number(h['content-length'] ?? 0) || 0,
      bytes_sent: this.bytesSent,
      duration: Math.round(elapsed),
      upstream_service_time: this.serviceTimeMs >= 0 ? String(this.serviceTimeMs) : '-',
      x_forwarded_for: (up?.['x-forwarded-for'] as string | undefined) ?? (h['x-forwarded-for'] as string | undefined) ?? '-',
      user_agent: h['user-agent'] ?? '-',
      request_id: (up?.['x-request-id'] as string | undefined) ?? (h['x-request-id'] as string | undefined) ?? '-',
      authority: (this.h2 ? h[':authority'] : h.host) ?? '-',
      upstream_host: this.lastHostAddress || '-',
      upstream_cluster: this.cluster?.name ?? '-',
    };
    log(JSON.stringify(entry));
  }
}

const EMPTY = Buffer.alloc(0);
const EMPTY_HEADERS: IncomingHttpHeaders = {};

function uncork(r: ServerResponse): void {
  if (r.writableCorked > 0) r.uncork();
}

/** Sentinel reason for aborting an attempt on purpose (retry, timeout, downstream gone). */
class RetryAbort extends Error {
  constructor() {
    super('attempt aborted by the proxy');
    this.name = 'AbortError';
    (this as { code?: string }).code = 'UND_ERR_ABORTED';
  }
}

/** Forwards an attempt's events to the exchange only while it is still the current attempt. */
class RetrySink implements AttemptSink {
  constructor(
    private readonly ex: Exchange,
    private readonly n: number,
  ) {}
  onStart(ctl: AttemptControl): void {
    if (this.ex.current(this.n)) this.ex.onStart(ctl);
    else ctl.abort(new RetryAbort());
  }
  onHeaders(status: number, headers: OutHeaders): void {
    if (this.ex.current(this.n)) this.ex.onHeaders(status, headers);
  }
  onData(chunk: Buffer): void {
    if (this.ex.current(this.n)) this.ex.onData(chunk);
  }
  onEnd(): void {
    if (this.ex.current(this.n)) this.ex.onEnd();
  }
  onError(kind: UpstreamErrorKind, detail: string): void {
    if (this.ex.current(this.n)) this.ex.onError(kind, detail);
  }
}

function headerValue(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}
