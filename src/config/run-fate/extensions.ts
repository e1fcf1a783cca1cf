/**
 * The fate in `meshctl run` of Envoy's extensions: each is found by the type URL of its typed_config (what Envoy
 * itself goes by) or, without one, its well-known name (current and deprecated). An extension of a kind whose
 * default is `refused` that is not listed here is refused too: an unknown HTTP or network filter may guard access,
 * and meshctl cannot tell.
 */
import type { JsonObject, JsonValue } from '../json-value.js';
import { HCM_FILTER_NAMES, TLS_SOCKET_NAMES } from '../normalize.js';
import { ENFORCED, refused, warned, type FateEntry } from './fate.js';
import { COMPRESSOR_BUILT, CORS_BUILT, FAULT_BUILT, HEALTH_CHECK_BUILT, LOCAL_RATELIMIT_BUILT, RBAC_BUILT } from './chain-filters.js';

export type ExtensionKind =
  | 'http-filter'
  | 'network-filter'
  | 'listener-filter'
  | 'transport-socket'
  | 'access-logger'
  | 'cluster-type'
  | 'protocol-options'
  | 'dns-resolver'
  | 'retry-host-predicate'
  | 'retry-priority';

export interface ExtensionFate extends FateEntry {
  readonly kind: ExtensionKind;
  /** Well-known names, the current one first. */
  readonly names: readonly string[];
  /** Type names (after `type.googleapis.com/`) of its typed_config. */
  readonly types: readonly string[];
  /** It decides who gets through: refused when not built, whatever else is said. */
  readonly guardsAccess?: true;
  /** For an enforced extension: the fates of its typed_config's fields (by proto name), when not all enforced. */
  readonly settings?: Readonly<Record<string, FateEntry>>;
  /** The fate of a typed_config field `settings` does not name. */
  readonly otherSettings?: FateEntry;
}

/** What each kind of extension is called in messages, and the fate of one the table does not list. */
export const EXTENSION_KINDS: Readonly<Record<ExtensionKind, { readonly label: string; readonly heading: string; readonly unknown: FateEntry }>> = {
  'http-filter': { label: 'HTTP filter', heading: 'HTTP filters', unknown: refused('meshctl run does not implement this HTTP filter, and an unknown filter may guard access') },
  'network-filter': { label: 'network filter', heading: 'Network filters', unknown: refused('meshctl run serves HTTP connection managers only, and an unknown filter may guard access') },
  'listener-filter': { label: 'listener filter', heading: 'Listener filters', unknown: warned('listener filters are not run') },
  'transport-socket': { label: 'transport socket', heading: 'Transport sockets', unknown: refused('meshctl run speaks raw TCP or TLS; this transport socket would be served as neither') },
  'access-logger': { label: 'access logger', heading: 'Access loggers', unknown: refused('meshctl run writes file, stdout and stderr access logs only') },
  'cluster-type': { label: 'cluster type', heading: 'Cluster types', unknown: warned('custom cluster types are not built: the cluster gets no hosts') },
  'protocol-options': { label: 'protocol options', heading: 'Upstream protocol options (typed_extension_protocol_options)', unknown: warned('these upstream protocol options are not acted on') },
  'dns-resolver': { label: 'DNS resolver', heading: 'DNS resolvers', unknown: warned('DNS is resolved with node\'s resolver (dns_resolvers, dns_query, --dns-server)') },
  'retry-host-predicate': { label: 'retry host predicate', heading: 'Retry host predicates', unknown: warned('retries pick hosts without predicates') },
  'retry-priority': { label: 'retry priority', heading: 'Retry priorities', unknown: warned('retries use the cluster\'s priorities as they are') },
};

const T = 'envoy.extensions.';

/** An enforced chain filter: the settings it builds enforced, any other refused (run refuses to start on it). */
function chainFilter(names: string[], type: string, built: readonly string[], what: string, guardsAccess = false): ExtensionFate {
  return {
    kind: 'http-filter',
    names,
    types: [`${T}${type}`],
    ...(guardsAccess ? { guardsAccess } : {}),
    ...ENFORCED,
    settings: Object.fromEntries(built.map((field) => [field, ENFORCED])),
    otherSettings: refused(`this setting of ${what} is not built into meshctl run`),
  };
}

/**
 * The HTTP filters of meshctl run's filter chain (src/proxy/filters/registry.ts; test/run-fate/filter-registry.test.ts
 * holds the two to each other), each with the settings it builds (chain-filters.ts). A nested setting the filter does
 * not build (an RBAC permission kind, say) is refused by the filter itself at start-up, with its place in the config.
 */
