/**
 * Envoy-style statistics. The data path bumps plain numeric fields (no hashing, no allocation per request); names,
 * Prometheus tag extraction and exposition happen only when someone asks (/stats, /stats/prometheus, a worker
 * snapshot). The upstream side (health checks, outlier detection, circuit breakers, membership, discovery) keeps its
 * own numbers, read into the same snapshot. A snapshot is a plain JSON object, so `--workers N` merges snapshots
 * from every process.
 */
import type promClientType from 'prom-client';
import type { ClusterManager } from '../upstream/types.js';
import { clusterManagerStats, upstreamClusterStats, type UpstreamStatValues } from '../upstream/stats.js';

export interface Counter {
  value: number;
}

/** Envoy's default histogram bucket bounds (milliseconds), from source/common/stats/histogram_impl.h. */
const HISTOGRAM_BOUNDS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

export class Histogram {
  /** counts[i] = observations ≤ HISTOGRAM_BOUNDS[i] and > the previous bound; the last slot is +Inf. */
  readonly counts = new Float64Array(HISTOGRAM_BOUNDS.length + 1);
  sum = 0;
  count = 0;
  record(ms: number): void {
    let i = 0;
    const n = HISTOGRAM_BOUNDS.length;
    while (i < n && ms > HISTOGRAM_BOUNDS[i]!) i++;
    this.counts[i]!++;
    this.sum += ms;
    this.count++;
  }
}

interface HistogramSnapshot {
  counts: number[];
  sum: number;
  count: number;
}

export interface StatsSnapshot {
  counters: Record<string, number>;
  gauges: Record<string, number>;
  histograms: Record<string, HistogramSnapshot>;
  /**
   * The gauges (names in `gauges`) that read a cluster's state, of which every worker process holds its own copy
   * (membership, health, ejections, breakers at capacity): merged across workers by maximum instead of summed.
   */
  stateGauges: string[];
}

type Kind = 'counter' | 'gauge';

/** A named collection of stats. Stats are created once per config object (cluster, listener, connection manager). */
export class StatsStore {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();

  counter(name: string): Counter {
    return this.get(this.counters, name);
  }
  gauge(name: string): Counter {
    return this.get(this.gauges, name);
  }
  histogram(name: string): Histogram {
    let h = this.histograms.get(name);
    if (h === undefined) {
      h = new Histogram();
      this.histograms.set(name, h);
    }
    return h;
  }

  private get(map: Map<string, Counter>, name: string): Counter {
    let c = map.get(name);
    if (c === undefined) {
      c = { value: 0 };
      map.set(name, c);
    }
    return c;
  }

  snapshot(): StatsSnapshot {
    const counters: Record<string, number> = {};
    const gauges: Record<string, number> = {};
    const histograms: Record<string, HistogramSnapshot> = {};
    for (const [k, c] of this.counters) counters[k] = c.value;
    for (const [k, g] of this.gauges) gauges[k] = g.value;
    for (const [k, h] of this.histograms) histograms[k] = { counts: Array.from(h.counts), sum: h.sum, count: h.count };
    return { counters, gauges, histograms, stateGauges: [] };
  }
}

/** One process's numbers: the store's, and the cluster manager's under `cluster.<name>.` and `cluster_manager.`. */
export function proxySnapshot(store: StatsStore, cm: ClusterManager): StatsSnapshot {
  const snap = store.snapshot();
  const add = (prefix: string, v: UpstreamStatValues): void => {
    for (const [k, n] of Object.entries(v.counters)) snap.counters[prefix + k] = n;
    for (const [k, n] of Object.entries(v.gauges)) snap.gauges[prefix + k] = n;
    for (const [k, n] of Object.entries(v.state)) {
      snap.gauges[prefix + k] = n;
      snap.stateGauges.push(prefix + k);
    }
  };
  for (const uc of cm.clusters()) add(`cluster.${statSafe(uc.config.alt_stat_name || uc.name)}.`, upstreamClusterStats(uc, cm));
  add('', clusterManagerStats(cm));
  return snap;
}

/**
 * Merges snapshots from several worker processes: counters add, gauges add except the cluster-state ones (largest
 * copy), histograms add bucket-wise.
 */
export function mergeSnapshots(snaps: readonly StatsSnapshot[]): StatsSnapshot {
  const state = new Set(snaps.flatMap((s) => s.stateGauges));
  const out: StatsSnapshot = { counters: {}, gauges: {}, histograms: {}, stateGauges: [...state] };
  for (const s of snaps) {
    for (const [k, v] of Object.entries(s.counters)) out.counters[k] = (out.counters[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.gauges)) {
      const o = out.gauges[k];
      out.gauges[k] = o === undefined ? v : state.has(k) ? Math.max(o, v) : o + v;
    }
    for (const [k, h] of Object.entries(s.histograms)) {
      const o = out.histograms[k];
      if (o === undefined) out.histograms[k] = { counts: [...h.counts], sum: h.sum, count: h.count };
      else {
        for (let i = 0; i < h.counts.length; i++) o.counts[i] = (o.counts[i] ?? 0) + h.counts[i]!;
        o.sum += h.sum;
        o.count += h.count;
      }
    }
  }
  return out;
}

