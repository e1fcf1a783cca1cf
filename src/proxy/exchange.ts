/**
 * One downstream request through the proxy, as a state machine over upstream attempts: preflight (route, cluster,
 * local answers), then an attempt to a host the balancer picks, retried on the route's retry policy after a
 * jittered back-off, bounded by the per-try and the route timeout; the response streams back, or the request ends
 * with a local reply; then it is counted and logged. HTTP/1.1 and HTTP/2 downstreams share this code through node's
 * compatible request/response objects. Nothing per request is a closure: timers get the exchange as an argument, and
 * one shared 'close' listener finds its exchange through a symbol.
 */
import type { Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Host } from '../balancer/types.js';
import { PreviousPriorities } from '../balancer/retry-priority.js';
import type { HostCounters } from '../upstream/cluster-runtime.js';
import type { UpstreamOutcome } from '../upstream/types.js';
import type { AttemptControl, AttemptSink, UpstreamErrorKind } from '../upstream/pool.js';
import type { OutHeaders } from '../http/headers.js';
import { accessLogLine, type AccessLogFacts } from './access-log.js';
import type { ProxyCluster } from './cluster-stats.js';
import { connectionSocket, destroyDownstream, hasBody, requestBody, type DownReq, type DownRes } from './downstream.js';
import type { Generation, ListenerRuntime } from './generation.js';
import { applyMutation, type HeaderMutation } from './header-mutation.js';
import * as reply from './local-reply.js';
import { FLAG, type LocalReply } from './local-reply.js';
import { PREFLIGHT, preflight, routerStage } from './preflight.js';
import { FilterRun, PAUSED, type FilterHost } from './filters/chain.js';
import { RetryBody, type BodyOverflowSink } from './request-body.js';
import { idleNow, streamDurationMs, unwatchIdle, watchIdle, type IdleWatch } from './stream-timeouts.js';
import { startDeadline, stopDeadline, type Deadline, type DeadlineList } from './deadlines.js';
import { newRequestId } from './request-id.js';
import { endResponse, resetDownstream, writeHeadersOnly, writeLocalResponse, writeResponseData, writeResponseHead } from './response-writer.js';
import { grpcLocalReplyHeaders, grpcTimeoutMs, isGrpcRequest } from './grpc.js';
import { backoffMs, retriableFailure, retriableStatus, type CompiledRetry } from './retry.js';
import type { ProxyRoute } from './route-runtime.js';
import { OutgoingRequest, responseMutationOf, upstreamHeaders, upstreamPath } from './upstream-request.js';
import { openTunnel, socketClient, streamClient, upgradeAllowed, upgradeRequestHead, type TunnelSink } from './tunnel.js';
import { H1Body } from './h1-request.js';
import { H2Request } from './h2-request.js';

const CONNECTION_CLOSE: Readonly<Record<string, string>> = { connection: 'close' };

/** Called when an HTTP/1.1 downstream response closes (the listener's per-connection in-flight count): one function
 * per listener, handed to every exchange, instead of a 'close' listener closure per request. */
export type ResponseClosed = (sock: Socket) => void;

/** Handles one request. Called by the listener's server for every request. */
export function handleRequest(gen: Generation, lr: ListenerRuntime, req: DownReq, res: DownRes, closed: ResponseClosed | null = null): void {
  new Exchange(gen, lr, req, res, closed).start();
}

/**
 * An HTTP/1.1 upgrade request (`Upgrade` header) or a CONNECT: routed like any request, allowed or refused (403) per
 * upgrade_configs, then tunnelled to a host of the route's cluster. `res` is a response bound to `socket` for the
 * local replies; `head` holds bytes the client sent after its request head.
 */
export function handleTunnel(gen: Generation, lr: ListenerRuntime, req: DownReq, res: DownRes, head: Buffer): void {
  new Exchange(gen, lr, req, res, null).startTunnel(head);
}

/** An HTTP/2 CONNECT stream: RFC 8441 extended CONNECT (`:protocol`, an upgrade such as websocket) or a plain
 * CONNECT, handled as handleTunnel handles HTTP/1.1's. */
export function handleH2Tunnel(gen: Generation, lr: ListenerRuntime, req: DownReq, res: DownRes): void {
  new Exchange(gen, lr, req, res, null).startTunnel(EMPTY);
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
  details = 'http1.too_many_headers',
): void {
  new Exchange(gen, lr, req, res, closed).reject(status, body, details);
}

/** The exchange a downstream response belongs to, so one shared 'close' listener finds it (no closure per request). */
const EXCHANGE = Symbol('meshctl.exchange');
type TaggedRes = DownRes & { [EXCHANGE]?: Exchange };
type TaggedBody = Readable & { [EXCHANGE]?: Exchange };

