/**
 * Envoy's local rate limit HTTP filter (envoy.filters.http.local_ratelimit; docs: "Local rate limit"): a token bucket
 * per filter config (the listener's, and one per route that has its own LocalRateLimit in typed_per_filter_config).
 * filter_enabled decides for which fraction of requests the bucket is consulted, filter_enforced for which of those a
 * request without a token is refused: 429 (or `status`) "local_rate_limited", response flag RL, with
 * response_headers_to_add. Both fractions default to 0% (Envoy's "for safety"). With enable_x_ratelimit_headers
 * DRAFT_VERSION_03 every response to a checked request carries x-ratelimit-limit, -remaining and -reset.
 *
 * Stats (`<stat_prefix>.http_local_rate_limit.`): enabled, enforced, rate_limited, ok. A meshctl process holds its own
 * buckets: with `--workers N` each worker limits alone (Envoy shares the bucket between its worker threads).
 */
import type { JsonObject } from '../../config/json-value.js';
import type { OutHeaders } from '../../http/headers.js';
import { FLAG, type LocalReply } from '../local-reply.js';
import type { Counter } from '../stats.js';
import { durationMs, list, num, obj, refuse, refuseUnbuilt, runtimeFraction, sample, str, uint } from './config-read.js';
import { TokenBucket } from './token-bucket.js';
import type { BodyEncoder, CompiledFilter, FilterEnv, FilterFactory, FilterRequest, FilterState, Where } from './types.js';
import { LOCAL_RATELIMIT_BUILT } from '../../config/run-fate/chain-filters.js';

const TYPE = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';

const BUILT: ReadonlySet<string> = new Set(LOCAL_RATELIMIT_BUILT);

interface Stats {
  readonly enabled: Counter;
  readonly enforced: Counter;
  readonly rateLimited: Counter;
  readonly ok: Counter;
}

/** One LocalRateLimit config, compiled. */
interface Limiter {
  readonly bucket: TokenBucket | null;
  readonly enabled: readonly [number, number];
  readonly enforced: readonly [number, number];
  readonly reply: LocalReply;
  readonly xHeaders: boolean;
  readonly stats: Stats;
}

function compileLimiter(o: JsonObject, at: Where, env: FilterEnv): Limiter {
  refuseUnbuilt(o, BUILT, at, 'local_ratelimit');
  const tb = obj(o.token_bucket);
  let bucket: TokenBucket | null = null;
  if (tb !== undefined) {
    const max = num(tb.max_tokens) ?? 0;
    const interval = durationMs(tb.fill_interval) ?? 0;
    if (interval <= 0) refuse(at, 'local_ratelimit: token_bucket.fill_interval must be positive');
    bucket = new TokenBucket(max, uint(tb.tokens_per_fill, 1), interval, env.clock);
  }
  const status = num(obj(o.status)?.code) ?? 429;
  const headers: Record<string, string> = {};
  for (const h of list(o.response_headers_to_add)) {
    const kv = obj(obj(h)?.header);
    const key = str(kv?.key)?.toLowerCase();
    if (key !== undefined && key !== '') headers[key] = str(kv?.value) ?? '';
  }
  const prefix = `${str(o.stat_prefix) ?? ''}.http_local_rate_limit.`;
  const s = env.store;
  return {
    bucket,
    enabled: runtimeFraction(o.filter_enabled) ?? [0, 100],
    enforced: runtimeFraction(o.filter_enforced) ?? [0, 100],
    reply: { status, flag: FLAG.RL, body: 'local_rate_limited', details: 'local_rate_limited', headers },
    xHeaders: str(o.enable_x_ratelimit_headers) === 'DRAFT_VERSION_03',
    stats: { enabled: s.counter(prefix + 'enabled'), enforced: s.counter(prefix + 'enforced'), rateLimited: s.counter(prefix + 'rate_limited'), ok: s.counter(prefix + 'ok') },
  };
}

class LocalRateLimitFilter implements CompiledFilter<Limiter, Limiter> {
  private readonly draw: () => number;

  constructor(
    readonly name: string,
    private readonly limiter: Limiter,
    env: FilterEnv,
  ) {
    this.draw = () => env.random.nextU32();
  }

  decode(_r: FilterRequest, perRoute: Limiter | undefined, state: FilterState<Limiter>): LocalReply | null {
    const l = perRoute ?? this.limiter;
    if (!sample(l.enabled, this.draw)) return null;
    l.stats.enabled.value++;
    if (l.bucket === null || l.bucket.consume()) {
      l.stats.ok.value++;
      if (l.xHeaders && l.bucket !== null) state.value = l;
      return null;
    }
    l.stats.rateLimited.value++;
    if (!sample(l.enforced, this.draw)) return null;
    l.stats.enforced.value++;
    if (l.xHeaders) state.value = l;
    return l.reply;
  }

  /** DRAFT_VERSION_03 headers: the bucket's size, what is left, and the seconds until the next fill. */
  encodeHeaders(_r: FilterRequest, _status: number, out: OutHeaders, _local: boolean, _p: Limiter | undefined, state: FilterState<Limiter>): BodyEncoder | null {
    const b = state.value?.bucket;
    if (b === undefined || b === null) return null;
    out['x-ratelimit-limit'] = String(b.maxTokens);
    out['x-ratelimit-remaining'] = String(b.remaining());
    out['x-ratelimit-reset'] = String(Math.ceil(b.msToNextFill() / 1000));
    return null;
  }
}

export const localRateLimitFactory: FilterFactory<Limiter> = {
  typeUrls: [TYPE],
  names: ['envoy.filters.http.local_ratelimit'],
  perRouteTypeUrls: [TYPE],
  compile(name, config, at, env) {
    return new LocalRateLimitFilter(name, compileLimiter(config, at, env), env);
  },
  compilePerRoute(config, at, env) {
    return compileLimiter(config, at, env);
  },
};
