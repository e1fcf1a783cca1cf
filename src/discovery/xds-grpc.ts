/**
 * gRPC xDS over @grpc/grpc-js: ADS — `StreamAggregatedResources` (state of the world) or `DeltaAggregatedResources`
 * (incremental), every subscribed type on one stream — or one type's own service (`StreamClusters`, …) when the
 * config source names an api_config_source rather than `ads: {}`; messages in Envoy's binary form (xds-messages.ts). Requests go
 * out in Envoy's order (CDS, EDS, LDS, RDS); every response is answered with the ACK/NACK XdsState decides, and a
 * changed EDS/RDS subscription (new clusters or listeners) is sent at once. Responses are handled one at a time, in
 * order. A broken stream reconnects with back-off: state of the world re-sends the accepted versions with no nonce,
 * delta re-announces the versions it holds (initial_resource_versions).
 * This module (and grpc-js, and Envoy's descriptors) is imported only when the config asks for gRPC xDS.
 */
import * as grpc from '@grpc/grpc-js';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import type { TimerHandle } from '../time/timers.js';
import { backoffMs, type DiscoveryDeps } from './types.js';
import type { XdsState } from './xds-core.js';
import type { XdsTransport } from './xds.js';
import {
  decodeDeltaResponse,
  decodeDiscoveryResponse,
  encodeDeltaRequest,
  encodeDiscoveryRequest,
  type Undecodable,
} from './xds-messages.js';
import {
  ADS_SERVICE,
  isWildcardKind,
  kindOf,
  type DeltaDiscoveryRequestJson,
  type DeltaDiscoveryResponseJson,
  type DiscoveryRequestJson,
  type DiscoveryResponseJson,
  type XdsKind,
  type XdsService,
} from '../config/envoy-api/xds-protocol.js';

interface XdsGrpcOptions {
  /** `ip:port` of the control plane. */
  readonly address: string;
  readonly kinds: readonly XdsKind[];
  /** Incremental xDS (DeltaAggregatedResources) instead of state of the world. */
  readonly delta: boolean;
  /** The stream's methods: ADS (default) or one type's service. */
  readonly methods?: XdsService;
  /** Reconnect back-off base (default 500 ms, max 30 s). */
  readonly retryBaseMs?: number;
  /** The control-plane cluster's UpstreamTlsContext as TLS client options: gRPC over TLS, as Envoy's gRPC client
   * connects through the cluster's transport socket. */
  readonly tls?: ConnectionOptions;
}

type Request = DiscoveryRequestJson | DeltaDiscoveryRequestJson;
type Response = DiscoveryResponseJson | DeltaDiscoveryResponseJson | Undecodable;
type Stream = grpc.ClientDuplexStream<Request, Response>;

export class XdsGrpcClient implements XdsTransport {
  readonly ready: Promise<void>;
  private readonly client: grpc.Client;
  private stream: Stream | undefined;
  private closed = false;
  private failures = 0;
  private timer: TimerHandle | undefined;
  /** State of the world: the names last sent per EDS/RDS, to see a changed subscription. */
  private readonly sentNames = new Map<XdsKind, string>();
  /** Delta: the types whose first request went out on this stream. */
  private readonly opened = new Set<XdsKind>();
  private queue: Promise<void> = Promise.resolve();
  /** The current stream has answered (Envoy's control_plane.connected_state). */
  private answered = false;
  private resolveReady!: () => void;

  constructor(
    readonly state: XdsState,
    private readonly opts: XdsGrpcOptions,
    private readonly deps: DiscoveryDeps,
  ) {
    this.ready = new Promise((r) => (this.resolveReady = r));
    this.client = opts.tls === undefined ? new grpc.Client(opts.address, grpc.credentials.createInsecure()) : tlsClient(opts.address, opts.tls);
    this.connect();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.stream?.cancel();
    this.client.close();
    this.resolveReady();
  }