function onResponseClose(this: TaggedRes): void {
  this[EXCHANGE]?.downstreamClosed();
}

/** Timer callbacks get the exchange as their argument: no bound function or closure per request. */
function tryTimeoutFired(ex: Exchange): void {
  ex.onTryTimeout();
}
function retryFired(ex: Exchange): void {
  ex.retryDue();
}
function durationFired(ex: Exchange): void {
  ex.onDurationTimeout();
}
function requestTimeoutFired(ex: Exchange): void {
  ex.onRequestTimeout();
}
function bodyEnded(this: TaggedBody): void {
  this[EXCHANGE]?.requestEnded();
}

class Exchange implements AttemptSink, AccessLogFacts, TunnelSink, IdleWatch, Deadline, BodyOverflowSink, FilterHost {
  private readonly startMs = performance.now();
  private cluster: ProxyCluster | undefined;
  private route: ProxyRoute | undefined;
  private retry: CompiledRetry | null = null;
  private responseMutation: HeaderMutation | null = null;
  upstreamHeaders: OutHeaders | undefined;
  private upstreamPath = '';
  private host: Host | undefined;
  private hostCounters: HostCounters | undefined;
  private attemptNo = 0;
  private attemptStartMs = 0;
  /** Hosts tried so far, kept for the previous_hosts retry predicate. */
  private tried: Set<Host> | undefined;
  /** The previous_priorities retry priority's state, made at the first attempt of a route that has one. */
  private retryPriority: PreviousPriorities | undefined;
  /** The Host the request came with (auto_host_rewrite puts it back for a host without a hostname). */
  private authority = '';
  /** Count the request on its cluster and take a slot of the requests circuit breaker; false on overflow (counted). */
  private admit(cluster: ProxyCluster): boolean {
    cluster.stats.rq_total.value++;
    if (!cluster.upstream.tryAcquire('requests')) {
      cluster.stats.rq_pending_overflow.value++;
      return false;
    }
    this.holdsRequest = true;
    cluster.stats.rq_active.value++;
    return true;
  }

  /** The request body has arrived whole. */
  private bodyComplete = false;
  // IdleWatch (stream-timeouts.ts): the idle sweeper's fields.
  idleMs = 0;
  idleMark = 0;
  idleSeen = 0;
  idlePrev: IdleWatch | null = null;
  idleNext: IdleWatch | null = null;
  idleLinked = false;
  private hash: bigint | undefined;
  private body: RetryBody | undefined;
  private ctl: AttemptControl | undefined;
  // Deadline (deadlines.ts): the route timeout, on a shared timer.
  dlAt = 0;
  dlPrev: Deadline | null = null;
  dlNext: Deadline | null = null;
  dlList: DeadlineList | null = null;
  private tryTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** max_stream_duration (the route's, the connection manager's, or what grpc-timeout makes it). */
  private durationTimer: NodeJS.Timeout | undefined;
  /** HCM request_timeout, until the request body has arrived. */
  private requestTimer: NodeJS.Timeout | undefined;
  /** The route timeout this request gets (the route's, or what grpc-timeout makes it under max_grpc_timeout). */
  private timeoutMs = 0;
  /** A gRPC request (content-type application/grpc…): local replies carry grpc-status. */
  private grpc = false;
  /** An HTTP/2 client that asked for trailers (`te: trailers`): the response ends with the upstream's trailers. */
  private wantTrailers = false;
  /** The upstream answered headers only (gRPC trailers-only): passed on as such, and the response is over. */
  private headersOnly = false;
  /** An upgrade or CONNECT tunnel is open: its end is the end of the request, not a client going away. */
  private tunnel = false;
  private headersSent = false;
  /** 100 Continue was relayed to the client. */
  private continued = false;
  private done = false;
  private holdsRequest = false;
  private holdsRetry = false;
  status = 0;
  flags = 0;
  bytesSent = 0;
  serviceTimeMs = -1;
  upstreamHost = '';
  private retried = false;
  /** The request's run through the listener's HTTP filters; undefined when the listener has none. */
  private filters: FilterRun | undefined;
  /** A tunnel request's bytes after its head, while its filters have it paused. */
  private tunnelHead: Buffer | undefined;
  /** The health_check filter took the request for a health check (the access log's not_health_check_filter). */
  get healthCheck(): boolean {
    return this.filters !== undefined && this.filters.healthCheck;
  }
  readonly h2: boolean;
  // For the access logs (access-log.ts AccessLogFacts).
  responseHeaders: OutHeaders | undefined;
  responseTrailers: OutHeaders | null = null;
  details = '';
  requestDoneMs = -1;
  firstByteMs = -1;
  transportFailure = '';
  upstreamLocal = '';
  private readonly h1Socket: Socket | null;

