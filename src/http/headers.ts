/**
 * HTTP header maps as both sides of the proxy see them: what is hop-by-hop and never forwarded, copies of request and
 * response headers without those. Shared by the engine (downstream) and the
 * connection pools (upstream).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Request headers never forwarded: hop-by-hop headers (RFC 9110 §7.6.1, which Envoy strips; Envoy docs, "HTTP header sanitizing"), plus HTTP/2 connection-specific ones. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'http2-settings',
  'x-envoy-internal',
  'host',
  // Expect: 100-continue is answered by the proxy itself (node's server sends the 100 before the request reaches
  // the engine), and not forwarded: Envoy's HttpConnectionManager default, without proxy_100_continue (with it,
  // copyRequestHeaders' caller puts the header back: proxy/upstream-request.ts).
  'expect',
]);

/** Response headers not passed back (connection-specific; node frames the body itself). */
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'server']);

export type OutHeaders = Record<string, string | string[] | undefined>;

/** Copies request headers minus hop-by-hop and pseudo-headers (`:authority` etc. are re-added as Host). */
export function copyRequestHeaders(src: IncomingHttpHeaders): OutHeaders {
  const out: OutHeaders = {};
  for (const k in src) {
    if (k.charCodeAt(0) === 58 /* : */ || HOP_BY_HOP.has(k)) continue;
    out[k] = src[k];
  }
  // `te: trailers` is the one TE value allowed through (gRPC needs it).
  if (src.te === 'trailers') out.te = 'trailers';
  return out;
}

export function copyResponseHeaders(src: IncomingHttpHeaders): OutHeaders {
  const out: OutHeaders = {};
  for (const k in src) {
    if (RESPONSE_HOP_BY_HOP.has(k)) continue;
    out[k] = src[k];
  }
  return out;
}

/**
 * A raw response header list (undici's [name, value, name, value, …] buffers) as the object the downstream gets:
 * names lower-cased, values latin1, a repeated header an array (undici's parseHeaders rule), hop-by-hop headers left
 * out. One pass, one object: no intermediate parsed copy.
 */
export function responseHeadersFromRaw(raw: readonly Buffer[]): OutHeaders {
  const out: OutHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toString('latin1').toLowerCase();
    if (RESPONSE_HOP_BY_HOP.has(k)) continue;
    const v = raw[i + 1]!.toString('latin1');
    const cur = out[k];
    if (cur === undefined) out[k] = v;
    else if (!Object.hasOwn(out, k)) {
      // A name that is also an Object.prototype member (`constructor`, `__proto__`, …): an own data property.
      Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
    } else if (typeof cur === 'string') out[k] = [cur, v];
    else cur.push(v);
  }
  return out;
}

/**
 * A raw header list as meshctl's HTTP/1.1 parser hands it ([name, value, name, value, …] strings, names as written)
 * made into the downstream's header object by responseHeadersFromRaw's rules, in one pass.
 */
export function headersFromRawStrings(raw: readonly string[]): OutHeaders {
  const out: OutHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (RESPONSE_HOP_BY_HOP.has(k)) continue;
    const v = raw[i + 1]!;
    const cur = out[k];
    if (cur === undefined) out[k] = v;
    else if (!Object.hasOwn(out, k)) Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
    else if (typeof cur === 'string') out[k] = [cur, v];
    else cur.push(v);
  }
  return out;
}

/** Request trailers as forwarded: names lower-case, hop-by-hop and pseudo-headers left out; null when none is left. */
export function requestTrailersFrom(src: Readonly<Record<string, string | string[] | undefined>> | null | undefined): OutHeaders | null {
  if (src === null || src === undefined) return null;
  let out: OutHeaders | null = null;
  for (const k in src) {
    if (k.charCodeAt(0) === 58 /* : */ || HOP_BY_HOP.has(k)) continue;
    const v = src[k];
    if (v !== undefined) (out ??= {})[k] = v;
  }
  return out;
}

/**
 * An upstream response's trailers as the downstream gets them, or null when there are none: undici hands HTTP/1.1
 * trailers as a raw list (empty when none) and HTTP/2 trailers as node's header object (`{}` when none).
 */
export function trailersFrom(t: readonly Buffer[] | Readonly<Record<string, string | string[] | undefined>> | null | undefined): OutHeaders | null {
  if (t === null || t === undefined) return null;
  if (Array.isArray(t)) return t.length === 0 ? null : responseHeadersFromRaw(t as readonly Buffer[]);
  const src = t as Readonly<Record<string, string | string[] | undefined>>;
  let out: OutHeaders | null = null;
  for (const k in src) {
    if (k.charCodeAt(0) === 58 /* : */ || RESPONSE_HOP_BY_HOP.has(k)) continue;
    (out ??= {})[k] = src[k];
  }
  return out;
}
