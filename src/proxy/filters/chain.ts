/**
 * A connection manager's HTTP filter chain as meshctl run runs it. Compiled once per listener and config generation:
 * each http_filters entry meshctl builds becomes a CompiledFilter (registry.ts), and every route's
 * typed_per_filter_config is resolved up front (weighted cluster over route over virtual host, the most specific
 * wins, as Envoy's Router::RouteEntry::mostSpecificPerFilterConfig), so a bad per-route config refuses the start,
 * not a request. Per request (a FilterRun, made only when the chain has filters), decode runs in config order and may
 * answer locally (the chain stops), pause (a fault delay) or go on to the router; response headers pass back through
 * the filters in reverse order, and a filter may install a streaming body encoder (the compressor).
 *
 * The router is not compiled here: it is the rest of the request path (preflight's router stage and the exchange).
 */
import type { TLSSocket } from 'node:tls';
import type { HttpConnectionManager, JsonObject, JsonValue } from '../../config/model.js';
import { spanOf } from '../../config/model.js';
import { filterTypeUrl, isRouterFilter, routerNotLast } from '../../config/http-filters.js';
import type { OutHeaders } from '../../http/headers.js';
import type { ListenerRouter } from '../../router/index.js';
import type { RouteResult } from '../../router/index.js';
import { connectionSocket, headerValue, peerAddress, type DownReq, type DownRes } from '../downstream.js';
import type { LocalReply } from '../local-reply.js';
import { endResponse, writeResponseData } from '../response-writer.js';
import type { ProxyRoute, RouteRuntime } from '../route-runtime.js';
import { bool, obj, refuse } from './config-read.js';
import { factoryFor } from './registry.js';
import type { BodyEncoder, CompiledFilter, DecodePause, FilterEnv, FilterFactory, FilterRequest, FilterState, Where } from './types.js';

const FILTER_CONFIG_TYPE = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';

/** Answered by preflight when a filter paused the request: the exchange waits for FilterHost.filtersResumed. */
export const PAUSED: LocalReply = { status: 0, flag: 0, body: '' };

/** What the chain calls back on the request's exchange. */
export interface FilterHost {
  /** A paused decode is over: `answer` is a filter's local reply, or null to go on to the router. */
  filtersResumed(answer: LocalReply | null): void;
  /** A body encoder emitted the end of the body (the response has been ended). */
  bodyEncoded(): void;
}

function where(node: object | undefined, field: string): Where {
  const s = spanOf(node, field);
  return s === undefined ? '' : `${s.file}:${s.line}:${s.column}: `;
}

interface ChainEntry {
  readonly filter: CompiledFilter;
  readonly factory: FilterFactory;
  /** `disabled: true` in http_filters: off unless a route enables it (FilterConfig). */
  readonly disabledByDefault: boolean;
}

/** One filter's resolved per-route setting: whether it runs, and its per-route config. */
interface PerFilter {
  readonly enabled: boolean;
  readonly config: unknown;
}

/** A route's (or weighted entry's) settings, indexed like the chain's filters. */
type RouteFilters = readonly PerFilter[];

/** A typed_per_filter_config value, compiled: FilterConfig's enable/disable and its inner config, or a filter's own. */
interface PerRouteValue {
  /** FilterConfig.disabled as set, undefined for a plain per-route config. */
  readonly disabled: boolean | undefined;
  readonly config: unknown;
}

export class FilterChain {
  private readonly byRoute = new Map<ProxyRoute, { own: RouteFilters; weighted: readonly RouteFilters[] | null }>();
  /** For a request without a route (404 at the router): the filters' defaults. */
  readonly defaults: RouteFilters;

  constructor(
    readonly entries: readonly ChainEntry[],
    router: ListenerRouter<RouteRuntime>,
    env: FilterEnv,
  ) {
    this.defaults = entries.map((e) => ({ enabled: !e.disabledByDefault, config: undefined }));
    const cache = new WeakMap<object, (PerRouteValue | undefined)[]>();
    const compileLevel = (node: { typed_per_filter_config?: JsonObject } | undefined): (PerRouteValue | undefined)[] => {
      const tpfc = node?.typed_per_filter_config;
      if (tpfc === undefined) return [];
      const hit = cache.get(tpfc);
      if (hit !== undefined) return hit;
      const at = where(node, 'typed_per_filter_config');
      const out = entries.map((e) => perRouteValue(e, tpfc[e.filter.name], at, env));
      cache.set(tpfc, out);
      return out;
    };
    for (const vh of router.virtualHosts) {
      const vhLevel = compileLevel(vh.config);
      for (const route of vh.routes) {
        const routeLevel = compileLevel(route.config);
        const legacy = entries.map((e) => e.factory.legacyPerRoute?.(route.config, vh.config, where));
        const own = this.resolve([routeLevel, vhLevel], legacy);
        const cws = route.config.route?.weighted_clusters?.clusters;
        const weighted = cws === undefined ? null : cws.map((cw) => this.resolve([compileLevel(cw), routeLevel, vhLevel], legacy));
        this.byRoute.set(route, { own, weighted });
      }
    }
  }

