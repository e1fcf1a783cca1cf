/**
 * gRPC ADS (`envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources`, state of the world)
 * over @grpc/grpc-js, with messages from schemas/xds.proto through protobufjs. Resources arrive as Any; they are
 * decoded with the matching message of xds.proto into proto3 JSON and go through the same XdsState (validation,
 * ACK/NACK) as REST. A broken stream reconnects with back-off, re-sending the accepted versions with no nonce.
 * This module (and grpc-js) is imported only when the config asks for gRPC xDS.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { durationText, parseDuration } from '../config/model.js';
import type { TimerHandle } from '../time/timers.js';
import { backoffMs, type DiscoveryDeps, type DiscoveryHandle } from './types.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, XdsState, type DiscoveryRequestJson, type DiscoveryResponseJson } from './xds-core.js';

export const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** schemas/xds.proto, found from src/ (tsx) or dist/src/ (built). */
function protoPath(): string {
  for (const rel of ['../../../schemas/xds.proto', '../../schemas/xds.proto']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('schemas/xds.proto not found');
}

interface XdsTypes {
  readonly root: protobuf.Root;
  readonly request: protobuf.Type;
  readonly response: protobuf.Type;
  readonly byUrl: ReadonlyMap<string, protobuf.Type>;
}

let cached: XdsTypes | undefined;

function xdsTypes(): XdsTypes {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.loadSync(protoPath(), { keepCase: true });
  root.resolveAll();
  const t = (n: string) => root.lookupType(`envoy.service.discovery.v3.${n}`);
  cached = {
    root,
    request: t('DiscoveryRequest'),
    response: t('DiscoveryResponse'),
    byUrl: new Map([
      [CLUSTER_TYPE, t('Cluster')],
      [ENDPOINT_TYPE, t('ClusterLoadAssignment')],
    ]),
  };
  return cached;
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `.google.protobuf.${n}`));

/** A decoded message → proto3 JSON (snake_case): Durations as "1.5s", wrappers as plain values, enums by name. */
function messageToJson(type: protobuf.Type, msg: protobuf.Message | Record<string, unknown>): Record<string, unknown> {
  const obj = type.toObject(msg as protobuf.Message, { enums: String, longs: Number, defaults: false });
  return walkOut(type, obj);
}

function walkOut(type: protobuf.Type, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    const conv = (x: unknown): unknown => {
      const rt = f.resolvedType;
      if (!(rt instanceof protobuf.Type)) return x;
      const o = x as Record<string, unknown>;
      if (rt.fullName === '.google.protobuf.Duration') return durationText({ seconds: Number(o.seconds ?? 0), nanos: Number(o.nanos ?? 0) }, 'envoy');
      if (WRAPPERS.has(rt.fullName)) return o.value ?? (rt.fullName.endsWith('BoolValue') ? false : 0);
      return walkOut(rt, o);
    };
    out[f.name] = f.repeated && Array.isArray(v) ? v.map(conv) : conv(v);
  }
  return out;
}

/** proto3 JSON (snake_case) → a message object protobufjs can encode (the inverse of messageToJson). */
function walkIn(type: protobuf.Type, json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) {
    const f = type.fields[k];
    if (f === undefined || v === undefined || v === null) continue;
    const conv = (x: unknown): unknown => {
      const rt = f.resolvedType;
      if (!(rt instanceof protobuf.Type)) return x;
      if (rt.fullName === '.google.protobuf.Duration') {
        const d = typeof x === 'string' ? parseDuration(x) : (x as { seconds: number; nanos: number });
        return d ?? { seconds: 0, nanos: 0 };
      }
      if (WRAPPERS.has(rt.fullName)) return { value: x };
      return walkIn(rt, x as Record<string, unknown>);
    };
    out[k] = f.repeated && Array.isArray(v) ? v.map(conv) : conv(v);
  }
  return out;
}

/** Pack a proto3-JSON resource as an Any (control planes in tests; the inverse of what the client decodes). */
export function encodeResource(typeUrl: string, json: Record<string, unknown>): { type_url: string; value: Uint8Array } {
  const type = xdsTypes().byUrl.get(typeUrl);
  if (!type) throw new Error(`no message for ${typeUrl}`);
  const msg = type.fromObject(walkIn(type, json));
  return { type_url: typeUrl, value: type.encode(msg).finish() };
}

function encodeRequest(req: DiscoveryRequestJson): Buffer {
  const t = xdsTypes().request;
  return Buffer.from(t.encode(t.fromObject(req as unknown as Record<string, unknown>)).finish());
}