  private connect(): void {
    if (this.closed) return;
    const methods = this.opts.methods ?? ADS_SERVICE;
    const stream = this.opts.delta
      ? this.client.makeBidiStreamRequest<Request, Response>(methods.delta, (r) => encodeDeltaRequest(r as DeltaDiscoveryRequestJson), decodeDeltaResponse)
      : this.client.makeBidiStreamRequest<Request, Response>(methods.sotw, (r) => encodeDiscoveryRequest(r as DiscoveryRequestJson), decodeDiscoveryResponse);
    this.stream = stream;
    this.state.resetStream(this.opts.kinds);
    this.sentNames.clear();
    this.opened.clear();
    this.queue = Promise.resolve();
    let got = false;
    this.answered = false;
    stream.on('data', (resp: Response) => {
      got = true;
      this.answered = true;
      this.failures = 0;
      this.queue = this.queue.then(() => this.handle(stream, resp)).catch((err: Error) => this.deps.log?.(`xds grpc: ${err.message}`));
    });
    const broken = (why: string): void => {
      if (this.stream !== stream || this.closed) return;
      this.stream = undefined;
      this.answered = false;
      for (const kind of this.opts.kinds) this.state.failed(kind);
      this.failures = got ? 1 : this.failures + 1;
      this.deps.log?.(`xds grpc: ${this.opts.address}: stream ended (${why}); reconnecting`);
      this.resolveReady();
      const base = this.opts.retryBaseMs ?? 500;
      this.timer = this.deps.timers.setTimeout(() => {
        this.timer = undefined;
        this.connect();
      }, backoffMs(this.failures, base, 30_000, this.deps.random));
    };
    stream.on('error', (err: Error) => broken(err.message));
    stream.on('end', () => broken('end of stream'));
    this.subscribe(stream);
  }

  private async handle(stream: Stream, resp: Response): Promise<void> {
    if (this.stream !== stream) return;
    if ('decode_error' in resp) {
      // Without a decoded nonce there is nothing to NACK: start a new stream, as a transport failure.
      this.deps.log?.(`xds grpc: a response could not be decoded (${resp.decode_error})`);
      stream.cancel();
      return;
    }
    const reply = this.opts.delta
      ? await this.state.onDeltaResponse(resp as DeltaDiscoveryResponseJson)
      : await this.state.onResponse(resp as DiscoveryResponseJson);
    if (this.stream !== stream) return;
    stream.write(reply);
    if (!this.opts.delta) {
      // The ACK carries the names too: a subscription the ACK already stated needs no request of its own.
      const r = reply as DiscoveryRequestJson;
      const kind = kindOf(r.type_url);
      if (kind !== undefined && !isWildcardKind(kind)) this.sentNames.set(kind, r.resource_names.join('\n'));
    }
    this.subscribe(stream);
    this.resolveReady();
  }

  connected(): boolean {
    return this.answered;
  }

  /** A subscription may have changed (clusters or listeners added or removed, a reload). */
  resubscribe(): void {
    if (this.stream !== undefined) this.subscribe(this.stream);
  }

  /** Send each type's first request, and EDS/RDS requests whose names changed. */
  private subscribe(stream: Stream): void {
    for (const kind of this.opts.kinds) {
      if (this.opts.delta) {
        if (!this.opened.has(kind)) {
          if (!isWildcardKind(kind) && this.state.request(kind).resource_names.length === 0) continue;
          this.opened.add(kind);
          stream.write(this.state.deltaInitial(kind));
        } else if (!isWildcardKind(kind)) {
          const change = this.state.deltaResubscribe(kind as 'EDS' | 'RDS');
          if (change !== undefined) stream.write(change);
        }
        continue;
      }
      const req = this.state.request(kind);
      const key = req.resource_names.join('\n');
      if (isWildcardKind(kind)) {
        if (this.sentNames.has(kind)) continue;
      } else if (this.sentNames.get(kind) === key || (req.resource_names.length === 0 && !this.sentNames.has(kind))) continue;
      this.sentNames.set(kind, key);
      stream.write(req);
    }
  }
}

/**
 * A gRPC channel over TLS with the cluster's own client options: its CA, client certificate, versions, ciphers, and
 * Envoy's verification rules (none without a validation_context; match_subject_alt_names instead of the host name),
 * which upstream-tls.ts expresses as rejectUnauthorized and checkServerIdentity. SNI only when the context sets one.
 */
function tlsClient(address: string, tls: ConnectionOptions): grpc.Client {
  const { ca, cert, key, minVersion, maxVersion, ciphers, ecdhCurve, rejectUnauthorized, checkServerIdentity, servername } = tls;
  const context = createSecureContext({ ca, cert, key, minVersion, maxVersion, ciphers, ecdhCurve });
  const credentials = grpc.credentials.createFromSecureContext(context, {
    ...(rejectUnauthorized !== undefined ? { rejectUnauthorized } : {}),
    ...(checkServerIdentity !== undefined ? { checkServerIdentity } : {}),
  });
  return new grpc.Client(address, credentials, servername !== undefined ? { 'grpc.ssl_target_name_override': servername } : {});
}
