/**
 * The admin server (Envoy's docs: "Administration interface"): /ready, /stats (text, ?format=json|prometheus,
 * ?filter, ?usedonly), /stats/prometheus and the config's metrics_path, /clusters, /config_dump, /server_info, POST /healthcheck/fail|ok.
 * Binds to 127.0.0.1 unless the config or the command line says otherwise. With --workers the data comes from every
 * worker (the providers aggregate).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bootstrap } from '../config/model.js';
import type { XdsDump } from '../discovery/xds.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, renderStatsText, type StatsSnapshot } from './stats.js';
import { clustersJson, configDump } from './admin-json.js';
import { addLatency, type LatencySnapshot } from '../upstream/host-latency.js';

export interface ClusterHostStatus {
  address: string;
  weight: number;
  priority: number;
  health: string;
  hostname?: string;
  cx_active: number;
  cx_connect_fail: number;
  cx_total: number;
  rq_active: number;
  rq_error: number;
  rq_success: number;
  rq_timeout: number;
  rq_total: number;
  /** Attempt latency (run's /topology page only; /clusters prints Envoy's fields, and Envoy has no per-host latency). */
  latency?: LatencySnapshot;
}

export interface ClusterStatus {
  name: string;
  /** alt_stat_name, else the name (Envoy's /clusters?format=json observability_name). */
  observability_name: string;
  thresholds: { max_connections: number; max_pending_requests: number; max_requests: number; max_retries: number };
  added_via_api: boolean;
  hosts: ClusterHostStatus[];
}

/**
 * A page a higher layer adds to the admin server (run's /topology, drawn by src/graph/live.ts): it reads the same
 * providers as the admin's own pages. Costs nothing until it is asked for.
 */
export interface AdminPage {
  readonly path: string;
  /** One line for /help. */
  readonly help: string;
  render(p: AdminPageSources, url: URL): Promise<{ type: string; body: string }>;
}

export type AdminPageSources = Pick<AdminProviders, 'stats' | 'clusters' | 'config'>;

interface AdminProviders {
  stats(): Promise<StatsSnapshot>;
  clusters(): Promise<ClusterStatus[]>;
  config(): Bootstrap;
  /** What xDS has delivered (Envoy's dynamic config_dump sections), when a session runs. */
  xds?(): XdsDump | undefined;
  state(): 'LIVE' | 'DRAINING' | 'INITIALIZING';
  setHealthFailing(failing: boolean): void;
  healthFailing(): boolean;
  startedAt: number;
  pages?: readonly AdminPage[];
}

export interface AdminServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startAdmin(
  host: string,
  port: number,
  p: AdminProviders,
  metricsPaths: readonly string[],
): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    void handle(req, res, p, metricsPaths).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`admin error: ${err.message}\n`);
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    address: a.address,
    port: a.port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A metrics-only server (the config's http_server.address). */
export async function startMetricsServer(host: string, port: number, p: AdminProviders, path: string): Promise<AdminServer> {
  return startAdmin(host, port, { ...p }, [path]);
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, p: AdminProviders, metricsPaths: readonly string[]): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const path = url.pathname;
  const send = (status: number, body: string, type = 'text/plain; charset=UTF-8'): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' });
    res.end(body);
  };
  if (path === '/healthcheck/fail' || path === '/healthcheck/ok') {
    if (req.method !== 'POST') return send(400, 'This admin endpoint needs a POST request.\n');
    p.setHealthFailing(path === '/healthcheck/fail');
    return send(200, 'OK\n');
  }
  if (path === '/ready') {
    const s = p.state();
    return send(s === 'LIVE' ? 200 : 503, s + '\n');
  }
  if (path === '/stats/prometheus' || metricsPaths.includes(path) || (path === '/stats' && url.searchParams.get('format') === 'prometheus')) {
    return send(200, await renderPrometheus(await p.stats()), PROMETHEUS_CONTENT_TYPE);
  }
  if (path === '/stats') {
    const snap = await p.stats();
    const f = url.searchParams.get('filter');
    let re: RegExp | undefined;
    if (f !== null) {
      try {
        re = new RegExp(f);
      } catch {
        return send(400, `Invalid regex: ${f}\n`);
      }
    }
    const usedOnly = url.searchParams.has('usedonly');
    if (url.searchParams.get('format') === 'json') {
      const stats: { name: string; value: number }[] = [];
      for (const [name, value] of [...Object.entries(snap.counters), ...Object.entries(snap.gauges)].sort()) {
        if (re !== undefined && !re.test(name)) continue;
        if (usedOnly && value === 0) continue;
        stats.push({ name, value });
      }
      return send(200, JSON.stringify({ stats }, null, 2) + '\n', 'application/json');
    }
    return send(200, renderStatsText(snap, re, usedOnly));
  }
  if (path === '/clusters') {
    const clusters = await p.clusters();
    if (url.searchParams.get('format') === 'json') {
      return send(200, JSON.stringify(clustersJson(clusters), null, 2) + '\n', 'application/json');
    }
    return send(200, renderClustersText(clusters));
  }
  if (path === '/config_dump') {
    return send(200, JSON.stringify(configDump(p.config(), p.xds?.(), new Date(p.startedAt)), redactKeys, 2) + '\n', 'application/json');
  }
  if (path === '/server_info') {
    return send(
      200,
      JSON.stringify(
        {
          version: 'meshctl',
          state: p.state(),
          health_check_failing: p.healthFailing(),
          uptime_current_epoch: `${Math.round((Date.now() - p.startedAt) / 1000)}s`,
          command_line_options: { argv: process.argv.slice(2) },
        },
        null,
        2,
      ) + '\n',
      'application/json',
    );
  }
  const page = p.pages?.find((pg) => pg.path === path);
  if (page !== undefined) {
    const r = await page.render(p, url);
    return send(200, r.body, r.type);
  }
  if (path === '/' || path === '/help') {
    return send(
      200,
      [
        'admin commands are:',
        '  /clusters: upstream cluster status',
        '  /config_dump: dump current config (keys redacted)',
        '  /healthcheck/fail (POST): cause the server to fail health checks',
        '  /healthcheck/ok (POST): cause the server to pass health checks',
        '  /ready: print server state, return 200 if LIVE, otherwise return 503',
        '  /server_info: print server version/status information',
        '  /stats: print server stats (?filter=, ?usedonly, ?format=json|prometheus)',
        '  /stats/prometheus: print server stats in prometheus format',
        ...metricsPaths.map((m) => `  ${m}: prometheus metrics (from the config's http_server)`),
        ...(p.pages ?? []).map((pg) => `  ${pg.path}: ${pg.help}`),
        '',
      ].join('\n'),
    );
  }
  send(404, 'invalid path. admin commands are listed at /help\n');
}

