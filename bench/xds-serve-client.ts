/**
 * One process of the `meshctl serve` benchmark's fleet (bench/xds-serve.ts): COUNT xDS streams, each its own gRPC
 * connection and node, SotW or delta ADS. Each subscribes to every cluster (CDS wildcard) and every cluster's
 * endpoints (EDS by name) and ACKs every response. Responses are read only as far as the ACK needs (version, type,
 * nonce): the clients are the load generator, not what is measured. Tells the parent (IPC) when every stream has
 * ACKed a given EDS version: {type: 'acked', version, at}.
 *   node dist/bench/xds-serve-client.js PORT COUNT sotw|delta ID-PREFIX CLUSTERS
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { envoyApi } from '../src/config/envoy-api/descriptors.js';
import { WireCodec } from '../src/config/envoy-api/wire.js';

const [portArg, countArg, mode, prefix, clustersArg] = process.argv.slice(2);
const COUNT = Number(countArg);
const DELTA = mode === 'delta';
const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const names = Array.from({ length: Number(clustersArg) }, (_, i) => `svc-${i}`);
const codec = new WireCodec();
const api = envoyApi();
const REQ = `envoy.service.discovery.v3.${DELTA ? 'DeltaDiscoveryRequest' : 'DiscoveryRequest'}`;
const RES = api.message(`envoy.service.discovery.v3.${DELTA ? 'DeltaDiscoveryResponse' : 'DiscoveryResponse'}`)!;
const F_VERSION = RES.field(DELTA ? 'system_version_info' : 'version_info')!.id;
const F_TYPE = RES.field('type_url')!.id;
const F_NONCE = RES.field('nonce')!.id;
const PATH = `/envoy.service.discovery.v3.AggregatedDiscoveryService/${DELTA ? 'DeltaAggregatedResources' : 'StreamAggregatedResources'}`;

interface Head {
  version: string;
  type: string;
  nonce: string;
}

/** version, type_url and nonce; the resources are skipped, not decoded. */
function head(buf: Buffer): Head {
  const r = protobuf.Reader.create(buf);
  const h: Head = { version: '', type: '', nonce: '' };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const id = tag >>> 3;
    if (id === F_VERSION) h.version = r.string();
    else if (id === F_TYPE) h.type = r.string();
    else if (id === F_NONCE) h.nonce = r.string();
    else r.skipType(tag & 7);
  }
  return h;
}

const edsVersion: string[] = new Array(COUNT).fill('');
const reported = new Set<string>();
function check(): void {
  const v = edsVersion[0]!;
  if (v === '' || reported.has(v) || !edsVersion.every((x) => x === v)) return;
  reported.add(v);
  process.send?.({ type: 'acked', version: v, at: Date.now() });
}

const clients: grpc.Client[] = [];
for (let i = 0; i < COUNT; i++) {
  // Its own connection per node, as a fleet has.
  const client = new grpc.Client(`127.0.0.1:${portArg}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  clients.push(client);
  const call = client.makeBidiStreamRequest<Record<string, unknown>, Buffer>(PATH, (m) => Buffer.from(codec.encode(REQ, m as never)), (b) => b);
  const node = { id: `${prefix}-${i}`, cluster: 'bench' };
  call.on('data', (buf: Buffer) => {
    const h = head(buf);
    if (DELTA) call.write({ type_url: h.type, response_nonce: h.nonce });
    else call.write({ type_url: h.type, version_info: h.version, response_nonce: h.nonce, resource_names: h.type === EDS ? names : [] });
    if (h.type === EDS) {
      edsVersion[i] = h.version;
      check();
    }
  });
  call.on('error', (err: Error) => process.send?.({ type: 'error', message: err.message }));
  if (DELTA) {
    call.write({ node, type_url: CDS });
    call.write({ node, type_url: EDS, resource_names_subscribe: names });
  } else {
    call.write({ node, type_url: CDS });
    call.write({ node, type_url: EDS, resource_names: names });
  }
}

process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') {
    for (const c of clients) c.close();
    process.exit(0);
  }
});
