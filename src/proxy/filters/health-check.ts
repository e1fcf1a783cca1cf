/**
 * Envoy's health_check HTTP filter (envoy.filters.http.health_check; docs: "Health check" filter and
 * source/extensions/filters/http/health_check): a request whose headers all match `headers` is a health check.
 * Without pass_through_mode the proxy answers it: 200, or 503 (flag LH) while the server fails its health checks
 * (admin POST /healthcheck/fail). In pass-through mode it goes to the upstream, unless the server is failing (503
 * here) or, with cache_time, an upstream answer younger than cache_time is reused. Responses to health checks carry
 * x-envoy-upstream-healthchecked-cluster (the node's cluster); while failing, every other response carries
 * x-envoy-immediate-health-check-fail so downstream Envoys stop sending.
 */
import type { HeaderMatcher } from '../../config/model.js';
import type { OutHeaders } from '../../http/headers.js';
import { compileHeaderMatcher, type CompiledHeaderMatcher, type CompileProblem } from '../../router/matchers.js';
import { FLAG, type LocalReply } from '../local-reply.js';
import { bool, durationMs, list, obj, refuse, refuseUnbuilt } from './config-read.js';
import type { BodyEncoder, CompiledFilter, FilterEnv, FilterFactory, FilterRequest, FilterState } from './types.js';
import { HEALTH_CHECK_BUILT } from '../../config/run-fate/chain-filters.js';

const BUILT: ReadonlySet<string> = new Set(HEALTH_CHECK_BUILT);

const EMPTY = Buffer.alloc(0);
const OK: LocalReply = { status: 200, flag: 0, body: EMPTY, details: 'health_check_ok' };
const FAILED: LocalReply = { status: 503, flag: FLAG.LH, body: EMPTY, details: 'health_check_failed', headers: { 'x-envoy-immediate-health-check-fail': 'true' } };

class HealthCheckFilter implements CompiledFilter<never, true> {
  private cached: { reply: LocalReply; at: number } | undefined;

  constructor(
    readonly name: string,
    private readonly passThrough: boolean,
    private readonly matchers: readonly CompiledHeaderMatcher[],
    private readonly cacheMs: number,
    private readonly env: FilterEnv,
  ) {}

  decode(r: FilterRequest, _p: undefined, state: FilterState<true>): LocalReply | null {
    for (const m of this.matchers) if (!m.test(r.header(m.name))) return null;
    state.value = true;
    r.healthCheck = true;
    if (this.env.healthFailing()) return FAILED;
    if (!this.passThrough) return OK;
    const c = this.cached;
    if (c !== undefined && this.env.clock.now() - c.at < this.cacheMs) return c.reply;
    return null;
  }

  encodeHeaders(_r: FilterRequest, status: number, out: OutHeaders, local: boolean, _p: undefined, state: FilterState<true>): BodyEncoder | null {
    if (state.value === true) {
      if (this.cacheMs > 0 && !local) {
        this.cached = { reply: { status, flag: 0, body: EMPTY, details: 'health_check_cached' }, at: this.env.clock.now() };
      }
      if (this.env.localCluster !== '') out['x-envoy-upstream-healthchecked-cluster'] = this.env.localCluster;
    } else if (this.env.healthFailing()) out['x-envoy-immediate-health-check-fail'] = 'true';
    return null;
  }
}

export const healthCheckFactory: FilterFactory<never> = {
  typeUrls: ['type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck'],
  names: ['envoy.filters.http.health_check', 'envoy.health_check'],
  compile(name, config, at, env) {
    refuseUnbuilt(config, BUILT, at, 'health_check');
    const problems: CompileProblem[] = [];
    const matchers = list(config.headers).map((h) => compileHeaderMatcher((obj(h) ?? {}) as HeaderMatcher, problems));
    if (problems.length > 0) refuse(at, `health_check: ${problems[0]!.message}`);
    const cacheMs = durationMs(config.cache_time) ?? 0;
    return new HealthCheckFilter(name, bool(config.pass_through_mode), matchers, cacheMs, env);
  },
};
