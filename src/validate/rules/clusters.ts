/** Cluster settings: endpoint weights, discovery type and load-balancer constraints, required fields, durations. */
import { durationToMs } from '../../config/duration.js';
import { spanOf } from '../../config/node-meta.js';
import type { Cluster, Duration } from '../../config/model.js';
import { defineRule } from '../rule.js';
import { isDurationShape } from '../util/walk.js';

const UINT32_MAX = 4294967295;

export const invalidEndpointWeight = defineRule({
  id: 'invalid-endpoint-weight',
  severity: 'error',
  category: 'value',
  description: 'Endpoint and locality weights must be integers ≥ 1, and the endpoint weights of one locality must add up to at most 4294967295.',
  messages: {
    endpoint: 'endpoint weight {{weight}} is invalid: it must be an integer of at least 1',
    locality: 'locality weight {{weight}} is invalid: it must be an integer of at least 1',
    sum: 'the endpoint weights of this locality add up to {{sum}}, over the limit of 4294967295',
  },
  check(ctx) {
    for (const c of ctx.index.clusters) {
      for (const loc of c.load_assignment?.endpoints ?? []) {
        const lw = loc.load_balancing_weight;
        if (lw !== undefined && (!Number.isInteger(lw) || lw < 1)) {
          ctx.report({ messageId: 'locality', data: { weight: lw }, at: spanOf(loc, 'load_balancing_weight') });
        }
        let sum = 0;
        for (const ep of loc.lb_endpoints ?? []) {
          const w = ep.load_balancing_weight;
          if (w === undefined) {
            sum += 1;
            continue;
          }
          if (!Number.isInteger(w) || w < 1) {
            ctx.report({ messageId: 'endpoint', data: { weight: w }, at: spanOf(ep, 'load_balancing_weight'), hint: w === 0 ? 'remove the endpoint, or mark it with a health_status, to send it no traffic' : undefined });
          } else sum += w;
        }
        if (sum > UINT32_MAX) ctx.report({ messageId: 'sum', data: { sum }, at: spanOf(loc) });
      }
    }
  },
});

/** Custom cluster types whose factory returns a load balancer of its own (Envoy's dynamic forward proxy, aggregate
 * and Redis cluster docs configure each with `lb_policy: CLUSTER_PROVIDED`). */
const PROVIDES_LB: ReadonlySet<string> = new Set([
  'envoy.clusters.dynamic_forward_proxy',
  'envoy.clusters.aggregate',
  'envoy.clusters.redis',
]);

/** The extension name of a cluster's `cluster_type` (a custom cluster), if it has one. */
function customClusterType(c: Cluster): string | undefined {
  const ct = (c as { cluster_type?: unknown }).cluster_type ?? c.unmodeled?.['cluster_type'];
  if (typeof ct !== 'object' || ct === null || Array.isArray(ct)) return undefined;
  const n = (ct as { name?: unknown }).name;
  return typeof n === 'string' ? n : '';
}

function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

