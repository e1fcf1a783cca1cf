/**
 * The gRPC side of `meshctl serve`: Envoy's discovery services on @grpc/grpc-js, with their methods as Envoy's API
 * declares them (schemas/envoy-api, envoy.service.*.v3): the aggregated service (StreamAggregatedResources,
 * DeltaAggregatedResources) and the per-type services (Cluster, Endpoint, Listener and Route discovery: Stream*,
 * Delta*, and the unary Fetch*). Messages are Envoy's own (config/envoy-api/wire.ts); TLS with an optional demand
 * for client certificates.
 */
import * as grpc from '@grpc/grpc-js';
import type { EnvoyApi } from '../config/envoy-api/descriptors.js';
import type { JsonValue } from '../config/json-value.js';
import {
  ADS_SERVICE,
  CLUSTER_TYPE,
  DELTA_DISCOVERY_REQUEST,
  DISCOVERY_REQUEST,
  ENDPOINT_TYPE,
  KIND_SERVICE,
  LISTENER_TYPE,
  ROUTE_TYPE,
} from '../config/envoy-api/xds-protocol.js';
import { SHORT_TYPE, type ResourceType } from './resources.js';
import { DeltaStream, SotwStream, type DeltaDiscoveryRequest, type DiscoveryRequest, type StreamContext } from './streams.js';

/** Each service and the one type it serves (undefined: all of them). */
const SERVICES: ReadonlyArray<readonly [string, ResourceType | undefined]> = [
  [ADS_SERVICE.name, undefined],
  [KIND_SERVICE.CDS.name, CLUSTER_TYPE],
  [KIND_SERVICE.EDS.name, ENDPOINT_TYPE],
  [KIND_SERVICE.LDS.name, LISTENER_TYPE],
  [KIND_SERVICE.RDS.name, ROUTE_TYPE],
];

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, clients must present a certificate signed by this CA. */
  readonly clientCa?: Buffer;
}

type Json = { [k: string]: JsonValue };

interface XdsServer {
  readonly port: number;
  /** Stop accepting, end every stream. */
  close(): Promise<void>;
}

/** Starts the discovery services on `host:port` (port 0: any free port). */
export async function startXdsServer(ctx: StreamContext, api: EnvoyApi, host: string, port: number, tls: TlsFiles | undefined): Promise<XdsServer> {
  // Streams are long-lived by design: no keepalive-driven idle limit, a generous message size for big snapshots.
  const server = new grpc.Server({ 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const decode = (type: string) => (buf: Buffer): Json => ctx.codec.decode(type, buf);
  const raw = (b: Buffer): Buffer => b;
  const open = new Set<grpc.ServerDuplexStream<Json, Buffer>>();
  for (const [service, fixed] of SERVICES) {
    const methods = api.service(service);
    if (methods === undefined) throw new Error(`${service} is not in schemas/envoy-api`);
    const definition: Record<string, grpc.MethodDefinition<Json, Buffer>> = {};
    const handlers: grpc.UntypedServiceImplementation = {};
    const kindBase = fixed === undefined ? 'ads' : SHORT_TYPE[fixed];
    for (const [name, m] of Object.entries(methods)) {
      const delta = m.request === DELTA_DISCOVERY_REQUEST;
      if (!delta && m.request !== DISCOVERY_REQUEST) continue;
      definition[name] = {
        path: `/${service}/${name}`,
        requestStream: m.requestStream === true,
        responseStream: m.responseStream === true,
        requestSerialize: (x: Json) => Buffer.from(ctx.codec.encode(m.request, x)),
        requestDeserialize: decode(m.request),
        responseSerialize: raw,
        responseDeserialize: raw,
      };
      if (m.requestStream !== true) {
        handlers[name] = fetchHandler(ctx, fixed);
        continue;
      }
      handlers[name] = (call: grpc.ServerDuplexStream<Json, Buffer>): void => {
        open.add(call);
        const write = (b: Buffer): void => void call.write(b);
        const kind = delta ? `delta-${kindBase}` : kindBase;
        const stream = delta ? new DeltaStream(ctx, kind, call.getPeer(), fixed, write) : new SotwStream(ctx, kind, call.getPeer(), fixed, write);
        call.on('data', (req: Json) => {
          try {
            if (stream instanceof DeltaStream) stream.onRequest(req as DeltaDiscoveryRequest);
            else stream.onRequest(req as DiscoveryRequest);
          } catch (err) {
            ctx.log(`meshctl serve: stream #${stream.status.stream}: ${(err as Error).message}`);
            call.destroy(err as Error);
          }
        });
        const end = (): void => {
          stream.close();
          open.delete(call);
        };
        call.on('end', () => {
          end();
          call.end();
        });
        call.on('error', end);
        call.on('close', end);
        call.on('cancelled', end);
      };
    }
    server.addService(definition, handlers);
  }
  const creds = tls === undefined
    ? grpc.ServerCredentials.createInsecure()
    : grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined);
  const bound = await new Promise<number>((resolve, reject) => {
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    server.bindAsync(target, creds, (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const call of open) call.end();
        server.tryShutdown(() => resolve());
        // Streams that do not end within a moment are cut.
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      }),
  };
}

/** Fetch* (unary, the gRPC form of a REST poll): the subscribed resources now, as one DiscoveryResponse. */
function fetchHandler(ctx: StreamContext, fixed: ResourceType | undefined): grpc.handleUnaryCall<Json, Buffer> {
  return (call, callback) => {
    const chunks: Buffer[] = [];
    const stream = new SotwStream(ctx, `fetch-${fixed === undefined ? 'ads' : SHORT_TYPE[fixed]}`, call.getPeer(), fixed, (b) => chunks.push(b));
    try {
      stream.onRequest({ ...(call.request as DiscoveryRequest), response_nonce: '' });
    } finally {
      stream.close();
    }
    if (chunks.length === 0) callback({ code: grpc.status.INVALID_ARGUMENT, details: 'no such resource type' });
    else callback(null, chunks[0]!);
  };
}