function renderClustersText(clusters: readonly ClusterStatus[]): string {
  const lines: string[] = [];
  for (const c of clusters) {
    const t = c.thresholds;
    lines.push(`${c.name}::default_priority::max_connections::${t.max_connections}`);
    lines.push(`${c.name}::default_priority::max_pending_requests::${t.max_pending_requests}`);
    lines.push(`${c.name}::default_priority::max_requests::${t.max_requests}`);
    lines.push(`${c.name}::default_priority::max_retries::${t.max_retries}`);
    lines.push(`${c.name}::added_via_api::${c.added_via_api}`);
    for (const h of c.hosts) {
      const pre = `${c.name}::${h.address}::`;
      lines.push(pre + `cx_active::${h.cx_active}`);
      lines.push(pre + `cx_connect_fail::${h.cx_connect_fail}`);
      lines.push(pre + `cx_total::${h.cx_total}`);
      lines.push(pre + `rq_active::${h.rq_active}`);
      lines.push(pre + `rq_error::${h.rq_error}`);
      lines.push(pre + `rq_success::${h.rq_success}`);
      lines.push(pre + `rq_timeout::${h.rq_timeout}`);
      lines.push(pre + `rq_total::${h.rq_total}`);
      lines.push(pre + `hostname::${h.hostname ?? ''}`);
      lines.push(pre + `health_flags::${h.health}`);
      lines.push(pre + `weight::${h.weight}`);
      lines.push(pre + `priority::${h.priority}`);
    }
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** JSON.stringify replacer: private key material never leaves the process (Envoy redacts it too). */
function redactKeys(this: unknown, key: string, value: unknown): unknown {
  if (key === 'private_key' && value !== null && typeof value === 'object') {
    const ds = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(ds)) out[k] = k === 'filename' ? ds[k] : '[redacted]';
    return out;
  }
  if (key === 'inline_bytes' || key === 'inline_string') {
    return typeof value === 'string' && /PRIVATE KEY/.test(value) ? '[redacted]' : value;
  }
  return value;
}

/** Merges cluster statuses from several workers (counts add; membership and health come from the first). */
export function mergeClusterStatuses(all: readonly ClusterStatus[][]): ClusterStatus[] {
  const out = new Map<string, ClusterStatus>();
  for (const list of all) {
    for (const c of list) {
      const o = out.get(c.name);
      if (o === undefined) {
        out.set(c.name, { ...c, hosts: c.hosts.map(copyHost) });
        continue;
      }
      for (const h of c.hosts) {
        const oh = o.hosts.find((x) => x.address === h.address);
        if (oh === undefined) {
          o.hosts.push(copyHost(h));
          continue;
        }
        oh.cx_active += h.cx_active;
        oh.cx_connect_fail += h.cx_connect_fail;
        oh.cx_total += h.cx_total;
        oh.rq_active += h.rq_active;
        oh.rq_error += h.rq_error;
        oh.rq_success += h.rq_success;
        oh.rq_timeout += h.rq_timeout;
        oh.rq_total += h.rq_total;
        if (h.latency !== undefined) {
          if (oh.latency === undefined) oh.latency = { count: 0, sum: 0, buckets: [] };
          addLatency(oh.latency, h.latency);
        }
      }
    }
  }
  return [...out.values()];
}

/** A host's status to merge into (its latency copied too: merging adds into it). */
function copyHost(h: ClusterHostStatus): ClusterHostStatus {
  return { ...h, ...(h.latency !== undefined ? { latency: { ...h.latency, buckets: [...h.latency.buckets] } } : {}) };
}