/** Envoy's `/stats` text: `name: value` lines sorted by name; histograms as `P0(...)` summaries are left out. */
export function renderStatsText(snap: StatsSnapshot, filter?: RegExp, usedOnly = false): string {
  const lines: string[] = [];
  const all: [string, number][] = [...Object.entries(snap.counters), ...Object.entries(snap.gauges)];
  all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [k, v] of all) {
    if (filter !== undefined && !filter.test(k)) continue;
    if (usedOnly && v === 0) continue;
    lines.push(`${k}: ${v}`);
  }
  const hs = Object.keys(snap.histograms).sort();
  for (const k of hs) {
    if (filter !== undefined && !filter.test(k)) continue;
    const h = snap.histograms[k]!;
    if (usedOnly && h.count === 0) continue;
    lines.push(`${k}: count=${h.count} sum=${round(h.sum)}`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A stat name split the way Envoy's default tag extractors do (source/common/config/well_known_names.cc). */
interface PromName {
  name: string;
  labels: Record<string, string>;
}

const TAG_RULES: readonly { re: RegExp; build: (m: RegExpExecArray) => PromName }[] = [
  {
    // cluster.<name>.upstream_rq_<3-digit code>
    re: /^cluster\.([^.]+)\.(.*?)upstream_rq_(\d{3})$/,
    build: (m) => ({
      name: `cluster.${m[2]}upstream_rq`,
      labels: { envoy_response_code: m[3]!, envoy_cluster_name: m[1]! },
    }),
  },
  {
    re: /^cluster\.([^.]+)\.(.*?)upstream_rq_(\d)xx$/,
    build: (m) => ({
      name: `cluster.${m[2]}upstream_rq_xx`,
      labels: { envoy_response_code_class: m[3]!, envoy_cluster_name: m[1]! },
    }),
  },
  {
    re: /^cluster\.([^.]+)\.(.+)$/,
    build: (m) => ({ name: `cluster.${m[2]}`, labels: { envoy_cluster_name: m[1]! } }),
  },
  {
    re: /^http\.([^.]+)\.downstream_rq_(\d)xx$/,
    build: (m) => ({
      name: 'http.downstream_rq_xx',
      labels: { envoy_response_code_class: m[2]!, envoy_http_conn_manager_prefix: m[1]! },
    }),
  },
  {
    re: /^http\.([^.]+)\.(.+)$/,
    build: (m) => ({ name: `http.${m[2]}`, labels: { envoy_http_conn_manager_prefix: m[1]! } }),
  },
  {
    // listener.<address with dots>.<stat>: the address is ip_port (dots inside the IP), the stat has no dots.
    re: /^listener\.(.+_\d+)\.([^.]+)$/,
    build: (m) => ({ name: `listener.${m[2]}`, labels: { envoy_listener_address: m[1]! } }),
  },
];

function promNameOf(envoyName: string): PromName {
  for (const rule of TAG_RULES) {
    const m = rule.re.exec(envoyName);
    if (m !== null) {
      const p = rule.build(m);
      return { name: sanitize('envoy_' + p.name), labels: p.labels };
    }
  }
  return { name: sanitize('envoy_' + envoyName), labels: {} };
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator: 'sum';
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

/**
 * The snapshot in Prometheus text exposition format 0.0.4, written by prom-client (its aggregator builds a registry
 * from metric JSON, which is exactly what a snapshot converts to).
 */
export async function renderPrometheus(snap: StatsSnapshot): Promise<string> {
  const byName = new Map<string, MetricJson>();
  const add = (envoyName: string, type: Kind, value: number): void => {
    const p = promNameOf(envoyName);
    let m = byName.get(p.name);
    if (m === undefined) {
      m = { name: p.name, help: p.name, type, aggregator: 'sum', values: [] };
      byName.set(p.name, m);
    }
    m.values.push({ labels: p.labels, value });
  };
  for (const [k, v] of Object.entries(snap.counters)) add(k, 'counter', v);
  for (const [k, v] of Object.entries(snap.gauges)) add(k, 'gauge', v);
  for (const [k, h] of Object.entries(snap.histograms)) {
    const p = promNameOf(k);
    let m = byName.get(p.name);
    if (m === undefined) {
      m = { name: p.name, help: p.name, type: 'histogram', aggregator: 'sum', values: [] };
      byName.set(p.name, m);
    }
    let cum = 0;
    for (let i = 0; i <= HISTOGRAM_BOUNDS.length; i++) {
      cum += h.counts[i] ?? 0;
      const le = i < HISTOGRAM_BOUNDS.length ? HISTOGRAM_BOUNDS[i]! : '+Inf';
      m.values.push({ labels: { ...p.labels, le }, value: cum, metricName: `${p.name}_bucket` });
    }
    m.values.push({ labels: p.labels, value: h.sum, metricName: `${p.name}_sum` });
    m.values.push({ labels: p.labels, value: h.count, metricName: `${p.name}_count` });
  }
  const metrics = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  // Loaded on the first scrape: prom-client costs ~13 MB of resident memory that an unscraped proxy never needs.
  const promClient: typeof promClientType = (await import('prom-client')).default;
  const registry = promClient.AggregatorRegistry.aggregate([metrics as unknown as promClientType.MetricObjectWithValues<promClientType.MetricValue<string>>[]]);
  return registry.metrics();
}

/** prom-client's `Registry.PROMETHEUS_CONTENT_TYPE` (a test holds them equal), known without loading prom-client. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** `:` in names becomes `_`, as Envoy writes cluster and listener names into stat names. */
export function statSafe(name: string): string {
  return name.replace(/:/g, '_');
}
