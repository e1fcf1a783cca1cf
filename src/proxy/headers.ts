/**
 * Header handling compiled once per route: hop-by-hop removal, the route's add/remove lists (applied weighted
 * cluster → route → virtual host → route configuration, as Envoy does by default), and the fixed proxy headers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderValueOption } from '../config/model.js';

/** Request headers never forwarded (ENVOY-FACTS §17), plus HTTP/2 connection-specific ones. */
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

type Action = 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';

interface CompiledAdd {
  key: string;
  value: string;
  action: Action;
}

/** One level's mutations, compiled. `null` when a route has none (the request path then skips it). */
export interface HeaderMutation {
  readonly remove: readonly string[];
  readonly add: readonly CompiledAdd[];
}

export function compileMutation(
  levels: readonly { add?: readonly HeaderValueOption[] | undefined; remove?: readonly string[] | undefined }[],
): HeaderMutation | null {
  const remove: string[] = [];
  const add: CompiledAdd[] = [];
  for (const lvl of levels) {
    for (const r of lvl.remove ?? []) remove.push(r.toLowerCase());
    for (const o of lvl.add ?? []) {
      const key = o.header?.key?.toLowerCase();
      if (!key || key.startsWith(':') || key === 'host') continue;
      let action: Action = o.append_action ?? 'APPEND_IF_EXISTS_OR_ADD';
      // The deprecated `append: false` means overwrite.
      if (o.append_action === undefined && o.append === false) action = 'OVERWRITE_IF_EXISTS_OR_ADD';
      add.push({ key, value: o.header?.value ?? '', action });
    }
  }
  if (remove.length === 0 && add.length === 0) return null;
  return { remove, add };
}

export function applyMutation(h: OutHeaders, m: HeaderMutation): void {
  for (const r of m.remove) delete h[r];
  for (const a of m.add) {
    const cur = h[a.key];
    switch (a.action) {
      case 'APPEND_IF_EXISTS_OR_ADD':
        if (cur === undefined) h[a.key] = a.value;
        else if (Array.isArray(cur)) h[a.key] = [...cur, a.value];
        else h[a.key] = a.key === 'set-cookie' ? [cur, a.value] : `${cur},${a.value}`;
        break;
      case 'ADD_IF_ABSENT':
        if (cur === undefined) h[a.key] = a.value;
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        h[a.key] = a.value;
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (cur !== undefined) h[a.key] = a.value;
        break;
    }
  }
}

/** Flattens headers into [k, v, k, v, …] for writeHead (no per-header object work in node). */
export function flatHeaders(h: OutHeaders): string[] {
  const out: string[] = [];
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(k, x);
    else out.push(k, v);
  }
  return out;
}
