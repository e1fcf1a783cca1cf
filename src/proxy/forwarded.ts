/**
 * Who the client is, as Envoy's connection manager decides it (ConnectionManagerUtility::mutateRequestHeaders; Envoy's
 * docs "x-forwarded-for" and "IP address detection"):
 * - use_remote_address: the trusted client address is the xff_num_trusted_hops-th x-forwarded-for entry from the
 *   right (before appending), else the peer; the peer is appended to x-forwarded-for unless skip_xff_append (a
 *   loopback peer is replaced by the proxy's own address, as Envoy appends its local address then);
 *   x-forwarded-proto is overwritten when no hop is trusted.
 * - otherwise: x-forwarded-for is left alone and the trusted client address is its (xff_num_trusted_hops + 1)-th entry
 *   from the right.
 * A request is internal when x-forwarded-for (after appending) holds a single address and the trusted client address
 * is internal as internal_address_config says (its cidr_ranges; when it has none, RFC 1918, 127.0.0.1, ::1 and
 * fc00::/7; without internal_address_config no address is internal, Envoy's default since 1.33); then
 * `x-envoy-internal: true`, else the header is removed. An external request under use_remote_address (an edge
 * request) gets x-envoy-external-address: the trusted client address, and a new x-request-id unless
 * preserve_external_request_id (upstream-request.ts).
 */
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { HttpConnectionManager, HttpConnectionManager_InternalAddressConfig } from '../config/model.js';
import type { OutHeaders } from '../http/headers.js';
import { peerAddress, type DownReq } from './downstream.js';

export interface ForwardedConfig {
  /** Whether a client address is internal (internal_address_config). */
  readonly internal: (ip: string) => boolean;
  readonly useRemoteAddress: boolean;
  readonly trustedHops: number;
  /** Append the peer to x-forwarded-for (use_remote_address without skip_xff_append, or meshctl's --xff-always). */
  readonly append: boolean;
  /** preserve_external_request_id: an edge request keeps its x-request-id. */
  readonly preserveExternalRequestId: boolean;
}

export function forwardedConfig(hcm: HttpConnectionManager, forceXff: boolean): ForwardedConfig {
  const useRemoteAddress = hcm.use_remote_address === true;
  return {
    internal: internalAddresses(hcm.internal_address_config),
    useRemoteAddress,
    trustedHops: hcm.xff_num_trusted_hops ?? 0,
    append: (useRemoteAddress && hcm.skip_xff_append !== true) || forceXff,
    preserveExternalRequestId: hcm.preserve_external_request_id === true,
  };
}

const NOTHING_INTERNAL = (): boolean => false;

/** internal_address_config as a predicate (the peer is an IP here: meshctl listens on TCP only, so unix_sockets
 * never applies). */
function internalAddresses(cfg: HttpConnectionManager_InternalAddressConfig | undefined): (ip: string) => boolean {
  if (cfg === undefined) return NOTHING_INTERNAL;
  const ranges = cfg.cidr_ranges ?? [];
  if (ranges.length === 0) return isInternalAddress;
  const list = new BlockList();
  for (const r of ranges) {
    const prefix = r.address_prefix ?? '';
    const family = isIP(prefix);
    if (family === 0) continue;
    list.addSubnet(prefix, r.prefix_len ?? (family === 4 ? 32 : 128), family === 4 ? 'ipv4' : 'ipv6');
  }
  return (ip) => {
    const a = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** Envoy's default internal addresses (Network::Utility::isInternalAddress): 10/8, 172.16/12, 192.168/16, the
 * loopback address 127.0.0.1, ::1, fc00::/7 (and IPv4-mapped forms). */
function isInternalAddress(ip: string): boolean {
  let a = ip;
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  if (isIP(a) === 4) {
    const dot = a.indexOf('.');
    const o1 = Number(a.slice(0, dot));
    const o2 = Number(a.slice(dot + 1, a.indexOf('.', dot + 1)));
    return o1 === 10 || a === '127.0.0.1' || (o1 === 172 && o2 >= 16 && o2 <= 31) || (o1 === 192 && o2 === 168);
  }
  if (isIP(a) === 6) {
    const l = a.toLowerCase();
    return l === '::1' || l.startsWith('fc') || l.startsWith('fd');
  }
  return false;
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

let localAddress: string | undefined;
/** The proxy's own address (Envoy's local_info address), appended to x-forwarded-for for a loopback peer: the first
 * IPv4 address of a non-loopback interface, else 127.0.0.1. Computed once. */
export function ownAddress(): string {
  if (localAddress !== undefined) return localAddress;
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (!i.internal && i.family === 'IPv4') return (localAddress = i.address);
    }
  }
  return (localAddress = '127.0.0.1');
}

/** The x-forwarded-for entry `skip` places from the right (0: the last), when it is an IP address. */
function xffEntry(xff: string, skip: number): string | undefined {
  let end = xff.length;
  for (let i = 0; i < skip; i++) {
    const c = xff.lastIndexOf(',', end - 1);
    if (c < 0) return undefined;
    end = c;
  }
  const start = xff.lastIndexOf(',', end - 1) + 1;
  const entry = xff.slice(start, end).trim();
  return isIP(entry) !== 0 ? entry : undefined;
}

function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

/** What the connection manager decided about one request. */
export interface ClientFacts {
  readonly internal: boolean;
  /** An edge request: external, and this proxy uses the remote address (the first hop into the trusted network). */
  readonly edge: boolean;
  /** The trusted client address (the peer when nothing better is known; '' when neither is known). */
  readonly address: string;
}

const facts = { internal: false, edge: false, address: '' };

/**
 * Decides the request's client facts and, when `out` is given, writes x-forwarded-for, x-forwarded-proto,
 * x-envoy-internal and x-envoy-external-address into it. The returned object is reused by the next call.
 */
export function clientFacts(cfg: ForwardedConfig, req: DownReq, scheme: string, out: OutHeaders | null): ClientFacts {
  const headers = req.headers;
  const xff = headerText(headers['x-forwarded-for']);
  // The peer only matters at the edge (or with meshctl's --xff-always): not read otherwise.
  const peer = cfg.useRemoteAddress || cfg.append ? (peerAddress(req) ?? '') : '';
  let address: string | undefined;
  let single: boolean;
  if (cfg.useRemoteAddress) {
    single = xff === undefined;
    if (cfg.trustedHops > 0 && xff !== undefined) address = xffEntry(xff, cfg.trustedHops - 1);
  } else {
    if (xff !== undefined) address = xffEntry(xff, cfg.trustedHops);
    single = xff !== undefined && xff.indexOf(',') < 0;
  }
  const internal = single && address !== undefined ? cfg.internal(address) : single && cfg.useRemoteAddress && cfg.internal(peer);
  address ??= peer;
  if (out !== null) {
    if (cfg.append) {
      const hop = cfg.useRemoteAddress && isLoopback(peer) ? ownAddress() : peer;
      out['x-forwarded-for'] = xff ? `${xff}, ${hop}` : hop;
    }
    if ((cfg.useRemoteAddress && cfg.trustedHops === 0) || headers['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = scheme;
    if (internal) out['x-envoy-internal'] = 'true';
    else {
      if (out['x-envoy-internal'] !== undefined) delete out['x-envoy-internal'];
      if (cfg.useRemoteAddress) out['x-envoy-external-address'] = address;
    }
  }
  facts.internal = internal;
  facts.edge = !internal && cfg.useRemoteAddress;
  facts.address = address;
  return facts;
}
