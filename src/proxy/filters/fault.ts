/**
 * Envoy's fault injection HTTP filter (envoy.filters.http.fault; docs: "Fault Injection"): a delay (fixed, or from
 * the x-envoy-fault-delay-request header), then an abort (an HTTP status, a gRPC status, or from the
 * x-envoy-fault-abort-request / -grpc-request headers), each for a percentage of requests drawn from the seeded
 * random stream (so `run --seed` makes them exact). Faults apply only to requests whose headers match `headers`,
 * whose x-envoy-downstream-service-node is in downstream_nodes (when set), whose cluster is upstream_cluster (when
 * set), and while fewer than max_active_faults are active. A delay sets response flag DI, an abort answers
 * "fault filter abort" with flag FI.
 *
 * Stats (`http.<stat_prefix>.fault.`): delays_injected, aborts_injected, faults_overflow, active_faults, and
 * `<downstream cluster>.delays_injected` / `.aborts_injected` per x-envoy-downstream-service-cluster.
 */
import type { HeaderMatcher } from '../../config/model.js';
import type { JsonObject, JsonValue } from '../../config/json-value.js';
import { compileHeaderMatcher, type CompileProblem } from '../../router/matchers.js';
import { FLAG, type LocalReply } from '../local-reply.js';
import { statSafe, type Counter } from '../stats.js';
import { bool, durationMs, fraction, list, num, obj, refuse, refuseUnbuilt, sample, str, uint } from './config-read.js';
import type { CompiledFilter, DecodeResult, FilterEnv, FilterFactory, FilterRequest, FilterState, Where } from './types.js';
import { FAULT_BUILT } from '../../config/run-fate/chain-filters.js';

const TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

const BUILT: ReadonlySet<string> = new Set(FAULT_BUILT);

interface Delay {
  readonly fixedMs: number | undefined;
  readonly fromHeader: boolean;
  readonly percentage: readonly [number, number];
}

interface Abort {
  readonly httpStatus: number | undefined;
  readonly grpcStatus: number | undefined;
  readonly fromHeader: boolean;
  readonly percentage: readonly [number, number];
}

interface Fault {
  readonly delay: Delay | null;
  readonly abort: Abort | null;
  readonly upstreamCluster: string | undefined;
  readonly headers: readonly { name: string; test: (v: string | undefined) => boolean }[];
  readonly nodes: ReadonlySet<string> | null;
  readonly maxActive: number;
  readonly clusterStats: boolean;
}

interface Stats {
  readonly delays: Counter;
  readonly aborts: Counter;
  readonly overflow: Counter;
  readonly active: Counter;
}

function compileFault(o: JsonObject, at: Where): Fault {
  refuseUnbuilt(o, BUILT, at, 'fault');
  const d = obj(o.delay);
  const a = obj(o.abort);
  let delay: Delay | null = null;
  if (d !== undefined) {
    if (d.header_delay === undefined && d.fixed_delay === undefined) refuse(at, 'fault: a delay needs fixed_delay or header_delay');
    delay = { fixedMs: durationMs(d.fixed_delay), fromHeader: d.header_delay !== undefined, percentage: fraction(d.percentage) ?? [0, 100] };
  }
  let abort: Abort | null = null;
  if (a !== undefined) {
    const httpStatus = num(a.http_status);
    const grpcStatus = num(a.grpc_status);
    if (a.header_abort === undefined && httpStatus === undefined && grpcStatus === undefined) refuse(at, 'fault: an abort needs http_status, grpc_status or header_abort');
    abort = { httpStatus, grpcStatus, fromHeader: a.header_abort !== undefined, percentage: fraction(a.percentage) ?? [0, 100] };
  }
  const problems: CompileProblem[] = [];
  const headers = list(o.headers).map((h) => compileHeaderMatcher((obj(h) ?? {}) as HeaderMatcher, problems));
  if (problems.length > 0) refuse(at, `fault: ${problems[0]!.message}`);
  const nodes = list(o.downstream_nodes).map((n: JsonValue) => String(n));
  return {
    delay,
    abort,
    upstreamCluster: str(o.upstream_cluster) || undefined,
    headers,
    nodes: nodes.length > 0 ? new Set(nodes) : null,
    maxActive: uint(o.max_active_faults, Number.MAX_SAFE_INTEGER),
    clusterStats: !bool(o.disable_downstream_cluster_stats),
  };
}

/** A percentage header (x-envoy-fault-…-percentage) over the configured denominator, capped at the configured one. */
function headerPercentage(r: FilterRequest, name: string, configured: readonly [number, number]): readonly [number, number] {
  const v = r.header(name);
  if (v === undefined || !/^\d+$/.test(v)) return configured;
  return [Math.min(Number(v), configured[0]), configured[1]];
}

