/**
 * The model as a real Envoy v3 bootstrap: `@type` on every typed_config, the TLS transport socket on the filter
 * chain, Envoy's required defaults filled in (HCM stat_prefix, the router http filter), dns_query as a c-ares
 * resolver config, and the article-only constructs Envoy has no place for dropped with a `not-representable-in-envoy`
 * warning each. Fields that already have Envoy's name and shape (even deprecated ones Envoy still accepts, such as
 * Cluster.http2_protocol_options) are written as they are, so envoy → envoy is lossless.
 */
import type { Diagnostic } from '../diagnostic.js';
import type { JsonObject, JsonValue } from '../json-value.js';
import { META, type NodeMeta } from '../node-meta.js';
import type { Bootstrap } from '../model.generated.js';
import { pointSpan, type Span } from '../source.js';
import { treeToJson } from './json.js';
import { ItemOrigin, ORIGIN, sameOrigin, type WithOrigin } from './origin.js';
import { configToTree } from './tree.js';
import { ROOT_PACKAGE, schema } from './schema.js';

const TYPE_PREFIX = 'type.googleapis.com/';
const ENVOY_TYPES = {
  hcm: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'envoy.extensions.filters.http.router.v3.Router',
  downstreamTls: 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  upstreamTls: 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  cares: 'envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig',
  httpProtocolOptions: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;

const ENVOY_NAMES = {
  hcm: 'envoy.filters.network.http_connection_manager',
  router: 'envoy.filters.http.router',
  tls: 'envoy.transport_sockets.tls',
  cares: 'envoy.network.dns_resolver.cares',
} as const;

/** Filter and socket names from before Envoy's extension renaming (the article uses some), to today's names. */
const LEGACY_NAMES: Record<string, string> = {
  'envoy.http_connection_manager': ENVOY_NAMES.hcm,
  'envoy.router': ENVOY_NAMES.router,
  tls: ENVOY_NAMES.tls,
  'envoy.transport_sockets.tls': ENVOY_NAMES.tls,
};

/** Known http filters whose typed_config Envoy requires even when empty. */
const HTTP_FILTER_TYPES: Record<string, string> = {
  [ENVOY_NAMES.router]: ENVOY_TYPES.router,
};

const DEFAULT_STAT_PREFIX = 'ingress_http';
const NOT_REPRESENTABLE = 'not-representable-in-envoy';

type Obj = { [k: string]: JsonValue };

function isObj(v: JsonValue | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objs(v: JsonValue | undefined): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

/** A typed_config: `@type` first, then the fields. */
function typed(type: string, body: Obj): Obj {
  const out: Obj = { '@type': TYPE_PREFIX + type };
  for (const [k, v] of Object.entries(body)) if (k !== '@type') out[k] = v;
  return sameOrigin(body, out);
}

/** `8.8.8.8`, `127.0.0.1:5353`, `[::1]:53`, `::1` → an Envoy Address (port 53 by default). */
function nameserverAddress(ns: string): Obj {
  let host = ns.trim();
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed !== null) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else {
    const hostPort = /^([^:]+):(\d+)$/.exec(host);
    if (hostPort !== null) {
      host = hostPort[1]!;
      port = Number(hostPort[2]);
    }
  }
  return { socket_address: { address: host, port_value: port } };
}

const HCM_TYPE = `${ROOT_PACKAGE}.HttpConnectionManager`;

/** The fields in the schema's order (defaults added later land where the field belongs), unknown ones after. */
function inProtoOrder(o: Obj, typeName: string): Obj {
  const out: Obj = {};
  for (const f of schema().message(typeName).fields) if (o[f.name] !== undefined) out[f.name] = o[f.name]!;
  for (const [k, v] of Object.entries(o)) if (!(k in out)) out[k] = v;
  return sameOrigin(o, out);
}

/** The first character of a span: a caret under where a block starts rather than a frame of the whole block. */
function startOf(s: Span): Span {
  return { file: s.file, line: s.line, column: s.column, endLine: s.line, endColumn: s.column + 1 };
}

function caresResolver(resolvers: JsonValue[]): Obj {
  return { name: ENVOY_NAMES.cares, typed_config: typed(ENVOY_TYPES.cares, { resolvers }) };
}

class EnvoyMapper {
  readonly diagnostics: Diagnostic[] = [];
  constructor(
    private readonly model: Bootstrap,
    private readonly file: string,
    /** Say which model node each emitted object stands for (origin.ts). */
    private readonly origins: boolean,
  ) {}

  /** Where to point: the field's name when the node has one (a short, one-line caret), else the node. */
  private where(node: object | undefined, field?: string, index?: number): Span {
    const meta = node === undefined ? undefined : (node as { [META]?: NodeMeta })[META];
    const f = field !== undefined ? meta?.fields[field] : undefined;
    const item = index !== undefined ? f?.itemSpans?.[index] : undefined;
    const span = item !== undefined && index !== 0 ? startOf(item) : (f?.keySpan ?? f?.span ?? meta?.span);
    return span ?? pointSpan(this.file);
  }

  private warn(node: object | undefined, field: string | undefined, message: string, hint?: string, index?: number): void {
    this.diagnostics.push({
      ruleId: NOT_REPRESENTABLE,
      severity: 'warning',
      message,
      span: this.where(node, field, index),
      ...(hint !== undefined ? { hint } : {}),
    });
  }

  map(): Obj {
    const m = this.model;
    const b = treeToJson(configToTree(m, { durations: 'envoy', comments: false, origins: this.origins })) as Obj;
    const out: Obj = sameOrigin(b, {});
    for (const [k, v] of Object.entries(b)) {
      if (k === 'http_server') {
        this.warn(m, 'http_server', 'Envoy has no http_server/prometheus block; it was dropped.',
          'Envoy serves Prometheus metrics on the admin listener at /stats/prometheus; put the scrape jobs in prometheus.yml (`meshctl prometheus-config`).');
        continue;
      }
      if (k === 'tls_context') {
        this.warn(m, 'tls_context', 'a lone tls_context is attached to nothing; Envoy has no bootstrap-level TLS context, so it was dropped.',
          'put it on a filter chain as transport_socket { name: "envoy.transport_sockets.tls" typed_config { ... } }.');
        continue;
      }
      if (k === 'dns_query' && isObj(v)) {
        const resolvers = this.dnsQuery(m.dns_query, v);
        if (resolvers !== undefined) out.typed_dns_resolver_config = this.fromNameservers(m.dns_query, resolvers);
        continue;
      }
      if (k === 'static_resources' && isObj(v)) {
        out[k] = this.staticResources(v);
        continue;
      }
      out[k] = v;
    }
    return out;
  }

  /** dns_query → a c-ares resolver config; the query name has no place of its own in Envoy. */
  private dnsQuery(node: object | undefined, q: Obj): Obj | undefined {
    if (typeof q.name === 'string' && q.name !== '') {
      this.warn(node, 'name', `dns_query name "${q.name}" has no place in Envoy; only its nameservers were kept (as a c-ares resolver).`,
        'Envoy resolves the addresses of STRICT_DNS/LOGICAL_DNS cluster endpoints; give the cluster an endpoint with this name as its address.');
    }
    const ns = Array.isArray(q.nameservers) ? q.nameservers.filter((s): s is string => typeof s === 'string') : [];
    if (ns.length === 0) return undefined;
    return caresResolver(
      ns.map((s, i) => {
        const address: Obj & WithOrigin = nameserverAddress(s);
        if (this.origins && node !== undefined) address[ORIGIN] = new ItemOrigin(node, 'nameservers', i);
        return address;
      }),
    );
  }

  /** A resolver config stands for the nameservers it was made of. */
  private fromNameservers(node: object | undefined, resolvers: Obj & WithOrigin): Obj {
    if (this.origins && node !== undefined) resolvers[ORIGIN] = new ItemOrigin(node, 'nameservers', undefined);
    return resolvers;
  }

  private staticResources(sr: Obj): Obj {
    const model = this.model.static_resources;
    const out: Obj = sameOrigin(sr, {});
    for (const [k, v] of Object.entries(sr)) {
      if (k === 'service_cluster_discovery_refresh_service') {
        (model?.service_cluster_discovery_refresh_service ?? []).forEach((svc, i) => {
          this.warn(model, k,
            `the discovery refresh service${svc.service_name ? ` "${svc.service_name}"` : ''} has no Envoy equivalent; it was dropped.`,
            'serve the endpoints over EDS (a cluster with type: EDS and eds_cluster_config) instead of an HTTP poll.', i);
        });
        continue;
      }
      if (k === 'listeners') out[k] = objs(v).map((l) => this.listener(l));
      else if (k === 'clusters') out[k] = objs(v).map((c, i) => this.cluster(c, i));
      else out[k] = v;
    }
    return out;
  }

  private listener(l: Obj): Obj {
    const out: Obj = { ...l };
    if (Array.isArray(l.filter_chains)) out.filter_chains = objs(l.filter_chains).map((fc) => this.filterChain(fc, DEFAULT_STAT_PREFIX));
    return out;
  }

  private filterChain(fc: Obj, statPrefix: string): Obj {
    let socket = isObj(fc.transport_socket) ? fc.transport_socket : undefined;
    const filters = objs(fc.filters).map((f) => {
      const { filter, movedSocket } = this.filter(f, statPrefix);
      if (movedSocket !== undefined && socket === undefined) socket = movedSocket;
      return filter;
    });
    const out: Obj = sameOrigin(fc, {});
    for (const [k, v] of Object.entries(fc)) {
      if (k === 'filters') out.filters = filters;
      else if (k !== 'transport_socket') out[k] = v;
    }
    if (!('filters' in out) && filters.length > 0) out.filters = filters;
    if (socket !== undefined) out.transport_socket = this.tlsSocket(socket, 'downstream');
    return out;
  }

  private filter(f: Obj, statPrefix: string): { filter: Obj; movedSocket?: Obj } {
    const name = typeof f.name === 'string' && f.name !== '' ? (LEGACY_NAMES[f.name] ?? f.name) : undefined;
    // an Any kept verbatim (another network filter) already says what it is
    if (!isObj(f.typed_config) || f.typed_config['@type'] !== undefined) return { filter: { ...f, ...(name !== undefined ? { name } : {}) } };
    const hcm: Obj = { ...f.typed_config };
    let movedSocket: Obj | undefined;
    if (isObj(hcm.transport_socket)) movedSocket = hcm.transport_socket;
    delete hcm.transport_socket;
    hcm.stat_prefix = typeof hcm.stat_prefix === 'string' && hcm.stat_prefix !== '' ? hcm.stat_prefix : statPrefix;
    hcm.http_filters = this.httpFilters(hcm.http_filters);
    const body = inProtoOrder(hcm, HCM_TYPE);
    const out: Obj = sameOrigin(f, { name: name ?? ENVOY_NAMES.hcm });
    for (const [k, v] of Object.entries(f)) if (k !== 'name' && k !== 'typed_config') out[k] = v;
    out.typed_config = typed(ENVOY_TYPES.hcm, body);
    return { filter: out, ...(movedSocket !== undefined ? { movedSocket } : {}) };
  }

  private httpFilters(v: JsonValue | undefined): JsonValue[] {
    const list = objs(v);
    if (list.length === 0) return [{ name: ENVOY_NAMES.router, typed_config: typed(ENVOY_TYPES.router, {}) }];
    return list.map((hf) => {
      const name = typeof hf.name === 'string' ? (LEGACY_NAMES[hf.name] ?? hf.name) : hf.name;
      const type = typeof name === 'string' ? HTTP_FILTER_TYPES[name] : undefined;
      if (isObj(hf.typed_config) || type === undefined) return { ...hf, ...(name !== undefined ? { name } : {}) };
      return { ...hf, name: name as string, typed_config: typed(type, {}) };
    });
  }

  /** A model TransportSocket (TlsContext in typed_config) as Envoy's tls transport socket. */
  private tlsSocket(ts: Obj, side: 'downstream' | 'upstream'): Obj {
    if (!isObj(ts.typed_config) || ts.typed_config['@type'] !== undefined) {
      const name = typeof ts.name === 'string' ? (LEGACY_NAMES[ts.name] ?? ts.name) : ts.name;
      return { ...ts, ...(name !== undefined ? { name } : {}) };
    }
    const ctx: Obj = { ...ts.typed_config };
    if (side === 'downstream' && ctx.sni !== undefined) {
      this.warn(undefined, undefined, 'a downstream TLS context has no `sni` (it is an upstream setting); it was dropped.');
      delete ctx.sni;
    }
    if (side === 'upstream' && ctx.require_client_certificate !== undefined) {
      this.warn(undefined, undefined, 'an upstream TLS context has no `require_client_certificate` (it is a downstream setting); it was dropped.');
      delete ctx.require_client_certificate;
    }
    const out: Obj = sameOrigin(ts, { name: ENVOY_NAMES.tls });
    for (const [k, v] of Object.entries(ts)) if (k !== 'name' && k !== 'typed_config') out[k] = v;
    out.typed_config = typed(side === 'downstream' ? ENVOY_TYPES.downstreamTls : ENVOY_TYPES.upstreamTls, ctx);
    return out;
  }

  private cluster(c: Obj, index: number): Obj {
    const model = this.model.static_resources?.clusters?.[index];
    const out: Obj = sameOrigin(c, {});
    const resolvers: JsonValue[] = [];
    for (const [k, v] of Object.entries(c)) {
      switch (k) {
        case 'transport_socket':
          if (isObj(v)) out[k] = this.tlsSocket(v, 'upstream');
          break;
        case 'dns_query':
          if (isObj(v)) {
            const r = this.dnsQuery(model?.dns_query, v);
            if (r !== undefined) resolvers.push(...objs(((r.typed_config as Obj).resolvers as JsonValue[]) ?? []));
          }
          break;
        case 'least_request_lb_config':
          out[k] = this.leastRequest(v);
          break;
        case 'load_assignment':
          out[k] = isObj(v) && v.cluster_name === undefined && typeof c.name === 'string' ? { cluster_name: c.name, ...v } : v;
          break;
        default:
          out[k] = v;
      }
    }
    // Envoy takes either the deprecated dns_resolvers or typed_dns_resolver_config; a cluster that already names
    // resolvers keeps them, and dns_query's nameservers are added to the typed form
    if (resolvers.length > 0 && out.typed_dns_resolver_config === undefined) out.typed_dns_resolver_config = this.fromNameservers(model?.dns_query, caresResolver(resolvers));
    return out;
  }

  /** Envoy's active_request_bias is a RuntimeDouble (a default plus a runtime key), not a plain double. */
  private leastRequest(v: JsonValue): JsonValue {
    if (!isObj(v) || typeof v.active_request_bias !== 'number') return v;
    return { ...v, active_request_bias: { default_value: v.active_request_bias, runtime_key: 'upstream.least_request.active_request_bias' } };
  }
}

/**
 * The model as an Envoy v3 bootstrap object (plain JSON), plus a warning for each construct Envoy cannot hold. With
 * `origins`, each object made from a model node says which (origin.ts), so that Envoy's judgement of this form can
 * point into the file the model was read from.
 */
export function toEnvoy(config: Bootstrap, opts: { origins?: boolean } = {}): { bootstrap: JsonObject; diagnostics: Diagnostic[] } {
  const file = (config as { [META]?: NodeMeta })[META]?.span.file ?? '<config>';
  const mapper = new EnvoyMapper(config, file, opts.origins === true);
  const bootstrap = mapper.map();
  aggregatedSources(bootstrap);
  return { bootstrap: bootstrap as JsonObject, diagnostics: mapper.diagnostics };
}

/**
 * The model holds ConfigSource's `ads` as a boolean; Envoy's field is an AggregatedConfigSource message (`ads: {}`)
 * and refuses `true`. ConfigSource is the only message of Envoy's API with an `ads` field. Edited in place: every
 * object of the mapper's output is its own (treeToJson made them), so nothing else sees the change.
 */
function aggregatedSources(v: JsonValue): void {
  if (Array.isArray(v)) {
    for (const x of v) aggregatedSources(x);
    return;
  }
  if (!isObj(v)) return;
  for (const k of Object.keys(v)) {
    const x = v[k]!;
    if (k === 'ads' && typeof x === 'boolean') {
      if (x) v[k] = {};
      else delete v[k];
    } else aggregatedSources(x);
  }
}
