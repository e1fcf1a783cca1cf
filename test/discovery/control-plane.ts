/** Test control planes on 127.0.0.1: Envoy v3 REST-JSON and gRPC ADS, serving whatever state the test sets. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, type DiscoveryRequestJson } from '../../src/discovery/xds-core.js';
import { ADS_METHOD, decodeRequest, encodeResource, encodeResponse } from '../../src/discovery/xds-grpc.js';

export { CLUSTER_TYPE, ENDPOINT_TYPE };

type Json = Record<string, unknown>;

/** The resources a control plane serves, per type, with a version. */
export class Snapshot {
  version = 0;
  clusters: Json[] = [];
  endpoints: Json[] = [];
  resources(typeUrl: string, names: readonly string[]): Json[] {
    if (typeUrl === CLUSTER_TYPE) return this.clusters;
    return this.endpoints.filter((e) => names.length === 0 || names.includes(String(e.cluster_name)));
  }
}

export const edsCluster = (name: string, service = name): Json => ({
  name,
  type: 'EDS',
  connect_timeout: '1s',
  eds_cluster_config: { eds_config: { ads: {} }, service_name: service },
});

export const staticClusterJson = (name: string, port: number): Json => ({
  name,
  type: 'STATIC',
  lb_policy: 'ROUND_ROBIN',
  load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
});

export const cla = (name: string, ...ports: number[]): Json => ({
  cluster_name: name,
  endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }],
});

export interface RestControlPlane {
  readonly port: number;
  readonly snapshot: Snapshot;
  readonly requests: DiscoveryRequestJson[];
  close(): Promise<void>;
}

export async function startRestControlPlane(): Promise<RestControlPlane> {
  const snapshot = new Snapshot();
  const requests: DiscoveryRequestJson[] = [];
  let nonce = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const typeUrl = req.url === '/v3/discovery:clusters' ? CLUSTER_TYPE : req.url === '/v3/discovery:endpoints' ? ENDPOINT_TYPE : '';
      if (req.method !== 'POST' || !typeUrl) {
        res.statusCode = 404;
        res.end();
        return;
      }
      const dr = JSON.parse(body) as DiscoveryRequestJson;
      requests.push(dr);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          version_info: `v${snapshot.version}`,
          type_url: typeUrl,
          nonce: String(++nonce),
          resources: snapshot.resources(typeUrl, dr.resource_names).map((r) => ({ '@type': typeUrl, ...r })),
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    snapshot,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface GrpcControlPlane {
  readonly port: number;
  readonly snapshot: Snapshot;
  readonly requests: DiscoveryRequestJson[];
  /** Send the current state of a type on every open stream (a new version). */
  push(typeUrl: string): void;
  /** Send a raw resource list (e.g. an invalid one) with a version label. */
  pushRaw(typeUrl: string, version: string, resources: Json[]): string;
  close(): Promise<void>;
}

export async function startGrpcControlPlane(): Promise<GrpcControlPlane> {
  const snapshot = new Snapshot();
  const requests: DiscoveryRequestJson[] = [];
  const streams = new Set<grpc.ServerDuplexStream<DiscoveryRequestJson, Buffer>>();
  const names = new Map<grpc.ServerDuplexStream<DiscoveryRequestJson, Buffer>, Map<string, string[]>>();
  let nonce = 0;
  const send = (call: grpc.ServerDuplexStream<DiscoveryRequestJson, Buffer>, typeUrl: string, version: string, resources: Json[]): string => {
    const n = String(++nonce);
    call.write(encodeResponse({ version_info: version, type_url: typeUrl, nonce: n, resources: resources.map((r) => encodeResource(typeUrl, r)) }));
    return n;
  };
  const server = new grpc.Server();
  server.addService(
    {
      StreamAggregatedResources: {
        path: ADS_METHOD,
        requestStream: true,
        responseStream: true,
        requestSerialize: (x: Buffer) => x,
        requestDeserialize: decodeRequest,
        responseSerialize: (x: Buffer) => x,
        responseDeserialize: (x: Buffer) => x,
      },
    },
    {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequestJson, Buffer>) => {
        streams.add(call);
        names.set(call, new Map());
        call.on('data', (req: DiscoveryRequestJson) => {
          requests.push(req);
          const subs = names.get(call)!;
          const before = subs.get(req.type_url);
          subs.set(req.type_url, req.resource_names);
          // First request of a type, or a changed subscription: answer with the current state.
          if (req.response_nonce === '' || JSON.stringify(before) !== JSON.stringify(req.resource_names)) {
            send(call, req.type_url, `v${snapshot.version}`, snapshot.resources(req.type_url, req.resource_names));
          }
        });
        call.on('end', () => {
          streams.delete(call);
          call.end();
        });
        call.on('error', () => streams.delete(call));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    snapshot,
    requests,
    push(typeUrl) {
      for (const call of streams) send(call, typeUrl, `v${snapshot.version}`, snapshot.resources(typeUrl, names.get(call)?.get(typeUrl) ?? []));
    },
    pushRaw(typeUrl, version, resources) {
      let n = '';
      for (const call of streams) n = send(call, typeUrl, version, resources);
      return n;
    },
    close: () =>
      new Promise<void>((r) => {
        server.forceShutdown();
        r();
      }),
  };
}
