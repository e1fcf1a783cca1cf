/**
 * Envoy's CORS HTTP filter (envoy.filters.http.cors; docs: "CORS filter", source/extensions/filters/http/cors). The
 * policy is the route's: a CorsPolicy in typed_per_filter_config (weighted cluster, route, virtual host: the most
 * specific), else the legacy `cors` field of the route action and of the virtual host (field by field, the route's
 * first). A request with an Origin the policy allows is a CORS request: a preflight (OPTIONS with
 * Access-Control-Request-Method) is answered here, 200 with the allowed methods, headers, max age and credentials;
 * any other response gets Access-Control-Allow-Origin (the request's origin), -Allow-Credentials and -Expose-Headers.
 * filter_enabled (default 100%) turns the policy on; shadow_enabled only counts. A preflight whose origin is not
 * allowed goes upstream (forward_not_matching_preflights, Envoy's default).
 *
 * Stats: `http.<stat_prefix>.cors.origin_valid` / `origin_invalid`.
 */
import type { StringMatcher, Route, VirtualHost } from '../../config/model.js';
import type { JsonObject, JsonValue } from '../../config/json-value.js';
import type { OutHeaders } from '../../http/headers.js';
import { compileStringMatcher, type CompileProblem } from '../../router/matchers.js';
import type { LocalReply } from '../local-reply.js';
import type { Counter } from '../stats.js';
import { bool, list, obj, refuse, refuseUnbuilt, runtimeFraction, sample, str } from './config-read.js';
import type { BodyEncoder, CompiledFilter, FilterEnv, FilterFactory, FilterRequest, FilterState, Where } from './types.js';
import { CORS_BUILT } from '../../config/run-fate/chain-filters.js';

const POLICY_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

const BUILT: ReadonlySet<string> = new Set(CORS_BUILT);

/** A policy, compiled; undefined fields are unset (a less specific legacy policy may set them). */
interface Policy {
  readonly origins: readonly ((s: string) => boolean)[] | undefined;
  readonly methods: string | undefined;
  readonly headers: string | undefined;
  readonly expose: string | undefined;
  readonly maxAge: string | undefined;
  readonly credentials: boolean | undefined;
  readonly enabled: readonly [number, number] | undefined;
  readonly shadow: readonly [number, number] | undefined;
}

function compilePolicy(o: JsonObject, at: Where): Policy {
  refuseUnbuilt(o, BUILT, at, 'CORS policy');
  const fwd = o.forward_not_matching_preflights;
  if (fwd !== undefined && !bool(fwd, true)) refuse(at, 'CORS policy: forward_not_matching_preflights false is not supported by meshctl run');
  const problems: CompileProblem[] = [];
  const origins = list(o.allow_origin_string_match).map((m: JsonValue) => compileStringMatcher((obj(m) ?? {}) as StringMatcher, problems));
  if (problems.length > 0) refuse(at, `CORS policy: ${problems[0]!.message}`);
  const text = (v: JsonValue | undefined): string | undefined => {
    const s = str(v);
    return s === undefined || s === '' ? undefined : s;
  };
  return {
    origins: origins.length > 0 ? origins : undefined,
    methods: text(o.allow_methods),
    headers: text(o.allow_headers),
    expose: text(o.expose_headers),
    maxAge: text(o.max_age),
    credentials: o.allow_credentials === undefined ? undefined : bool(o.allow_credentials),
    enabled: runtimeFraction(o.filter_enabled),
    shadow: runtimeFraction(o.shadow_enabled),
  };
}

/** Field by field, the first policy that sets it (Envoy's CorsFilter reads its policies that way). */
function merge(first: Policy, then: Policy): Policy {
  return {
    origins: first.origins ?? then.origins,
    methods: first.methods ?? then.methods,
    headers: first.headers ?? then.headers,
    expose: first.expose ?? then.expose,
    maxAge: first.maxAge ?? then.maxAge,
    credentials: first.credentials ?? then.credentials,
    enabled: first.enabled ?? then.enabled,
    shadow: first.shadow ?? then.shadow,
  };
}

interface Stats {
  readonly valid: Counter;
  readonly invalid: Counter;
}

const EMPTY = Buffer.alloc(0);

class CorsFilter implements CompiledFilter<Policy, string> {
  private readonly draw: () => number;
  private readonly stats: Stats;

  constructor(
    readonly name: string,
    env: FilterEnv,
  ) {
    this.draw = () => env.random.nextU32();
    this.stats = { valid: env.store.counter(`${env.httpPrefix}cors.origin_valid`), invalid: env.store.counter(`${env.httpPrefix}cors.origin_invalid`) };
  }

  decode(r: FilterRequest, p: Policy | undefined, state: FilterState<string>): LocalReply | null {
    if (p === undefined) return null;
    const enabled = sample(p.enabled ?? [100, 100], this.draw);
    const shadow = !enabled && p.shadow !== undefined && sample(p.shadow, this.draw);
    if (!enabled && !shadow) return null;
    const origin = r.header('origin');
    if (origin === undefined || origin === '') return null;
    // Envoy's isOriginAllowed: a matcher that matches "*" allows every origin.
    const allowed = p.origins !== undefined && p.origins.some((m) => m('*') || m(origin));
    if (!allowed) {
      this.stats.invalid.value++;
      return null;
    }
    this.stats.valid.value++;
    if (!enabled) return null;
    const preflight = r.method === 'OPTIONS' && (r.header('access-control-request-method') ?? '') !== '';
    if (!preflight) {
      state.value = origin;
      return null;
    }
    const headers: Record<string, string> = { 'access-control-allow-origin': origin };
    if (p.credentials === true) headers['access-control-allow-credentials'] = 'true';
    if (p.methods !== undefined) headers['access-control-allow-methods'] = p.methods;
    if (p.headers !== undefined) headers['access-control-allow-headers'] = p.headers;
    if (p.maxAge !== undefined) headers['access-control-max-age'] = p.maxAge;
    return { status: 200, flag: 0, body: EMPTY, headers, details: 'cors_response' };
  }

  encodeHeaders(_r: FilterRequest, _s: number, out: OutHeaders, _l: boolean, p: Policy | undefined, state: FilterState<string>): BodyEncoder | null {
    const origin = state.value;
    if (origin === undefined || p === undefined) return null;
    out['access-control-allow-origin'] = origin;
    if (p.credentials === true) out['access-control-allow-credentials'] = 'true';
    if (p.expose !== undefined) out['access-control-expose-headers'] = p.expose;
    return null;
  }
}

export const corsFactory: FilterFactory<Policy> = {
  typeUrls: ['type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors'],
  names: ['envoy.filters.http.cors', 'envoy.cors'],
  perRouteTypeUrls: [POLICY_TYPE],
  compile(name, config, at, env) {
    refuseUnbuilt(config, new Set(), at, 'cors');
    return new CorsFilter(name, env);
  },
  compilePerRoute(config, at) {
    return compilePolicy(config, at);
  },
  legacyPerRoute(route: Route, vhost: VirtualHost, at: (node: object, field: string) => Where) {
    const r = route.route?.cors;
    const v = vhost.cors;
    const rp = r === undefined ? undefined : compilePolicy(r, at(route.route!, 'cors'));
    const vp = v === undefined ? undefined : compilePolicy(v, at(vhost, 'cors'));
    if (rp !== undefined && vp !== undefined) return merge(rp, vp);
    return rp ?? vp;
  },
};
