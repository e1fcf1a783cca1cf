/**
 * Test control planes on 127.0.0.1: Envoy v3 REST-JSON, and gRPC ADS in both variants (state of the world and delta)
 * on one grpc-js server, serving whatever snapshot the test sets, for LDS, RDS, CDS and EDS. Every request the client
 * sends is recorded (decoded), so tests can check ACKs, NACKs and error_detail.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import {
  ADS_SERVICE,
  CLUSTER_TYPE,
  ENDPOINT_TYPE,
  KIND_SERVICE,
  LISTENER_TYPE,
  ROUTE_TYPE,
  kindOf,
  type DeltaDiscoveryRequestJson,
  type DiscoveryRequestJson,
} from '../../src/config/envoy-api/xds-protocol.js';
import { REST_PATH } from '../../src/discovery/xds-resources.js';
import { decodeDeltaRequest, decodeDiscoveryRequest, encodeDeltaResponse, encodeDiscoveryResponse } from '../../src/discovery/xds-messages.js';

export { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE };

type Json = Record<string, unknown>;

/** The resources a control plane serves, per type URL, with one version for all. */
export class Snapshot {
  version = 0;
  clusters: Json[] = [];
  endpoints: Json[] = [];
  listeners: Json[] = [];
  routes: Json[] = [];
  all(typeUrl: string): Json[] {
    if (typeUrl === CLUSTER_TYPE) return this.clusters;
    if (typeUrl === ENDPOINT_TYPE) return this.endpoints;
    if (typeUrl === LISTENER_TYPE) return this.listeners;
    if (typeUrl === ROUTE_TYPE) return this.routes;
    return [];
  }
  /** The resources a request asks for (a wildcard type: all). */
  resources(typeUrl: string, names: readonly string[]): Json[] {
    const all = this.all(typeUrl);
    if (typeUrl === CLUSTER_TYPE || typeUrl === LISTENER_TYPE) return all;
    return all.filter((r) => names.includes(nameOf(typeUrl, r)));
  }
}

export function nameOf(typeUrl: string, r: Json): string {
  return String(typeUrl === ENDPOINT_TYPE ? r.cluster_name : r.name);
}

export const edsCluster = (name: string, service = name): Json => ({
  name,
  type: 'EDS',
  connect_timeout: '1s',
  eds_cluster_config: { eds_config: { ads: {} }, service_name: service },
});

export const staticClusterJson = (name: string, port: number, address = '127.0.0.1'): Json => ({
  name,
  type: 'STATIC',
  connect_timeout: '1s',
  lb_policy: 'ROUND_ROBIN',
  load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address, port_value: port } } } }] }] },
});

export const cla = (name: string, ...ports: number[]): Json => ({
  cluster_name: name,
  endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }],
});

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/** An LDS listener on 127.0.0.1:port whose connection manager takes route configuration `routeName` over ADS. */
export const rdsListener = (name: string, port: number, routeName: string, initialFetchTimeout?: string): Json => ({
  name,
  address: { socket_address: { address: '127.0.0.1', port_value: port } },
  filter_chains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': HCM,
            stat_prefix: name,
            rds: { route_config_name: routeName, config_source: { ads: {}, resource_api_version: 'V3', ...(initialFetchTimeout ? { initial_fetch_timeout: initialFetchTimeout } : {}) } },
            http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
          },
        },
      ],
    },
  ],
});

/** An RDS route configuration: every path to one cluster, or split by weight. */
export const routeConfig = (name: string, clusters: Record<string, number> | string): Json => ({
  name,
  virtual_hosts: [
    {
      name: 'all',
      domains: ['*'],
      routes: [
        {
          match: { prefix: '/' },
          route:
            typeof clusters === 'string'
              ? { cluster: clusters }
              : { weighted_clusters: { clusters: Object.entries(clusters).map(([n, weight]) => ({ name: n, weight })) } },
        },
      ],
    },
  ],
});

export interface RestControlPlane {
  readonly port: number;
  readonly snapshot: Snapshot;
  readonly requests: DiscoveryRequestJson[];
  close(): Promise<void>;
}

