/**
 * A Prometheus scrape configuration from the article's `http_server { prometheus { scrape_configs … } }`. Without
 * scrape_configs, one job scrapes this proxy's own metrics endpoint (the admin address and metrics_path).
 */
import { stringify } from 'yaml';
import { durationToMs, type Bootstrap, type Duration } from '../config/model.js';

/** Prometheus durations have whole units only: `10s`, `1m`, `250ms`. */
function promDuration(d: Duration): string {
  const ms = Math.round(durationToMs(d));
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function prometheusConfig(config: Bootstrap): string {
  const prom = config.http_server?.prometheus;
  const defaultPath = prom?.metrics_path || '/stats/prometheus';
  const jobs: Record<string, unknown>[] = [];
  for (const sc of prom?.scrape_configs ?? []) {
    const job: Record<string, unknown> = { job_name: sc.job_name || 'meshctl' };
    if (sc.scrape_interval) job.scrape_interval = promDuration(sc.scrape_interval);
    job.metrics_path = sc.metrics_path || defaultPath;
    job.static_configs = [{ targets: (sc.endpoints ?? []).map((e) => e.address ?? '').filter((a) => a !== '') }];
    jobs.push(job);
  }
  if (jobs.length === 0) {
    const sa = config.http_server?.address?.socket_address ?? config.admin?.address?.socket_address;
    const host = sa?.address && sa.address !== '0.0.0.0' ? sa.address : '127.0.0.1';
    jobs.push({
      job_name: 'meshctl',
      metrics_path: defaultPath,
      static_configs: [{ targets: [`${host}:${sa?.port_value ?? 9901}`] }],
    });
  }
  const header = '# Prometheus scrape configuration written by `meshctl prometheus-config`.\n';
  return header + stringify({ scrape_configs: jobs });
}