export const invalidClusterConfig = defineRule({
  id: 'invalid-cluster-config',
  severity: 'error',
  category: 'value',
  description: 'A combination of cluster type and load-balancer settings that Envoy rejects at load.',
  messages: {
    originalDst: "cluster `{{name}}` is ORIGINAL_DST, which only allows lb_policy CLUSTER_PROVIDED (it has {{lb}})",
    clusterProvided:
      'cluster `{{name}}` uses lb_policy CLUSTER_PROVIDED, but a {{type}} cluster provides no load balancer of its own (only ORIGINAL_DST and custom cluster types do)',
    customNeedsProvided:
      'cluster `{{name}}` has cluster_type `{{custom}}`, which provides its own load balancer; its lb_policy must be CLUSTER_PROVIDED (it has {{lb}})',
    logicalDns: 'LOGICAL_DNS cluster `{{name}}` needs exactly one endpoint (it has {{count}})',
    eds: 'EDS cluster `{{name}}` has no eds_cluster_config',
    maglev: 'maglev table_size {{size}} must be a prime number no larger than 5000011',
    ringOrder: 'ring_hash minimum_ring_size {{min}} is larger than maximum_ring_size {{max}}',
    ringMax: 'ring_hash ring size {{size}} is over the limit of 8388608',
    choiceCount: 'least_request choice_count {{count}} must be at least 2',
    panic: 'healthy_panic_threshold {{value}}% must be between 0 and 100',
  },
  check(ctx) {
    for (const c of ctx.index.clusters) {
      const name = c.name ?? '';
      const lb = c.lb_policy ?? 'ROUND_ROBIN';
      const custom = customClusterType(c);
      // A custom cluster (`cluster_type`, the other arm of the oneof that holds `type`) brings its own discovery, so
      // the built-in types' checks do not apply to it.
      const type = custom === undefined ? (c.type ?? 'STATIC') : undefined;
      if (custom !== undefined) {
        // Envoy's cluster manager refuses a cluster that provides a load balancer unless lb_policy is
        // CLUSTER_PROVIDED ("cluster provided LB not specified but cluster '…' provided one"); these always do.
        if (PROVIDES_LB.has(custom) && lb !== 'CLUSTER_PROVIDED') {
          ctx.report({ messageId: 'customNeedsProvided', data: { name, custom, lb }, at: spanOf(c, c.lb_policy === undefined ? 'name' : 'lb_policy'), hint: 'set `lb_policy: CLUSTER_PROVIDED`' });
        }
      } else if (type === 'ORIGINAL_DST' && lb !== 'CLUSTER_PROVIDED') {
        ctx.report({ messageId: 'originalDst', data: { name, lb }, at: spanOf(c, c.lb_policy === undefined ? 'type' : 'lb_policy'), hint: 'set `lb_policy: CLUSTER_PROVIDED`' });
      } else if (type !== 'ORIGINAL_DST' && lb === 'CLUSTER_PROVIDED') {
        // Envoy: "cluster provided LB specified but cluster '…' did not provide one" (cluster_manager_impl.cc).
        ctx.report({ messageId: 'clusterProvided', data: { name, type: type ?? '' }, at: spanOf(c, 'lb_policy') });
      }
      if (type === 'LOGICAL_DNS') {
        const locs = c.load_assignment?.endpoints ?? [];
        const count = locs.reduce((n, l) => n + (l.lb_endpoints?.length ?? 0), 0);
        if (locs.length !== 1 || count !== 1) ctx.report({ messageId: 'logicalDns', data: { name, count }, at: spanOf(c, 'load_assignment') });
      }
      if (type === 'EDS' && c.eds_cluster_config === undefined) ctx.report({ messageId: 'eds', data: { name }, at: spanOf(c, 'type') });
      const ts = c.maglev_lb_config?.table_size;
      if (ts !== undefined && (!isPrime(ts) || ts > 5000011)) ctx.report({ messageId: 'maglev', data: { size: ts }, at: spanOf(c.maglev_lb_config, 'table_size') });
      const ring = c.ring_hash_lb_config;
      if (ring !== undefined) {
        const min = ring.minimum_ring_size ?? 1024;
        const max = ring.maximum_ring_size ?? 8388608;
        if (min > 8388608) ctx.report({ messageId: 'ringMax', data: { size: min }, at: spanOf(ring, 'minimum_ring_size') });
        else if (max > 8388608) ctx.report({ messageId: 'ringMax', data: { size: max }, at: spanOf(ring, 'maximum_ring_size') });
        else if (min > max) ctx.report({ messageId: 'ringOrder', data: { min, max }, at: spanOf(ring, 'minimum_ring_size') });
      }
      const cc = c.least_request_lb_config?.choice_count;
      if (cc !== undefined && cc < 2) ctx.report({ messageId: 'choiceCount', data: { count: cc }, at: spanOf(c.least_request_lb_config, 'choice_count') });
      const panic = c.common_lb_config?.healthy_panic_threshold?.value;
      if (panic !== undefined && (panic < 0 || panic > 100)) {
        ctx.report({ messageId: 'panic', data: { value: panic }, at: spanOf(c.common_lb_config, 'healthy_panic_threshold') });
      }
    }
  },
});