/** `tls`: serve HTTPS with this certificate; with `clientCa`, only to clients whose certificate it signed. */
export async function startRestControlPlane(tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer }): Promise<RestControlPlane> {
  const snapshot = new Snapshot();
  const requests: DiscoveryRequestJson[] = [];
  const urls = new Map(Object.entries(REST_PATH).map(([kind, path]) => [path, kind]));
  let nonce = 0;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const kind = urls.get(req.url ?? '');
      if (req.method !== 'POST' || kind === undefined) {
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
          type_url: dr.type_url,
          nonce: String(++nonce),
          resources: snapshot.resources(dr.type_url, dr.resource_names).map((r) => ({ '@type': dr.type_url, ...r })),
        }),
      );
    });
  };
  const server =
    tls === undefined
      ? http.createServer(handler)
      : https.createServer({ cert: tls.cert, key: tls.key, ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, handler);
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

/** One request as a test sees it, SotW or delta, with the stream's variant and gRPC method. */
export type SeenRequest = ((DiscoveryRequestJson & { delta?: false }) | (DeltaDiscoveryRequestJson & { delta: true })) & { method: string };

export interface GrpcControlPlane {
  readonly port: number;
  readonly snapshot: Snapshot;
  readonly requests: SeenRequest[];
  /** Open streams (SotW and delta). */
  streams(): number;
  /** Send the current state of a type on every open stream (a new version; delta sends what changed). */
  push(typeUrl: string): void;
  /** Send a raw resource list (e.g. an invalid one) with a version label; returns the last nonce used. */
  pushRaw(typeUrl: string, version: string, resources: Json[]): string;
  /** End every open stream (the client reconnects). */
  dropStreams(): void;
  close(): Promise<void>;
}

interface SotwStream {
  readonly call: grpc.ServerDuplexStream<DiscoveryRequestJson, Buffer>;
  readonly names: Map<string, string[]>;
}

interface DeltaStream {
  readonly call: grpc.ServerDuplexStream<DeltaDiscoveryRequestJson, Buffer>;
  /** Per type: subscribed names (undefined = wildcard) and what the client has (name → version). */
  readonly subs: Map<string, { wildcard: boolean; names: Set<string>; sent: Map<string, string> }>;
}

export async function startGrpcControlPlane(): Promise<GrpcControlPlane> {
  const snapshot = new Snapshot();
  const requests: SeenRequest[] = [];
  const sotw = new Set<SotwStream>();
  const delta = new Set<DeltaStream>();
  let nonce = 0;
  const sendSotw = (s: SotwStream, typeUrl: string, version: string, resources: Json[]): string => {
    const n = String(++nonce);
    s.call.write(encodeDiscoveryResponse({ version_info: version, type_url: typeUrl, nonce: n, resources: resources.map((r) => ({ '@type': typeUrl, ...r })) }));
    return n;
  };
  /** Delta: send what the client lacks or has in another version, and what it has that is gone. */
  const sendDelta = (s: DeltaStream, typeUrl: string, force?: { version: string; resources: Json[] }): string | undefined => {
    const sub = s.subs.get(typeUrl);
    if (sub === undefined) return undefined;
    const version = force?.version ?? `v${snapshot.version}`;
    const want = (force?.resources ?? snapshot.all(typeUrl)).filter((r) => sub.wildcard || sub.names.has(nameOf(typeUrl, r)));
    const changed = force ? want : want.filter((r) => sub.sent.get(nameOf(typeUrl, r)) !== JSON.stringify(r));
    const present = new Set(want.map((r) => nameOf(typeUrl, r)));
    const removed = force ? [] : [...sub.sent.keys()].filter((n) => !present.has(n) && (sub.wildcard || sub.names.has(n)));
    if (changed.length === 0 && removed.length === 0) return undefined;
    if (!force) {
      for (const r of changed) sub.sent.set(nameOf(typeUrl, r), JSON.stringify(r));
      for (const n of removed) sub.sent.delete(n);
    }
    const n = String(++nonce);
    s.call.write(
      encodeDeltaResponse({
        system_version_info: version,
        type_url: typeUrl,
        nonce: n,
        resources: changed.map((r) => ({ name: nameOf(typeUrl, r), version: `${version}`, resource: { '@type': typeUrl, ...r } })),
        removed_resources: removed,
      }),
    );
    return n;
  };
  const server = new grpc.Server();
  const raw = (x: unknown): Buffer => x as Buffer;
  const sotwHandler = (method: string) => (call: grpc.ServerDuplexStream<DiscoveryRequestJson, Buffer>) => {
    const s: SotwStream = { call, names: new Map() };
    sotw.add(s);
    call.on('data', (req: DiscoveryRequestJson) => {
      requests.push({ ...req, method });
      const before = s.names.get(req.type_url);
      s.names.set(req.type_url, req.resource_names);
      // First request of a type, or a changed subscription: answer with the current state.
      if (req.response_nonce === '' || JSON.stringify(before) !== JSON.stringify(req.resource_names)) {
        sendSotw(s, req.type_url, `v${snapshot.version}`, snapshot.resources(req.type_url, req.resource_names));
      }
    });
    call.on('end', () => {
      sotw.delete(s);
      call.end();
    });
    call.on('error', () => sotw.delete(s));
  };
  const deltaHandler = (method: string) => (call: grpc.ServerDuplexStream<DeltaDiscoveryRequestJson, Buffer>) => {
    const s: DeltaStream = { call, subs: new Map() };
    delta.add(s);
    call.on('data', (req: DeltaDiscoveryRequestJson) => {
      requests.push({ ...req, delta: true, method });
      let sub = s.subs.get(req.type_url);
      const isNew = sub === undefined;
      if (sub === undefined) {
        const wildcard = kindOf(req.type_url) === 'CDS' || kindOf(req.type_url) === 'LDS';
        sub = { wildcard, names: new Set(), sent: new Map() };
        s.subs.set(req.type_url, sub);
        // What the client already has: a resource in the same version is not sent again.
        for (const [name, version] of Object.entries(req.initial_resource_versions ?? {})) {
          const r = snapshot.all(req.type_url).find((x) => nameOf(req.type_url, x) === name);
          if (r !== undefined && version === `v${snapshot.version}`) sub.sent.set(name, JSON.stringify(r));
          else sub.sent.set(name, '(stale)');
        }
      }
      for (const n of req.resource_names_subscribe ?? []) sub.names.add(n);
      for (const n of req.resource_names_unsubscribe ?? []) {
        sub.names.delete(n);
        sub.sent.delete(n);
      }
      if (isNew || (req.resource_names_subscribe ?? []).length > 0) sendDelta(s, req.type_url);
    });
    call.on('end', () => {
      delta.delete(s);
      call.end();
    });
    call.on('error', () => delta.delete(s));
  };
  // ADS and every per-type service, each in both variants: the handlers do not depend on the type.
  const definitions: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [i, m] of [ADS_SERVICE, ...Object.values(KIND_SERVICE)].entries()) {
    definitions[`sotw${i}`] = { path: m.sotw, requestStream: true, responseStream: true, requestSerialize: raw, requestDeserialize: decodeDiscoveryRequest as (b: Buffer) => unknown, responseSerialize: raw, responseDeserialize: raw };
    definitions[`delta${i}`] = { path: m.delta, requestStream: true, responseStream: true, requestSerialize: raw, requestDeserialize: decodeDeltaRequest as (b: Buffer) => unknown, responseSerialize: raw, responseDeserialize: raw };
    handlers[`sotw${i}`] = sotwHandler(m.sotw) as grpc.handleBidiStreamingCall<unknown, unknown>;
    handlers[`delta${i}`] = deltaHandler(m.delta) as grpc.handleBidiStreamingCall<unknown, unknown>;
  }
  server.addService(definitions as grpc.ServiceDefinition, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    snapshot,
    requests,
    streams: () => sotw.size + delta.size,
    push(typeUrl) {
      for (const s of sotw) if (s.names.has(typeUrl)) sendSotw(s, typeUrl, `v${snapshot.version}`, snapshot.resources(typeUrl, s.names.get(typeUrl) ?? []));
      for (const s of delta) sendDelta(s, typeUrl);
    },
    pushRaw(typeUrl, version, resources) {
      let n = '';
      for (const s of sotw) n = sendSotw(s, typeUrl, version, resources);
      for (const s of delta) n = sendDelta(s, typeUrl, { version, resources }) ?? n;
      return n;
    },
    dropStreams() {
      for (const s of [...sotw, ...delta]) s.call.end();
      sotw.clear();
      delta.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        server.forceShutdown();
        r();
      }),
  };
}