  /** Most specific first: the first level that says something about a filter decides it; `legacy` (per filter)
   * applies when no level gives a config. */
  private resolve(levels: readonly (PerRouteValue | undefined)[][], legacy: readonly unknown[]): RouteFilters {
    return this.entries.map((e, i) => {
      let enabled: boolean | undefined;
      let config: unknown;
      for (const level of levels) {
        const v = level[i];
        if (v === undefined) continue;
        if (enabled === undefined && v.disabled !== undefined) enabled = !v.disabled;
        if (config === undefined && v.config !== undefined) config = v.config;
      }
      return { enabled: enabled ?? !e.disabledByDefault, config: config ?? legacy[i] };
    });
  }

  /** The per-filter settings of a routed request (`weightedIndex`: the weighted entry picked, -1 for none). */
  settingsFor(route: ProxyRoute | undefined, weightedIndex: number): RouteFilters {
    if (route === undefined) return this.defaults;
    const r = this.byRoute.get(route);
    if (r === undefined) return this.defaults;
    return weightedIndex >= 0 && r.weighted !== null ? (r.weighted[weightedIndex] ?? r.own) : r.own;
  }
}

function perRouteValue(e: ChainEntry, v: JsonValue | undefined, at: Where, env: FilterEnv): PerRouteValue | undefined {
  const o = obj(v);
  if (o === undefined) return undefined;
  const type = o['@type'];
  if (type === FILTER_CONFIG_TYPE) {
    const inner = obj(o.config);
    return { disabled: bool(o.disabled), config: inner === undefined ? undefined : ownPerRoute(e, inner, at, env) };
  }
  return { disabled: undefined, config: ownPerRoute(e, o, at, env) };
}

function ownPerRoute(e: ChainEntry, o: JsonObject, at: Where, env: FilterEnv): unknown {
  const f = e.factory;
  const type = typeof o['@type'] === 'string' ? o['@type'] : '';
  if (f.compilePerRoute === undefined || f.perRouteTypeUrls === undefined || !f.perRouteTypeUrls.includes(type)) {
    refuse(at, `typed_per_filter_config for ${e.filter.name}: ${type || 'a config without @type'} is not a per-route config of this filter`);
  }
  return f.compilePerRoute(o, at, env, e.filter);
}

/**
 * The connection manager's filter chain, or null when it has nothing but the router (the request path then takes
 * exactly the route it takes without filters). Filters meshctl does not build are not compiled here: what run does
 * with them (refuse, or skip when `is_optional`) is decided at start-up with the rest of the config's fate.
 * @throws ConfigRefusedError for a router that is not last, or a filter setting meshctl run cannot enforce.
 */
export function compileFilterChain(hcm: HttpConnectionManager, router: ListenerRouter<RouteRuntime>, env: FilterEnv): FilterChain | null {
  const filters = hcm.http_filters ?? [];
  const misplaced = routerNotLast(hcm);
  if (misplaced !== undefined) {
    refuse(where(misplaced.filter, 'name'), `the router (${misplaced.filter.name ?? ''}) must be the last HTTP filter; Envoy refuses this chain`);
  }
  const entries: ChainEntry[] = [];
  for (const f of filters) {
    if (isRouterFilter(f)) continue;
    const factory = factoryFor(filterTypeUrl(f), f.name);
    if (factory === undefined) continue;
    entries.push({ filter: factory.compile(f.name ?? '', f.typed_config ?? {}, where(f, 'typed_config'), env), factory, disabledByDefault: f.disabled === true });
  }
  return entries.length === 0 ? null : new FilterChain(entries, router, env);
}

/** The routing facts a paused request keeps (preflight's result object is shared by all requests). */
interface SavedRoute {
  route: ProxyRoute | undefined;
  clusterName: string | undefined;
  clusterId: number;
  weightedIndex: number;
  hash: bigint | undefined;
}

/**
 * One request through the chain. Implements FilterRequest (the filters' view of the request) so no other object is
 * made per request.
 */
export class FilterRun implements FilterRequest {
  private settings: RouteFilters;
  private readonly states: FilterState<unknown>[];
  /** How many filters' decode ran (encode passes back through those). */
  private decoded = 0;
  private timer: NodeJS.Timeout | undefined;
  private pause: DecodePause | undefined;
  private saved: SavedRoute | undefined;
  private encoder: BodyEncoder | null = null;
  readonly remoteIp: string;
  readonly localIp: string;
  readonly localPort: number;
  method = '';
  path = '';
  authority = '';
  clusterName: string | undefined = undefined;
  /** Response flag bits the filters set without answering (a fault delay: DI). */
  flags = 0;
  healthCheck = false;