export const requiredField = defineRule({
  id: 'required-field',
  severity: 'error',
  category: 'value',
  description: 'A field that Envoy requires is missing or empty.',
  messages: {
    missing: '{{what}} is missing `{{field}}`',
  },
  check(ctx) {
    const miss = (node: object | undefined, what: string, field: string): void => {
      ctx.report({ messageId: 'missing', data: { what, field }, at: spanOf(node) });
    };
    for (const c of ctx.index.clusters) {
      if (c.name === undefined || c.name === '') miss(c, 'cluster', 'name');
      for (const hc of c.health_checks ?? []) {
        for (const f of ['timeout', 'interval', 'unhealthy_threshold', 'healthy_threshold'] as const) {
          if (hc[f] === undefined) miss(hc, `health check of cluster \`${c.name ?? ''}\``, f);
        }
        if (hc.http_health_check !== undefined && (hc.http_health_check.path ?? '') === '') miss(hc.http_health_check, 'http_health_check', 'path');
      }
    }
    for (const l of ctx.index.listeners) {
      // API and internal listeners have no socket address.
      const special = l.unmodeled !== undefined && ('api_listener' in l.unmodeled || 'internal_listener' in l.unmodeled);
      if (l.address === undefined && !special) miss(l, `listener \`${l.name ?? ''}\``, 'address');
    }
    for (const { vh } of ctx.index.virtualHosts) if (vh.name === undefined || vh.name === '') miss(vh, 'virtual host', 'name');
    for (const { route } of ctx.index.routes) if (route.match === undefined) miss(route, 'route', 'match');
  },
});

/** Durations that must be strictly positive, by the field that holds them. */
const POSITIVE: Record<string, string> = {
  connect_timeout: 'connect_timeout',
  dns_refresh_rate: 'dns_refresh_rate',
  scrape_interval: 'scrape_interval',
  refresh_interval: 'refresh_interval',
  refresh_delay: 'refresh_delay',
  base_interval: 'base_interval',
  base_ejection_time: 'base_ejection_time',
  interval: 'interval',
  no_traffic_interval: 'no_traffic_interval',
  unhealthy_interval: 'unhealthy_interval',
};

export const invalidDuration = defineRule({
  id: 'invalid-duration',
  severity: 'error',
  category: 'value',
  description: 'A negative duration, or zero where Envoy needs a positive one (timeouts, intervals, refresh rates).',
  messages: {
    negative: '{{field}} is negative ({{value}})',
    zero: '{{field}} must be greater than 0',
    order: 'retry max_interval is shorter than base_interval',
  },
  check(ctx) {
    for (const { node, field, value } of ctx.index.durations) {
      const ms = durationToMs(value);
      if (ms < 0) ctx.report({ messageId: 'negative', data: { field, value: fmt(value) }, at: spanOf(node, field) });
      // A route's `timeout: 0s` means "no timeout", so `timeout` is positive-only in a health check.
      else if (ms === 0 && (POSITIVE[field] !== undefined || (field === 'timeout' && 'unhealthy_threshold' in node))) {
        ctx.report({ messageId: 'zero', data: { field }, at: spanOf(node, field) });
      }
      if (field === 'max_interval') {
        const base = node.base_interval;
        if (isDurationShape(base) && durationToMs(value) < durationToMs(base)) ctx.report({ messageId: 'order', at: spanOf(node, 'max_interval') });
      }
    }
  },
});

function fmt(d: Duration): string {
  return `${durationToMs(d) / 1000}s`;
}

export const invalidMetricsPath = defineRule({
  id: 'invalid-metrics-path',
  severity: 'error',
  category: 'value',
  description: 'A metrics path that does not start with `/`.',
  messages: {
    slash: 'metrics path `{{path}}` must start with `/`',
  },
  check(ctx) {
    const p = ctx.config.http_server?.prometheus;
    if (p === undefined) return;
    const check = (node: object, path: string | undefined): void => {
      if (path !== undefined && !path.startsWith('/')) {
        ctx.report({ messageId: 'slash', data: { path }, at: spanOf(node, 'metrics_path'), hint: `write \`/${path}\`` });
      }
    };
    check(p, p.metrics_path);
    for (const sc of p.scrape_configs ?? []) check(sc, sc.metrics_path);
  },
});