export const CHAIN_HTTP_FILTERS: readonly ExtensionFate[] = [
  chainFilter(['envoy.filters.http.rbac'], 'filters.http.rbac.v3.RBAC', RBAC_BUILT.filter, 'RBAC', true),
  chainFilter(['envoy.filters.http.local_ratelimit'], 'filters.http.local_ratelimit.v3.LocalRateLimit', LOCAL_RATELIMIT_BUILT, 'local rate limiting', true),
  chainFilter(['envoy.filters.http.fault', 'envoy.fault'], 'filters.http.fault.v3.HTTPFault', FAULT_BUILT, 'fault injection'),
  chainFilter(['envoy.filters.http.cors', 'envoy.cors'], 'filters.http.cors.v3.Cors', CORS_BUILT, 'CORS', true),
  chainFilter(['envoy.filters.http.compressor'], 'filters.http.compressor.v3.Compressor', COMPRESSOR_BUILT, 'the compressor'),
  chainFilter(['envoy.filters.http.health_check', 'envoy.health_check'], 'filters.http.health_check.v3.HealthCheck', HEALTH_CHECK_BUILT, 'the health check filter'),
];

export const EXTENSION_FATES: readonly ExtensionFate[] = [
  // HTTP filters
  {
    kind: 'http-filter',
    names: ['envoy.filters.http.router', 'envoy.router'],
    types: [`${T}filters.http.router.v3.Router`],
    ...ENFORCED,
    otherSettings: warned('the router\'s own settings are not acted on: it forwards as with none'),
  },
  ...CHAIN_HTTP_FILTERS,
  { kind: 'http-filter', names: ['envoy.filters.http.ext_authz', 'envoy.ext_authz'], types: [`${T}filters.http.ext_authz.v3.ExtAuthz`], guardsAccess: true, ...refused('external authorization is not built into meshctl run') },
  { kind: 'http-filter', names: ['envoy.filters.http.jwt_authn'], types: [`${T}filters.http.jwt_authn.v3.JwtAuthentication`], guardsAccess: true, ...refused('JWT authentication is not built into meshctl run') },
  { kind: 'http-filter', names: ['envoy.filters.http.oauth2'], types: [`${T}filters.http.oauth2.v3.OAuth2`], guardsAccess: true, ...refused('OAuth2 is not built into meshctl run') },
  { kind: 'http-filter', names: ['envoy.filters.http.basic_auth'], types: [`${T}filters.http.basic_auth.v3.BasicAuth`], guardsAccess: true, ...refused('basic authentication is not built into meshctl run') },
  { kind: 'http-filter', names: ['envoy.filters.http.ratelimit', 'envoy.rate_limit'], types: [`${T}filters.http.ratelimit.v3.RateLimit`], guardsAccess: true, ...refused('global rate limiting is not built into meshctl run') },
  { kind: 'http-filter', names: ['envoy.filters.http.csrf'], types: [`${T}filters.http.csrf.v3.CsrfPolicy`], guardsAccess: true, ...refused('CSRF protection is not built into meshctl run') },
  { kind: 'http-filter', names: ['envoy.filters.http.ext_proc'], types: [`${T}filters.http.ext_proc.v3.ExternalProcessor`], guardsAccess: true, ...refused('external processing is not built into meshctl run') },
  // Network filters
  {
    kind: 'network-filter',
    names: [...HCM_FILTER_NAMES],
    types: [`${T}filters.network.http_connection_manager.v3.HttpConnectionManager`, 'envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager'],
    ...ENFORCED,
  },
  { kind: 'network-filter', names: ['envoy.filters.network.rbac'], types: [`${T}filters.network.rbac.v3.RBAC`], guardsAccess: true, ...refused('network RBAC is not built into meshctl run') },
  { kind: 'network-filter', names: ['envoy.filters.network.ext_authz'], types: [`${T}filters.network.ext_authz.v3.ExtAuthz`], guardsAccess: true, ...refused('external authorization is not built into meshctl run') },
  { kind: 'network-filter', names: ['envoy.filters.network.tcp_proxy', 'envoy.tcp_proxy'], types: [`${T}filters.network.tcp_proxy.v3.TcpProxy`], ...refused('TCP proxying is not built into meshctl run') },
  // Listener filters
  { kind: 'listener-filter', names: ['envoy.filters.listener.tls_inspector'], types: [`${T}filters.listener.tls_inspector.v3.TlsInspector`], ...warned('the TLS server reads SNI itself; a listener with TLS chains serves TLS only') },
  {
    kind: 'listener-filter',
    names: ['envoy.filters.listener.proxy_protocol'],
    types: [`${T}filters.listener.proxy_protocol.v3.ProxyProtocol`],
    ...refused('meshctl run does not read the PROXY protocol header, so the client address it would set (and every request) is lost'),
  },
  // Transport sockets
  {
    kind: 'transport-socket',
    names: [...TLS_SOCKET_NAMES],
    types: [`${T}transport_sockets.tls.v3.DownstreamTlsContext`, `${T}transport_sockets.tls.v3.UpstreamTlsContext`, 'envoy.api.v2.auth.DownstreamTlsContext', 'envoy.api.v2.auth.UpstreamTlsContext'],
    ...ENFORCED,
  },
  { kind: 'transport-socket', names: ['envoy.transport_sockets.raw_buffer', 'raw_buffer'], types: [`${T}transport_sockets.raw_buffer.v3.RawBuffer`], ...ENFORCED },
  // Access loggers (src/proxy/access-log-config.ts)
  { kind: 'access-logger', names: ['envoy.access_loggers.file', 'envoy.file_access_log'], types: [`${T}access_loggers.file.v3.FileAccessLog`], ...ENFORCED },
  { kind: 'access-logger', names: ['envoy.access_loggers.stdout'], types: [`${T}access_loggers.stream.v3.StdoutAccessLog`], ...ENFORCED },
  { kind: 'access-logger', names: ['envoy.access_loggers.stderr'], types: [`${T}access_loggers.stream.v3.StderrAccessLog`], ...ENFORCED },
  // DNS resolvers (config/dns-resolver-config.ts)
  {
    kind: 'dns-resolver',
    names: ['envoy.network.dns_resolver.cares'],
    types: [`${T}network.dns_resolver.cares.v3.CaresDnsResolverConfig`],
    ...ENFORCED,
    settings: { resolvers: ENFORCED, use_resolvers_as_fallback: ENFORCED, dns_resolver_options: ENFORCED },
    otherSettings: warned('only the nameservers, the fallback and TCP are acted on'),
  },
  {
    kind: 'dns-resolver',
    names: ['envoy.network.dns_resolver.getaddrinfo'],
    types: [`${T}network.dns_resolver.getaddrinfo.v3.GetAddrInfoDnsResolverConfig`],
    ...ENFORCED,
    note: 'the system resolver',
  },
  // Retry host predicates (src/proxy/retry.ts)
  { kind: 'retry-host-predicate', names: ['envoy.retry_host_predicates.previous_hosts'], types: [`${T}retry.host.previous_hosts.v3.PreviousHostsPredicate`], ...ENFORCED },
  {
    kind: 'retry-priority',
    names: ['envoy.retry_priorities.previous_priorities'],
    types: [`${T}retry.priority.previous_priorities.v3.PreviousPrioritiesConfig`],
    ...ENFORCED,
    note: 'retries leave the priorities already tried (src/balancer/retry-priority.ts)',
  },
  // Upstream protocol options (typed_extension_protocol_options keys)
  {
    kind: 'protocol-options',
    names: ['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'],
    types: [`${T}upstreams.http.v3.HttpProtocolOptions`],
    ...ENFORCED,
    note: 'the upstream protocol: explicit_http_config, auto_config',
    settings: { explicit_http_config: ENFORCED, auto_config: ENFORCED, use_downstream_protocol_config: warned('served as HTTP/1.1 (one pool per host)') },
    otherSettings: warned('only the choice of upstream protocol is acted on'),
  },
];