  constructor(
    private readonly gen: Generation,
    private readonly lr: ListenerRuntime,
    readonly req: DownReq,
    private readonly res: DownRes,
    private readonly closed: ResponseClosed | null,
  ) {
    this.h2 = req.httpVersionMajor === 2;
    // node lets go of an HTTP/1.1 request's socket when its response ends; the access log reads it after that.
    this.h1Socket = this.h2 ? null : req.socket;
  }

  get clusterName(): string | undefined {
    return this.cluster?.name;
  }

  /** The cluster's alt_stat_name, else its name (Envoy's observability name: %UPSTREAM_CLUSTER%, stats). */
  get clusterObservabilityName(): string | undefined {
    return this.cluster === undefined ? undefined : this.cluster.upstream.config.alt_stat_name || this.cluster.name;
  }

  get routeName(): string | undefined {
    return this.route?.config.name;
  }

  get sentPath(): string | undefined {
    return this.upstreamHeaders === undefined ? undefined : this.upstreamPath;
  }

  get attempts(): number {
    return this.attemptNo;
  }

  /** The request body's bytes: counted by our HTTP/1.1 codec as they arrive (chunked bodies included); over HTTP/2
   * (node's request objects do not count them) as its content-length declares them. */
  get bytesReceived(): number {
    const body = this.req.body;
    if (body instanceof H1Body) return body.bytes;
    return Number(this.req.headers['content-length'] ?? 0) || 0;
  }

