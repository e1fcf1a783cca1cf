/** A hand-written xDS client for the protocol tests: grpc-js streams, Envoy's messages through the wire codec. */
import * as grpc from '@grpc/grpc-js';
import type { JsonValue } from '../../src/config/json-value.js';
import { WireCodec } from '../../src/config/envoy-api/wire.js';

export type Json = { [k: string]: JsonValue };

const codec = new WireCodec();

export const TYPES = {
  cds: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  eds: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  lds: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  rds: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
} as const;

export interface TestStream {
  send(req: Json): void;
  /** The next response (rejects after `ms`). */
  next(ms?: number): Promise<Json>;
  /** Resolves true when no response arrives within `ms`. */
  quiet(ms: number): Promise<boolean>;
  close(): void;
}

export class XdsTestClient {
  private readonly client: grpc.Client;

  constructor(address: string, creds: grpc.ChannelCredentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    this.client = new grpc.Client(address, creds, options);
  }

  /** A bidirectional stream of `service/method`; delta methods take Delta* messages. */
  stream(path: string): TestStream {
    const delta = path.includes('/Delta');
    const req = `envoy.service.discovery.v3.${delta ? 'DeltaDiscoveryRequest' : 'DiscoveryRequest'}`;
    const res = `envoy.service.discovery.v3.${delta ? 'DeltaDiscoveryResponse' : 'DiscoveryResponse'}`;
    const call = this.client.makeBidiStreamRequest<Json, Json>(path, (m) => Buffer.from(codec.encode(req, m)), (b) => codec.decode(res, b));
    const queue: Json[] = [];
    const waiters: (() => void)[] = [];
    let failure: Error | undefined;
    call.on('data', (m: Json) => {
      queue.push(m);
      for (const w of waiters.splice(0)) w();
    });
    call.on('error', (err: Error) => {
      failure = err;
      for (const w of waiters.splice(0)) w();
    });
    const next = (ms = 5000): Promise<Json> =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          // A waiter that gave up must not take the next response.
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`no response within ${ms} ms`));
        }, ms);
        const check = (): void => {
          if (queue.length > 0) {
            clearTimeout(t);
            resolve(queue.shift()!);
          } else if (failure !== undefined) {
            clearTimeout(t);
            reject(failure);
          } else waiters.push(check);
        };
        check();
      });
    return {
      send: (m) => void call.write(m),
      next,
      quiet: (ms) => next(ms).then(() => false, () => true),
      close: () => call.cancel(),
    };
  }

  unary(path: string, request: Json): Promise<Json> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Json, Json>(
        path,
        (m) => Buffer.from(codec.encode('envoy.service.discovery.v3.DiscoveryRequest', m)),
        (b) => codec.decode('envoy.service.discovery.v3.DiscoveryResponse', b),
        request,
        (err, res) => (err ? reject(err) : resolve(res!)),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** The names of a response's resources (SotW: Any bodies; delta: Resource entries). */
export function names(res: Json): string[] {
  const list = Array.isArray(res.resources) ? (res.resources as Json[]) : [];
  return list.map((r) => String(r.name ?? (r.resource as Json | undefined)?.name ?? r.cluster_name ?? '')).sort();
}

export const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
export const DELTA_ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';