/** The request is in a fault's scope, or the fault is set aside. */
function inScope(f: Fault, r: FilterRequest): boolean {
  if (f.upstreamCluster !== undefined && r.clusterName !== f.upstreamCluster) return false;
  if (f.nodes !== null && !f.nodes.has(r.header('x-envoy-downstream-service-node') ?? '')) return false;
  for (const h of f.headers) if (!h.test(r.header(h.name))) return false;
  return true;
}

/** Per request: the fault being applied (active until the request ends). */
interface Applied {
  readonly fault: Fault;
}

class FaultFilter implements CompiledFilter<Fault, Applied> {
  private readonly stats: Stats;
  private readonly draw: () => number;
  private active = 0;

  constructor(
    readonly name: string,
    private readonly fault: Fault,
    private readonly env: FilterEnv,
  ) {
    const p = `${env.httpPrefix}fault.`;
    const s = env.store;
    this.stats = { delays: s.counter(p + 'delays_injected'), aborts: s.counter(p + 'aborts_injected'), overflow: s.counter(p + 'faults_overflow'), active: s.gauge(p + 'active_faults') };
    this.draw = () => env.random.nextU32();
  }

  decode(r: FilterRequest, perRoute: Fault | undefined, state: FilterState<Applied>): DecodeResult {
    const f = perRoute ?? this.fault;
    if (!inScope(f, r)) return null;
    const delayMs = this.delayFor(f, r);
    if (delayMs === undefined && !this.abortConfigured(f)) return null;
    if (this.active >= f.maxActive) {
      this.stats.overflow.value++;
      return null;
    }
    if (delayMs !== undefined) {
      this.begin(state, f);
      this.count(r, 'delays_injected', this.stats.delays);
      // Envoy's postDelayInjection: the abort is drawn once the delay is over.
      return { delayMs, flag: FLAG.DI, then: () => this.abortFor(f, r) };
    }
    const answer = this.abortFor(f, r);
    if (answer !== null) this.begin(state, f);
    return answer;
  }

  private begin(state: FilterState<Applied>, f: Fault): void {
    if (state.value !== undefined) return;
    state.value = { fault: f };
    this.active++;
    this.stats.active.value = this.active;
  }

  onDone(state: FilterState<Applied>): void {
    if (state.value === undefined) return;
    state.value = undefined;
    this.active--;
    this.stats.active.value = this.active;
  }

  private abortConfigured(f: Fault): boolean {
    return f.abort !== null;
  }

  /** The delay for this request (its percentage drawn), or undefined for none. */
  private delayFor(f: Fault, r: FilterRequest): number | undefined {
    const d = f.delay;
    if (d === null) return undefined;
    let ms = d.fixedMs;
    let pct = d.percentage;
    if (d.fromHeader) {
      const v = r.header('x-envoy-fault-delay-request');
      if (v === undefined || !/^\d+$/.test(v)) return undefined;
      ms = Number(v);
      pct = headerPercentage(r, 'x-envoy-fault-delay-request-percentage', pct);
    }
    if (ms === undefined || !sample(pct, this.draw)) return undefined;
    return ms;
  }

  /** The abort for this request (its percentage drawn), or null. */
  private abortFor(f: Fault, r: FilterRequest): LocalReply | null {
    const a = f.abort;
    if (a === null) return null;
    let http = a.httpStatus;
    let grpc = a.grpcStatus;
    let pct = a.percentage;
    if (a.fromHeader) {
      const h = r.header('x-envoy-fault-abort-request');
      const g = r.header('x-envoy-fault-abort-grpc-request');
      http = h !== undefined && /^\d+$/.test(h) && Number(h) >= 200 && Number(h) < 600 ? Number(h) : undefined;
      grpc = g !== undefined && /^\d+$/.test(g) ? Number(g) : undefined;
      if (http === undefined && grpc === undefined) return null;
      pct = headerPercentage(r, 'x-envoy-fault-abort-request-percentage', pct);
    }
    if (!sample(pct, this.draw)) return null;
    this.count(r, 'aborts_injected', this.stats.aborts);
    return {
      status: http ?? 200,
      flag: FLAG.FI,
      body: 'fault filter abort',
      details: 'fault_filter_abort',
      ...(grpc !== undefined ? { grpcStatus: grpc } : {}),
    };
  }

  /** The total, and the downstream cluster's own counter (x-envoy-downstream-service-cluster). */
  private count(r: FilterRequest, stat: string, total: Counter): void {
    total.value++;
    if (!this.fault.clusterStats) return;
    const dc = r.header('x-envoy-downstream-service-cluster');
    if (dc !== undefined && dc !== '') this.env.store.counter(`${this.env.httpPrefix}fault.${statSafe(dc)}.${stat}`).value++;
  }
}

export const faultFactory: FilterFactory<Fault> = {
  typeUrls: [TYPE],
  names: ['envoy.filters.http.fault'],
  perRouteTypeUrls: [TYPE],
  compile(name, config, at, env) {
    return new FaultFilter(name, compileFault(config, at), env);
  },
  compilePerRoute(config, at) {
    return compileFault(config, at);
  },
};