  get socket(): Socket | undefined {
    return (this.h2 ? connectionSocket(this.req) : this.h1Socket) ?? undefined;
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

  reject(status: number, body: string, details: string): void {
    this.begin();
    this.lr.stats.cx_protocol_error.value++;
    this.flags |= FLAG.DPE;
    this.details = details;
    if (!this.h2) this.res.shouldKeepAlive = false;
    this.sendLocal(status, Buffer.from(body), this.h2 ? undefined : CONNECTION_CLOSE);
  }

  start(): void {
    this.begin();
    const req = this.req;
    this.grpc = isGrpcRequest(req.headers);
    if (this.lr.requestTimeoutMs > 0 && hasBody(req)) this.requestTimer = setTimeout(requestTimeoutFired, this.lr.requestTimeoutMs, this);
    const answer = preflight(this.gen, this.lr, this.req, this.startFilters());
    if (answer !== PAUSED) this.proceed(answer);
  }

  /** The request's filter run, when the listener has filters. */
  private startFilters(): FilterRun | undefined {
    const chain = this.lr.filters;
    return chain === null ? undefined : (this.filters = new FilterRun(chain, this, this.req, this.res, this.h2));
  }

  /** A fault delay is over: on to the router (or the filter's answer). */
  filtersResumed(answer: LocalReply | null): void {
    if (this.done) return;
    const filters = this.filters!;
    this.flags |= filters.flags;
    if (answer === null) {
      filters.restore(PREFLIGHT);
      answer = routerStage(this.gen, this.lr, this.req);
    }
    if (this.tunnelHead !== undefined) this.proceedTunnel(answer, this.tunnelHead);
    else this.proceed(answer);
  }

  /** A body encoder (the compressor) has ended the response. */
  bodyEncoded(): void {
    this.finish();
  }

  /** After preflight: a local answer, or the upstream attempt PREFLIGHT describes. */
  private proceed(answer: LocalReply | null): void {
    const req = this.req;
    if (answer !== null) {
      this.responseMutation = answer.responseMutation ?? null;
      return this.localReply(answer);
    }
    const p = PREFLIGHT;
    const route = p.route!;
    const cluster = p.cluster!;
    this.route = route;
    this.retry = route.ext.retry;
    this.cluster = cluster;
    this.hash = p.hash;
    const weightedIndex = p.weightedIndex;
    const authority = p.authority;
    const path = p.path;
    if (!this.admit(cluster)) return this.localReply(reply.overflow());
    this.responseMutation = responseMutationOf(route, weightedIndex);
    this.upstreamPath = upstreamPath(route, path);
    this.upstreamHeaders = upstreamHeaders(this.lr, route, weightedIndex, req, authority, path);
    this.authority = authority;
    const rt = route.ext;
    this.timeoutMs = rt.timeoutMs;
    if (this.grpc) this.grpcTimeouts(route);
    // Response trailers go to an HTTP/2 client that asked for them (TE: trailers), and to an HTTP/1.1 client in the
    // last chunk only where the connection manager's http_protocol_options.enable_trailers keeps them.
    this.wantTrailers = this.h2 ? req.headers.te === 'trailers' : this.lr.h1Trailers;
    const idle = rt.idleTimeoutMs >= 0 ? rt.idleTimeoutMs : this.lr.streamIdleTimeoutMs;
    if (idle > 0) watchIdle(this, idle);
    if (rt.streamDuration !== null || this.lr.maxStreamDurationMs > 0) {
      const ms = streamDurationMs(rt.streamDuration, this.lr.maxStreamDurationMs, req.headers['grpc-timeout']);
      // Envoy counts the duration from the stream's start.
      if (ms > 0) this.durationTimer = setTimeout(durationFired, Math.max(0, ms - (performance.now() - this.startMs)), this);
    }

    if (hasBody(this.req)) {
      const src = requestBody(this.req) as TaggedBody;
      if (this.retry !== null) this.body = new RetryBody(src, this.lr.bufferLimitBytes, this);
      src[EXCHANGE] = this;
      src.once('end', bodyEnded);
    } else {
      this.requestDoneMs = 0;
      this.startGlobalTimer();
    }
    this.attempt();
  }

  startTunnel(head: Buffer): void {
    this.begin();
    const answer = preflight(this.gen, this.lr, this.req, this.startFilters());
    if (answer === PAUSED) this.tunnelHead = head;
    else this.proceedTunnel(answer, head);
  }

  private proceedTunnel(answer: LocalReply | null, head: Buffer): void {
    const req = this.req;
    // HTTP/2: extended CONNECT names its upgrade in :protocol (RFC 8441); without it, a plain CONNECT.
    const protocol = this.h2 ? (req.headers[':protocol'] as string | undefined) : undefined;
    const connect = req.method === 'CONNECT' && protocol === undefined;
    const type = connect ? 'CONNECT' : (protocol ?? String(req.headers.upgrade ?? ''));
    // An h2c upgrade request with a body (the listener serves those without one): Envoy drops the h2c upgrade
    // headers and serves the request, so it goes upstream as a plain request with its body streamed after it.
    const h2c = !connect && type.toLowerCase() === 'h2c';
    if (answer !== null) return this.localReply(answer);
    const p = PREFLIGHT;
    const route = p.route!;
    const cluster = p.cluster!;
    this.route = route;
    this.cluster = cluster;
    // Envoy: an upgrade no upgrade_configs allows is refused with 403 (details upgrade_failed), empty body.
    if (!h2c && !upgradeAllowed(this.lr.hcm, route.config.route, type)) return this.localReply(reply.upgradeRefused());
    if (!this.admit(cluster)) return this.localReply(reply.overflow());
    const host = cluster.upstream.balancer.pick(p.hash === undefined ? undefined : { hash: p.hash, exclude: undefined });
    if (host === undefined) {
      cluster.stats.cx_none_healthy.value++;
      return this.localReply(reply.noHealthyUpstream());
    }
    // An upgraded stream is still a stream to Envoy's connection manager: stream_idle_timeout (or the route's
    // idle_timeout) ends a WebSocket or CONNECT tunnel with no bytes either way for that long.
    const idle = route.ext.idleTimeoutMs >= 0 ? route.ext.idleTimeoutMs : this.lr.streamIdleTimeoutMs;
    if (idle > 0) watchIdle(this, idle);
    this.host = host;
    this.upstreamHost = host.address;
    this.attemptNo = 1;
    this.attemptStartMs = performance.now();
    cluster.upstream.onAttemptStart(host);
    const entry = cluster.entryFor(host);
    this.hostCounters = entry.counters;
    entry.counters.rq_total++;
    this.responseMutation = responseMutationOf(route, p.weightedIndex);
    let requestHead: string | null = null;
    if (!connect) {
      this.upstreamHeaders = upstreamHeaders(this.lr, route, p.weightedIndex, req, p.authority, p.path);
      if (h2c) {
        delete this.upstreamHeaders['http2-settings'];
        // Expect: 100-continue is the proxy's to answer (as on any request); node does not for an upgrade request.
        if (String(req.headers.expect).toLowerCase() === '100-continue') req.socket?.write('HTTP/1.1 100 Continue\r\n\r\n');
      }
      // Envoy's translation of an extended CONNECT for an HTTP/1.1 upstream: a GET with the Upgrade headers.
      requestHead = upgradeRequestHead(protocol !== undefined ? 'GET' : (req.method ?? 'GET'), upstreamPath(route, p.path), this.upstreamHeaders, h2c ? null : type);
    }
    const client = this.h2 ? streamClient(req instanceof H2Request ? req.tunnelIo! : (req as Http2ServerRequest).stream) : socketClient(req.socket as Socket);
    openTunnel(client, { ip: host.ip, port: host.port, connectTimeoutMs: cluster.connectTimeoutMs, tls: cluster.tls }, requestHead, head, this);
  }

  // ---- TunnelSink ----
  tunnelOpened(status: number, localAddress: string): void {
    const now = performance.now();
    this.status = status;
    this.details = 'via_upstream';
    this.upstreamLocal = localAddress;
    this.firstByteMs = now - this.startMs;
    this.serviceTimeMs = Math.round(now - this.attemptStartMs);
    this.headersSent = true;
    this.tunnel = true;
  }

  tunnelFailed(kind: UpstreamErrorKind, detail: string): void {
    if (this.done) return;
    if (kind === 'connect-failure') this.transportFailure = detail;
    if (kind === 'reset' || kind === 'termination' || kind === 'protocol') this.cluster!.stats.rq_rx_reset.value++;
    this.endAttempt(kind === 'connect-failure' || kind === 'connect-timeout' ? { kind: 'connect-failure' } : { kind: 'reset' });
    this.localReply(reply.upstreamFailure(kind, detail, false, this.gen.upstreamFailureMode));
  }

  tunnelClosed(bytes: number): void {
    this.bytesSent = bytes;
    this.endAttempt({ kind: 'response', status: this.status });
    this.finish();
  }

  /**
   * grpc-timeout as the route reads it. max_grpc_timeout: the route timeout becomes the header's (capped), and the
   * upstream is told the same in grpc-timeout and x-envoy-expected-rq-timeout-ms (Envoy's router does).
   * (max_stream_duration's reading of the header is start()'s.)
   */
  private grpcTimeouts(route: ProxyRoute): void {
    const policy = route.ext.grpcTimeout;
    if (policy === null) return;
    const ms = grpcTimeoutMs(policy, this.req.headers['grpc-timeout']);
    this.timeoutMs = ms;
    const out = this.upstreamHeaders!;
    if (ms > 0) {
      out['x-envoy-expected-rq-timeout-ms'] = String(ms);
      out['grpc-timeout'] = `${ms}m`;
    } else delete out['x-envoy-expected-rq-timeout-ms'];
  }

  /** The request body has arrived whole. */
  requestEnded(): void {
    this.requestDoneMs = performance.now() - this.startMs;
    this.bodyComplete = true;
    this.idleMark = idleNow;
    this.startGlobalTimer();
  }

  private requestComplete(): boolean {
    return this.bodyComplete || !hasBody(this.req);
  }

  // ---- IdleWatch ----
  idleBytes(): number {
    const sock = connectionSocket(this.req);
    // An open tunnel is idle only when neither side sends: the bytes written to the client count too (over HTTP/2,
    // the session's, as its reads are).
    if (this.tunnel) return (sock?.bytesRead ?? 0) + (sock?.bytesWritten ?? 0);
    return sock?.bytesRead ?? 0;
  }

  /** Envoy's ActiveStream::onIdleTimeout: no activity for stream_idle_timeout (or the route's idle_timeout). */
  idleFired(): void {
    if (this.done) return;
    this.lr.stats.rq_idle_timeout.value++;
    this.flags |= FLAG.SI;
    if (this.tunnel) {
      // Closing the client's end (the socket, or the HTTP/2 stream) closes the upstream's and ends the exchange
      // (tunnel.ts).
      this.details = 'stream_idle_timeout';
      return destroyDownstream(this.req);
    }
    this.ctl?.abort(new RetryAbort());
    if (this.headersSent) {
      if (this.host !== undefined) this.endAttempt({ kind: 'timeout' });
      return this.abortDownstream();
    }
    const complete = this.requestComplete();
    // The rest of the body will not be read: the connection cannot carry another request.
    if (!complete && !this.h2) this.res.shouldKeepAlive = false;
    this.localReply(reply.streamIdleTimeout(complete));
  }

  // ---- BodyOverflowSink ----
  bodyOverflowed(): void {
    this.cluster!.stats.rq_retry_or_shadow_abandoned.value++;
  }

  /** The route timeout runs from the end of the request (Envoy: once the downstream request is complete). */
  startGlobalTimer(): void {
    this.clearRequestTimer();
    const ms = this.timeoutMs;
    if (ms > 0 && !this.done) startDeadline(this, ms, performance.now());
  }

  private attempt(): void {
    const cluster = this.cluster!;
    const retry = this.retry;
    const exclude = this.tried;
    const balancer = cluster.upstream.balancer;
    const priorityLoad = this.retryPriority?.priorityLoad(balancer.currentPlan());
    const host = balancer.pick(
      exclude === undefined
        ? this.hash === undefined && priorityLoad === undefined
          ? undefined
          : { hash: this.hash, priorityLoad }
        : { hash: this.hash, exclude, reselect: retry!.reselectAttempts, priorityLoad },
    );
    if (host === undefined) {
      cluster.stats.cx_none_healthy.value++;
      return this.localReply(reply.noHealthyUpstream());
    }
    this.host = host;
    if (retry !== null && retry.previousHosts) (this.tried ??= new Set()).add(host);
    if (retry !== null && retry.previousPriorities !== undefined) (this.retryPriority ??= new PreviousPriorities(retry.previousPriorities)).onHostAttempted(host);
    if (this.route!.ext.autoHostRewrite) this.autoHost(host);
    this.upstreamHost = host.address;
    this.attemptNo++;
    this.attemptStartMs = performance.now();
    cluster.upstream.onAttemptStart(host);
    const entry = cluster.entryFor(host);
    this.hostCounters = entry.counters;
    entry.counters.rq_total++;
    let body: Readable | Buffer | AsyncIterable<Buffer> | null = null;
    if (this.body !== undefined) body = this.body.next();
    else if (this.attemptNo === 1 && hasBody(this.req)) body = requestBody(this.req);
    if (retry !== null && retry.perTryTimeoutMs > 0) this.tryTimer = setTimeout(tryTimeoutFired, retry.perTryTimeoutMs, this);
    const sink = retry === null ? this : new RetrySink(this, this.attemptNo);
    // Trailers are forwarded from HTTP/2 clients, and from HTTP/1.1 ones where the connection manager keeps them.
    const trailersFrom = body !== null && (this.h2 || this.lr.h1Trailers) ? this.req : null;
    // An HTTP/1.1 request's headers were checked byte by byte by meshctl's codec: values forwarded as they came are
    // not checked again (an HTTP/1.0 request may carry the configured default Host, which no codec checked).
    const req = this.req;
    const checked = !this.h2 && req.httpVersionMinor === 1 ? req.headers : null;
    entry.pool.dispatch(new OutgoingRequest(req.method ?? 'GET', this.upstreamPath, this.upstreamHeaders!, body, trailersFrom, checked), sink);
  }

  /** auto_host_rewrite (Envoy's router, per upstream request): the chosen host's hostname when it has one (a DNS
   * cluster's name, endpoint.hostname); else the request's own Host. */
  private autoHost(host: Host): void {
    const out = this.upstreamHeaders!;
    if (host.hostname) {
      out.host = host.hostname;
      out['x-envoy-original-host'] = this.authority;
    } else {
      out.host = this.authority;
      delete out['x-envoy-original-host'];
    }
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
    const retry = this.retry;
    if (retry !== null && retriableStatus(retry, status) && this.canRetry(retry)) {
      this.endAttempt({ kind: 'response', status });
      this.ctl?.abort(new RetryAbort());
      return this.scheduleRetry();
    }
    this.clearTryTimer();
    const now = performance.now();
    this.idleMark = idleNow;
    this.status = status;
    this.details = 'via_upstream';
    this.firstByteMs = now - this.startMs;
    this.serviceTimeMs = Math.round(now - this.attemptStartMs);
    out['x-envoy-upstream-service-time'] = String(this.serviceTimeMs);
    out.server = this.lr.serverName;
    if (this.responseMutation !== null) applyMutation(out, this.responseMutation);
    if (this.lr.alwaysSetRequestId) this.setRequestId(out);
    if (this.filters !== undefined) this.filters.encodeHeaders(status, out, false);
    this.headersSent = true;
    this.responseHeaders = out;
    if (this.grpc && out['grpc-status'] !== undefined) {
      // gRPC's trailers-only response: the status is in the headers, and nothing follows.
      this.headersOnly = true;
      return writeHeadersOnly(this.res, this.h2, status, out);
    }
    try {
      writeResponseHead(this.res, this.h2, status, out, this.wantTrailers);
    } catch {
      // Headers the downstream codec refuses (malformed upstream headers): a protocol error.
      this.headersSent = false;
      this.endAttempt({ kind: 'reset' });
      this.ctl?.abort(new RetryAbort());
      return this.localReply(reply.protocolError(this.retried));
    }
  }

  /** The upstream's 100 Continue (proxy_100_continue, the request sent with Expect): relayed once to the client. */
  onContinue(): void {
    if (this.done || this.headersSent || this.continued || !this.lr.proxy100Continue || this.req.headers.expect === undefined) return;
    this.continued = true;
    this.res.writeContinue();
  }

  onData(chunk: Buffer): void {
    if (this.done || this.headersOnly) return;
    this.idleMark = idleNow;
    this.bytesSent += chunk.length;
    if (this.filters !== undefined && this.filters.encoding) return this.filters.encodeData(chunk);
    writeResponseData(this.res, this.h2, chunk, this.ctl);
  }

  onEnd(trailers: OutHeaders | null): void {
    if (this.done) return;
    this.endAttempt({ kind: 'response', status: this.status });
    this.responseTrailers = trailers;
    // A body encoder ends the response once it has flushed (then bodyEncoded finishes the exchange).
    if (!this.headersOnly && this.filters !== undefined && this.filters.encoding) return this.filters.encodeEnd(this.wantTrailers ? trailers : null);
    if (!this.headersOnly) endResponse(this.res, this.h2, this.wantTrailers ? trailers : null);
    this.finish();
  }

  onError(kind: UpstreamErrorKind, detail: string): void {
    if (this.done || kind === 'aborted') return;
    this.clearTryTimer();
    const cluster = this.cluster!;
    if (kind === 'connect-failure' || kind === 'connect-timeout') {
      this.transportFailure = kind === 'connect-failure' ? detail : '';
      this.endAttempt({ kind: 'connect-failure' });
    } else if (kind === 'reset' || kind === 'termination' || kind === 'protocol') {
      cluster.stats.rq_rx_reset.value++;
      this.endAttempt({ kind: 'reset' });
    }
    if (this.headersSent) {
      // The response already started: all we can do is reset the downstream stream, as Envoy does.
      this.flags |= FLAG.UR;
      this.details = 'upstream_reset_after_response_started{remote_reset}';
      this.abortDownstream();
      return;
    }
    const retry = this.retry;
    if (retry !== null && retriableFailure(retry, kind) && this.canRetry(retry)) return this.scheduleRetry();
    this.localReply(reply.upstreamFailure(kind, detail, this.retried, this.gen.upstreamFailureMode));
  }

  // ---- retries and timeouts ----
  private canRetry(retry: CompiledRetry): boolean {
    const cluster = this.cluster!;
    if (this.attemptNo > retry.numRetries) {
      cluster.stats.rq_retry_limit_exceeded.value++;
      this.flags |= FLAG.URX;
      return false;
    }
    if (this.body !== undefined && !this.body.replayable()) return false;
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
    const wait = backoffMs(this.retry!, this.attemptNo, this.gen.retryRandom);
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
    const retry = this.retry!;
    if (retriableFailure(retry, 'per-try-timeout') && this.canRetry(retry)) return this.scheduleRetry();
    this.localReply(reply.upstreamTimeout(true));
  }

  /** The route timeout (Deadline). */
  deadlineFired(): void {
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

  /** Envoy's onRequestTimeout: the request did not arrive whole within request_timeout, and no response began. */
  onRequestTimeout(): void {
    this.requestTimer = undefined;
    if (this.done || this.headersSent) return;
    this.lr.stats.rq_timeout.value++;
    this.ctl?.abort(new RetryAbort());
    if (this.cluster !== undefined && this.host !== undefined) this.endAttempt({ kind: 'timeout' });
    // The rest of the body will not be read: the connection cannot carry another request.
    if (!this.h2) this.res.shouldKeepAlive = false;
    this.localReply(reply.requestTimeout());
  }

  private clearRequestTimer(): void {
    if (this.requestTimer !== undefined) {
      clearTimeout(this.requestTimer);
      this.requestTimer = undefined;
    }
  }

  onDurationTimeout(): void {
    this.durationTimer = undefined;
    if (this.done) return;
    this.ctl?.abort(new RetryAbort());
    if (this.headersSent) {
      this.flags |= FLAG.DT;
      if (this.host !== undefined) this.endAttempt({ kind: 'timeout' });
      this.abortDownstream();
    } else this.localReply(reply.durationTimeout(this.requestComplete()));
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
    hc.latency.record(latency);
    this.cluster!.upstream.onAttemptEnd(host, outcome, latency);
    if (this.retried) this.releaseRetry();
    // Envoy (RetryStateImpl::shouldRetry): a retried request whose answer the policy would not retry is a retry
    // success; one that got a retriable answer again (its retries used up) is not, whatever the status class.
    if (outcome.kind === 'response' && this.retried && !retriableStatus(this.retry!, outcome.status)) this.cluster!.stats.rq_retry_success.value++;
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
    if (r.details !== undefined) this.details = r.details;
    // A host attempt that was in progress ends here (timeouts); connect/reset errors have already ended theirs.
    if (this.host !== undefined && this.ctl !== undefined) this.endAttempt({ kind: 'timeout' });
    const body = typeof r.body === 'string' ? (r.body.length > 0 ? Buffer.from(r.body) : EMPTY) : r.body;
    this.sendLocal(r.status, body, r.headers, r.grpcStatus);
  }

  private sendLocal(status: number, body: Buffer, extra: Readonly<Record<string, string>> | undefined, grpcStatus?: number): void {
    if (this.done) return;
    const out: OutHeaders = { server: this.lr.serverName };
    if (this.lr.alwaysSetRequestId) this.setRequestId(out);
    if (this.grpc) {
      // Envoy answers a gRPC request with HTTP 200 and the status mapped into grpc-status, headers only.
      if (extra !== undefined) for (const k in extra) out[k] = extra[k];
      grpcLocalReplyHeaders(out, status, body);
      if (grpcStatus !== undefined) out['grpc-status'] = String(grpcStatus);
      if (this.responseMutation !== null) applyMutation(out, this.responseMutation);
      if (this.filters !== undefined) this.filters.encodeHeaders(200, out, true);
      this.status = 200;
      this.headersSent = true;
      this.responseHeaders = out;
      writeHeadersOnly(this.res, this.h2, 200, out);
      return this.finish();
    }
    this.status = status;
    if (body.length > 0) out['content-type'] = 'text/plain';
    out['content-length'] = String(body.length);
    if (extra !== undefined) for (const k in extra) out[k] = extra[k];
    if (this.responseMutation !== null) applyMutation(out, this.responseMutation);
    if (this.filters !== undefined) this.filters.encodeHeaders(status, out, true);
    this.headersSent = true;
    this.responseHeaders = out;
    this.bytesSent = body.length;
    writeLocalResponse(this.res, status, out, body);
    this.finish();
  }

  /** always_set_request_id_in_response: the id the upstream was sent, or the client's, or (for a request answered
   * before one was made) a new one, as Envoy's connection manager makes it for every request. */
  private setRequestId(out: OutHeaders): void {
    const sent = this.upstreamHeaders?.['x-request-id'] ?? this.req.headers['x-request-id'];
    out['x-request-id'] = sent ?? (this.lr.generateRequestId ? newRequestId() : undefined);
    if (out['x-request-id'] === undefined) delete out['x-request-id'];
  }

  private abortDownstream(): void {
    resetDownstream(this.req, this.res, this.h2);
    this.finish();
  }

  /** The downstream response closed: normally after it ended; before that, the client went away. */
  downstreamClosed(): void {
    (this.res as TaggedRes)[EXCHANGE] = undefined;
    if (this.closed !== null) this.closed(this.req.socket as Socket);
    if (this.done || this.tunnel) return;
    // The client went away before the response ended.
    this.flags |= FLAG.DC;
    this.details = 'downstream_remote_disconnect';
    this.ctl?.abort(new RetryAbort());
    if (this.host !== undefined) this.endAttempt({ kind: 'reset' });
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    unwatchIdle(this);
    stopDeadline(this);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (this.durationTimer !== undefined) clearTimeout(this.durationTimer);
    this.clearRequestTimer();
    this.clearTryTimer();
    this.releaseRetry();
    if (this.filters !== undefined) this.filters.done();
    const status = this.status;
    const elapsed = performance.now() - this.startMs;
    this.lr.stats.requestDone(status, elapsed);
    const cluster = this.cluster;
    if (cluster !== undefined && this.holdsRequest) {
      this.holdsRequest = false;
      cluster.upstream.release('requests');
      cluster.stats.requestDone(status, elapsed);
    }
    const gen = this.gen;
    gen.inflight--;
    if (gen.inflight === 0 && gen.onIdle !== undefined) gen.onIdle();
    if (gen.accessLog !== null) gen.accessLog(accessLogLine(this, elapsed));
    if (this.lr.requestLogs !== null) this.lr.requestLogs.log(this, elapsed);
    if (gen.observer !== null) gen.observer(status, this.upstreamHost, elapsed);
  }
}

const EMPTY = Buffer.alloc(0);

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
  onEnd(trailers: OutHeaders | null): void {
    if (this.ex.current(this.n)) this.ex.onEnd(trailers);
  }
  onError(kind: UpstreamErrorKind, detail: string): void {
    if (this.ex.current(this.n)) this.ex.onError(kind, detail);
  }
  onContinue(): void {
    if (this.ex.current(this.n)) this.ex.onContinue();
  }
}