/** Name or type name → the table's entry. */
const BY_ID: ReadonlyMap<string, ExtensionFate> = new Map(EXTENSION_FATES.flatMap((e) => [...e.names, ...e.types].map((id) => [`${e.kind}\0${id}`, e] as const)));

/**
 * The entry for an extension of `kind` with this `@type` (a full type URL or a bare type name) and name: the type
 * decides when it is known (Envoy picks the factory by it), else the name.
 */
export function extensionFate(kind: ExtensionKind, typeUrl: string | undefined, name: string | undefined): ExtensionFate | undefined {
  const type = typeUrl?.slice(typeUrl.lastIndexOf('/') + 1);
  return (type !== undefined ? BY_ID.get(`${kind}\0${type}`) : undefined) ?? (name !== undefined ? BY_ID.get(`${kind}\0${name}`) : undefined);
}

/** An extension's name and typed_config type (through a TypedStruct wrapper, whose type_url names the real one). */
export function extensionId(item: JsonValue | undefined, typedConfig?: JsonValue): { name: string | undefined; type: string | undefined } {
  const o = isJsonObject(item) ? item : undefined;
  const name = typeof o?.name === 'string' ? o.name : undefined;
  const tc = typedConfig ?? o?.typed_config;
  return { name, type: typeOf(tc) };
}

export function typeOf(tc: JsonValue | undefined): string | undefined {
  if (!isJsonObject(tc)) return undefined;
  const t = tc['@type'];
  if (typeof t !== 'string') return undefined;
  if (/\.TypedStruct$/.test(t) && typeof tc.type_url === 'string') return tc.type_url;
  return t;
}

function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