  constructor(
    private readonly chain: FilterChain,
    private readonly host: FilterHost,
    readonly req: DownReq,
    private readonly res: DownRes,
    private readonly h2: boolean,
  ) {
    this.settings = chain.defaults;
    this.states = chain.entries.map(() => ({ value: undefined }));
    this.remoteIp = peerAddress(req) ?? '';
    const sock = connectionSocket(req);
    this.localIp = sock?.localAddress ?? '';
    this.localPort = sock?.localPort ?? 0;
  }

  header(name: string): string | undefined {
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':path') return this.path;
      if (name === ':method') return this.method;
      if (name === ':authority') return this.authority;
      if (name === ':scheme') return this.h2 ? (this.req.headers[':scheme'] as string | undefined) : (this.req.socket as TLSSocket).encrypted === true ? 'https' : 'http';
    }
    if (name === 'host') return this.authority;
    return headerValue(this.req.headers, name);
  }

  /** Decode, from the first filter. `p` holds the request's routing (preflight's RouteResult). */
  decode(p: RouteResult<RouteRuntime>, method: string, path: string, authority: string): LocalReply | null {
    this.method = method;
    this.path = path;
    this.authority = authority;
    this.clusterName = p.clusterName;
    this.settings = this.chain.settingsFor(p.route, p.weightedIndex);
    const answer = this.runFrom(0);
    if (answer === PAUSED) this.saved = { route: p.route, clusterName: p.clusterName, clusterId: p.clusterId, weightedIndex: p.weightedIndex, hash: p.hash };
    return answer;
  }

  /** Puts a paused request's routing back into `p` (preflight's shared result) before the router stage reads it. */
  restore(p: RouteResult<RouteRuntime>): void {
    const s = this.saved!;
    p.route = s.route;
    p.clusterName = s.clusterName;
    p.clusterId = s.clusterId;
    p.weightedIndex = s.weightedIndex;
    p.hash = s.hash;
  }

  private runFrom(start: number): LocalReply | null {
    const entries = this.chain.entries;
    for (let i = start; i < entries.length; i++) {
      const s = this.settings[i]!;
      this.decoded = i + 1;
      if (!s.enabled) continue;
      const f = entries[i]!.filter;
      if (f.decode === undefined) continue;
      const r = f.decode(this, s.config, this.states[i]!);
      if (r === null) continue;
      if ('delayMs' in r) {
        this.pause = r;
        this.flags |= r.flag;
        this.timer = setTimeout(resumeFired, r.delayMs, this, i);
        return PAUSED;
      }
      return r;
    }
    return null;
  }

  /** The pause of filter `i` is over. */
  resumed(i: number): void {
    this.timer = undefined;
    const p = this.pause!;
    this.pause = undefined;
    const answer = p.then() ?? this.runFrom(i + 1);
    if (answer === PAUSED) return;
    this.host.filtersResumed(answer);
  }

  /** Response headers through the filters that decoded, last first. `local`: a reply the proxy made itself. */
  encodeHeaders(status: number, out: OutHeaders, local: boolean): void {
    const entries = this.chain.entries;
    for (let i = this.decoded - 1; i >= 0; i--) {
      const s = this.settings[i]!;
      if (!s.enabled) continue;
      const f = entries[i]!.filter;
      if (f.encodeHeaders === undefined) continue;
      const enc = f.encodeHeaders(this, status, out, local, s.config, this.states[i]!);
      if (enc !== null) this.encoder = enc;
    }
  }

  /** True when a body encoder took the response body: data and end go through it. */
  get encoding(): boolean {
    return this.encoder !== null;
  }

  encodeData(chunk: Buffer): void {
    this.encoder!.write(chunk, this.emit);
  }

  /** The upstream body is over: the encoder flushes, then the response ends (trailers as the exchange passes them). */
  encodeEnd(trailers: OutHeaders | null): void {
    this.encoder!.end(this.emit, () => {
      endResponse(this.res, this.h2, trailers);
      this.host.bodyEncoded();
    });
  }

  private readonly emit = (b: Buffer): void => {
    if (b.length > 0) writeResponseData(this.res, this.h2, b, undefined);
  };

  /** The request is over (or abandoned): a pending pause is cancelled, an encoder released. */
  done(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.encoder?.destroy();
    const entries = this.chain.entries;
    for (let i = 0; i < this.decoded; i++) entries[i]!.filter.onDone?.(this.states[i]!);
  }
}

function resumeFired(run: FilterRun, i: number): void {
  run.resumed(i);
}
