/**
 * gRPC serializers for xDS: DiscoveryRequest/Response (state of the world) and DeltaDiscoveryRequest/Response, in
 * Envoy's binary form, through the descriptor-driven codec the control plane uses too (config/envoy-api/wire.ts).
 * Resources travel as `Any` and come out as proto3 JSON with `@type`. A response that cannot be decoded becomes `{ decode_error }`, so the client can NACK
 * it instead of losing the stream. Used by the client (xds-grpc.ts) and by control planes.
 */
import type { JsonValue } from '../config/json-value.js';
import { WireCodec } from '../config/envoy-api/wire.js';
import {
  DELTA_DISCOVERY_REQUEST,
  DELTA_DISCOVERY_RESPONSE,
  DISCOVERY_REQUEST,
  DISCOVERY_RESPONSE,
  type DeltaDiscoveryRequestJson,
  type DeltaDiscoveryResponseJson,
  type DiscoveryRequestJson,
  type DiscoveryResponseJson,
} from '../config/envoy-api/xds-protocol.js';

type Json = { [k: string]: JsonValue };

let shared: WireCodec | undefined;
const codec = (): WireCodec => (shared ??= new WireCodec());

function encodeMessage(fullName: string, json: Json): Uint8Array {
  return codec().encode(fullName, json);
}

function decodeMessage(fullName: string, bytes: Uint8Array): Json {
  return codec().decode(fullName, bytes);
}

export function encodeDiscoveryRequest(req: DiscoveryRequestJson): Buffer {
  return Buffer.from(encodeMessage(DISCOVERY_REQUEST, req as unknown as Json));
}

export function decodeDiscoveryRequest(buf: Buffer): DiscoveryRequestJson {
  const o = decodeMessage(DISCOVERY_REQUEST, buf);
  return { version_info: '', resource_names: [], type_url: '', response_nonce: '', ...o } as DiscoveryRequestJson;
}

export function encodeDiscoveryResponse(resp: DiscoveryResponseJson): Buffer {
  return Buffer.from(encodeMessage(DISCOVERY_RESPONSE, resp as unknown as Json));
}

export function encodeDeltaRequest(req: DeltaDiscoveryRequestJson): Buffer {
  return Buffer.from(encodeMessage(DELTA_DISCOVERY_REQUEST, req as unknown as Json));
}

export function decodeDeltaRequest(buf: Buffer): DeltaDiscoveryRequestJson {
  const o = decodeMessage(DELTA_DISCOVERY_REQUEST, buf);
  return { type_url: '', ...o } as DeltaDiscoveryRequestJson;
}

export function encodeDeltaResponse(resp: DeltaDiscoveryResponseJson): Buffer {
  return Buffer.from(encodeMessage(DELTA_DISCOVERY_RESPONSE, resp as unknown as Json));
}

/** A response whose bytes did not decode (the client NACKs it, naming the error). */
export interface Undecodable {
  readonly decode_error: string;
}

export function decodeDiscoveryResponse(buf: Buffer): DiscoveryResponseJson | Undecodable {
  try {
    return decodeMessage(DISCOVERY_RESPONSE, buf) as DiscoveryResponseJson;
  } catch (err) {
    return { decode_error: (err as Error).message };
  }
}

export function decodeDeltaResponse(buf: Buffer): DeltaDiscoveryResponseJson | Undecodable {
  try {
    return decodeMessage(DELTA_DISCOVERY_RESPONSE, buf) as DeltaDiscoveryResponseJson;
  } catch (err) {
    return { decode_error: (err as Error).message };
  }
}