export function decodeRequest(buf: Buffer): DiscoveryRequestJson {
  const t = xdsTypes().request;
  const o = t.toObject(t.decode(buf), { defaults: true, longs: Number, arrays: true }) as DiscoveryRequestJson & { error_detail?: { code: number; message: string } | null };
  if (o.error_detail === null) delete o.error_detail;
  return o;
}

interface RawDiscoveryResponse {
  version_info?: string;
  resources?: { type_url: string; value: Uint8Array }[];
  type_url?: string;
  nonce?: string;
}

export function encodeResponse(resp: RawDiscoveryResponse): Buffer {
  const t = xdsTypes().response;
  return Buffer.from(t.encode(t.fromObject(resp as Record<string, unknown>)).finish());
}

/** A wire DiscoveryResponse → the JSON form XdsState takes (each Any decoded by its type URL). */
export function decodeResponse(buf: Buffer): DiscoveryResponseJson {
  const types = xdsTypes();
  const msg = types.response.decode(buf) as unknown as RawDiscoveryResponse;
  const resources = (msg.resources ?? []).map((any) => {
    const type = types.byUrl.get(any.type_url);
    if (!type) return { '@type': any.type_url };
    try {
      return { '@type': any.type_url, ...messageToJson(type, type.decode(any.value)) };
    } catch (err) {
      return { '@type': any.type_url, __decode_error: (err as Error).message };
    }
  });
  return { version_info: msg.version_info ?? '', resources, type_url: msg.type_url ?? '', nonce: msg.nonce ?? '' };
}

interface XdsGrpcOptions {
  /** `ip:port` of the control plane. */
  readonly address: string;
  readonly cds: boolean;
  readonly eds: boolean;
  /** Reconnect back-off base (default 500 ms, max 30 s). */
  readonly retryBaseMs?: number;
}

export class XdsGrpcClient implements DiscoveryHandle {
  readonly ready: Promise<void>;
  private readonly client: grpc.Client;
  private stream: grpc.ClientDuplexStream<DiscoveryRequestJson, DiscoveryResponseJson> | undefined;
  private closed = false;
  private failures = 0;
  private timer: TimerHandle | undefined;
  private sentEds = '';
  private resolveReady!: () => void;

  constructor(
    readonly state: XdsState,
    private readonly opts: XdsGrpcOptions,
    private readonly deps: DiscoveryDeps,
  ) {
    this.ready = new Promise((r) => (this.resolveReady = r));
    xdsTypes();
    this.client = new grpc.Client(opts.address, grpc.credentials.createInsecure());
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
    const stream = this.client.makeBidiStreamRequest<DiscoveryRequestJson, DiscoveryResponseJson>(ADS_METHOD, encodeRequest, decodeResponse);
    this.stream = stream;
    this.state.resetNonces();
    this.sentEds = '';
    let got = false;
    stream.on('data', (resp: DiscoveryResponseJson) => {
      got = true;
      this.failures = 0;
      const reply = this.state.onResponse(resp);
      stream.write(reply);
      if (reply.type_url === ENDPOINT_TYPE) this.sentEds = reply.resource_names.join('\n');
      this.maybeSubscribeEds(stream);
      this.resolveReady();
    });
    const broken = (why: string): void => {
      if (this.stream !== stream || this.closed) return;
      this.stream = undefined;
      this.state.stats.update_failure++;
      this.failures = got ? 1 : this.failures + 1;
      this.deps.log?.(`xds grpc: ${this.opts.address}: stream ended (${why}); reconnecting`);
      this.resolveReady();
      const base = this.opts.retryBaseMs ?? 500;
      this.timer = this.deps.timers.setTimeout(() => {
        this.timer = undefined;
        this.connect();
      }, backoffMs(this.failures, base, 30_000));
    };
    stream.on('error', (err: Error) => broken(err.message));
    stream.on('end', () => broken('end of stream'));
    if (this.opts.cds) stream.write(this.state.request(CLUSTER_TYPE));
    this.maybeSubscribeEds(stream);
  }

  /** (Re)subscribe EDS when the set of EDS names changed (new clusters from CDS, a reload). */
  maybeSubscribeEds(stream = this.stream): void {
    if (!stream || !this.opts.eds) return;
    const req = this.state.request(ENDPOINT_TYPE);
    const key = req.resource_names.join('\n');
    if (key === this.sentEds || req.resource_names.length === 0) return;
    this.sentEds = key;
    stream.write(req);
  }
}
