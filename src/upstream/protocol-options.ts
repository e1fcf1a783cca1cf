/**
 * The HTTP protocol a cluster speaks to its hosts. Envoy's current way to say it is the cluster's
 * `typed_extension_protocol_options` entry `envoy.extensions.upstreams.http.v3.HttpProtocolOptions`
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/upstreams/http/v3/http_protocol_options.proto):
 * `explicit_http_config` names HTTP/1.1 or HTTP/2, `auto_config` lets ALPN choose over TLS. The deprecated cluster
 * field `http2_protocol_options` still means HTTP/2 when the extension is absent. meshctl does not model the
 * extension (it is kept as JSON), so it is read here, in both the proto and the JSON (camelCase) spelling.
 */
import type { Cluster, JsonObject, JsonValue } from '../config/model.js';

/** `alpn`: offer h2 and http/1.1 by ALPN and use what the host picks (TLS only). */
export type UpstreamProtocol = 'http1' | 'http2' | 'alpn';

const EXTENSION = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function field(o: JsonValue | undefined, snake: string, camel: string): JsonValue | undefined {
  if (o === undefined || o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
  return (o as JsonObject)[snake] ?? (o as JsonObject)[camel];
}

/**
 * The cluster's upstream protocol. `auto_config` without TLS is HTTP/1.1: there is no ALPN to negotiate with
 * (AutoHttpConfig: "If the upstream does not support ALPN, AutoHttpConfig will fail over to HTTP/1").
 * `use_downstream_protocol_config` is read as HTTP/1.1 (meshctl keeps one pool per host).
 */
export function upstreamProtocol(cfg: Cluster, tls: boolean): UpstreamProtocol {
  const ext = cfg.typed_extension_protocol_options?.[EXTENSION];
  if (ext !== undefined) {
    const explicit = field(ext, 'explicit_http_config', 'explicitHttpConfig');
    if (explicit !== undefined) {
      return field(explicit, 'http2_protocol_options', 'http2ProtocolOptions') !== undefined ? 'http2' : 'http1';
    }
    if (field(ext, 'auto_config', 'autoConfig') !== undefined) return tls ? 'alpn' : 'http1';
    return 'http1';
  }
  return cfg.http2_protocol_options !== undefined ? 'http2' : 'http1';
}

/**
 * Whether the cluster's HTTP/1.1 codec sends request trailers: `enable_trailers` in the Http1ProtocolOptions of the
 * HttpProtocolOptions extension (explicit_http_config, use_downstream_protocol_config or auto_config). Envoy's
 * Http1ProtocolOptions.enable_trailers: "By default the HTTP/1 codec drops proxied trailers", and they go only on a
 * chunked body (no Content-Length, not HEAD, not an upgrade).
 */
export function upstreamTrailers(cfg: Cluster): boolean {
  const ext = cfg.typed_extension_protocol_options?.[EXTENSION];
  if (ext === undefined) return false;
  for (const [snake, camel] of [
    ['explicit_http_config', 'explicitHttpConfig'],
    ['use_downstream_protocol_config', 'useDownstreamProtocolConfig'],
    ['auto_config', 'autoConfig'],
  ] as const) {
    const h1 = field(field(ext, snake, camel), 'http_protocol_options', 'httpProtocolOptions');
    if (field(h1, 'enable_trailers', 'enableTrailers') === true) return true;
  }
  return false;
}
