/** References between resources: routes → clusters, listeners → route configurations, discovery → clusters. */
import { keySpanOf, spanOf } from '../../config/node-meta.js';
import type { ApiConfigSource, Bootstrap, ConfigSource } from '../../config/model.js';
import { refreshServiceCluster } from '../../config/normalize.js';
import { defineRule } from '../rule.js';
import { nameHint } from './hints.js';

export const routeUnknownCluster = defineRule({
  id: 'route-unknown-cluster',
  severity: 'error',
  category: 'reference',
  description: "A route (or one of its weighted clusters) names a cluster that the config does not define.",
  messages: {
    route: 'route sends traffic to cluster `{{name}}`, which is not defined',
    weighted: 'weighted cluster entry `{{name}}` is not a defined cluster',
  },
  check(ctx) {
    // Clusters delivered over CDS are unknown until run time.
    if (ctx.config.dynamic_resources?.cds_config !== undefined) return;
    const names = ctx.index.clustersByName;
    for (const { route, rc } of ctx.index.routes) {
      const action = route.route;
      if (action === undefined) continue;
      // Envoy only checks static route → cluster references when validate_clusters is on (its default here).
      const severity = rc.validate_clusters === false ? 'warning' : undefined;
      if (action.cluster !== undefined && action.cluster !== '' && !names.has(action.cluster)) {
        ctx.report({
          messageId: 'route',
          data: { name: action.cluster },
          at: spanOf(action, 'cluster'),
          hint: nameHint(action.cluster, names.keys()),
          ...(severity ? { severity } : {}),
        });
      }
      for (const cw of action.weighted_clusters?.clusters ?? []) {
        if (cw.name !== undefined && cw.name !== '' && !names.has(cw.name)) {
          ctx.report({
            messageId: 'weighted',
            data: { name: cw.name },
            at: spanOf(cw, 'name'),
            hint: nameHint(cw.name, names.keys()),
            ...(severity ? { severity } : {}),
          });
        }
      }
    }
  },
});

export const loadAssignmentNameMismatch = defineRule({
  id: 'load-assignment-name-mismatch',
  severity: 'error',
  category: 'reference',
  description:
    "A cluster's `load_assignment.cluster_name` differs from the name it is looked up by: an error on EDS clusters (the service name EDS asks for), a warning elsewhere (Envoy does not use the name there).",
  messages: {
    mismatch: 'load_assignment.cluster_name `{{assigned}}` does not match the cluster name `{{name}}`',
    eds: 'load_assignment.cluster_name `{{assigned}}` is not `{{name}}`, the name EDS serves this cluster under',
    unused: 'load_assignment.cluster_name `{{assigned}}` does not match the cluster name `{{name}}`; Envoy ignores this name on a {{type}} cluster',
  },
  check(ctx) {
    for (const c of ctx.index.clusters) {
      const la = c.load_assignment;
      if (la?.cluster_name === undefined || c.name === undefined) continue;
      // An EDS cluster's assignment is keyed by its eds_cluster_config.service_name, else the cluster's name. The
      // other types read their endpoints straight from load_assignment and never look at its cluster_name (Envoy's
      // Cluster.load_assignment docs), so a mismatch there is a leftover, not a fault.
      const eds = c.type === 'EDS';
      const expected = eds ? c.eds_cluster_config?.service_name || c.name : c.name;
      if (la.cluster_name === expected) continue;
      ctx.report({
        messageId: eds ? (expected === c.name ? 'mismatch' : 'eds') : 'unused',
        data: { assigned: la.cluster_name, name: expected, type: c.type ?? 'STATIC' },
        at: spanOf(la, 'cluster_name'),
        hint: `set it to \`${expected}\``,
        related: [{ message: 'the cluster is named here', span: spanOf(c, 'name') }],
        ...(eds ? {} : { severity: 'warning' as const }),
      });
    }
  },
});

export const rdsUnknownRouteConfig = defineRule({
  id: 'rds-unknown-route-config',
  severity: 'error',
  category: 'reference',
  description: 'A connection manager names (RDS-style) a route configuration that the config does not define.',
  messages: {
    unknown: 'route configuration `{{name}}` is not defined in this config',
  },
  check(ctx) {
    const names = ctx.index.routeConfigsByName;
    for (const { hcm } of ctx.index.hcms) {
      const rds = hcm.rds;
      const name = rds?.route_config_name;
      if (rds === undefined || name === undefined || name === '') continue;
      // With a config source the route configuration is fetched over xDS, so its absence here is expected.
      if (hasConfigSource(rds.config_source)) continue;
      if (names.has(name)) continue;
      ctx.report({
        messageId: 'unknown',
        data: { name },
        at: spanOf(rds, 'route_config_name'),
        hint: nameHint(name, names.keys()) ?? 'define it, or give `rds` a `config_source` to fetch it over xDS',
      });
    }
  },
});

function hasConfigSource(cs: ConfigSource | undefined): boolean {
  return cs !== undefined && (cs.ads !== undefined || cs.api_config_source !== undefined);
}

/** Every ApiConfigSource in the bootstrap, for the clusters that xDS is fetched from. */
function apiConfigSources(config: Bootstrap, hcmSources: readonly (ConfigSource | undefined)[]): ApiConfigSource[] {
  const out: ApiConfigSource[] = [];
  const dr = config.dynamic_resources;
  const add = (a: ApiConfigSource | undefined): void => {
    if (a !== undefined) out.push(a);
  };
  add(dr?.ads_config);
  add(dr?.lds_config?.api_config_source);
  add(dr?.cds_config?.api_config_source);
  for (const c of config.static_resources?.clusters ?? []) add(c.eds_cluster_config?.eds_config?.api_config_source);
  for (const cs of hcmSources) add(cs?.api_config_source);
  return out;
}

export const discoveryUnknownCluster = defineRule({
  id: 'discovery-unknown-cluster',
  severity: 'error',
  category: 'reference',
  description: 'A discovery service (the refresh service, or an xDS API source) names a cluster that is not defined.',
  messages: {
    refresh: 'discovery refresh service `{{service}}` feeds cluster `{{name}}`, which is not defined',
    refreshDerived:
      'discovery refresh service `{{service}}` feeds cluster `{{name}}` (the last segment of its URL), which is not defined',
    xds: 'xDS is fetched from cluster `{{name}}`, which is not defined',
  },
  check(ctx) {
    const names = ctx.index.clustersByName;
    for (const s of ctx.index.refreshServices) {
      const name = refreshServiceCluster(s);
      if (name === undefined || names.has(name)) continue;
      const derived = !s.cluster_name;
      ctx.report({
        messageId: derived ? 'refreshDerived' : 'refresh',
        data: { service: s.service_name ?? '', name },
        at: derived ? spanOf(s, 'service_url') : spanOf(s, 'cluster_name'),
        hint: nameHint(name, names.keys()),
      });
    }
    for (const a of apiConfigSources(ctx.config, ctx.index.hcms.map((h) => h.hcm.rds?.config_source))) {
      (a.cluster_names ?? []).forEach((n, i) => {
        if (!names.has(n)) ctx.report({ messageId: 'xds', data: { name: n }, at: spanOf(a, 'cluster_names', i), hint: nameHint(n, names.keys()) });
      });
      for (const g of a.grpc_services ?? []) {
        const n = g.envoy_grpc?.cluster_name;
        if (n !== undefined && n !== '' && !names.has(n)) {
          ctx.report({ messageId: 'xds', data: { name: n }, at: spanOf(g.envoy_grpc, 'cluster_name'), hint: nameHint(n, names.keys()) });
        }
      }
    }
  },
});

export const unusedCluster = defineRule({
  id: 'unused-cluster',
  severity: 'warning',
  category: 'reference',
  description:
    'A cluster that nothing refers to: no route, weighted cluster, mirror policy, discovery service, or (in Envoy-shaped files) any other place Envoy takes a cluster name (not checked in files without listeners, nor where listeners arrive over LDS).',
  messages: {
    unused: 'cluster `{{name}}` is not used by any route, service or discovery source',
  },
  check(ctx) {
    // A file of clusters alone (a CDS fragment, a shared cluster list) has nothing that could use them.
    if (ctx.index.listeners.length === 0 && ctx.index.refreshServices.length === 0) return;
    // A cluster picked at run time (from a header, by a Lua or Wasm filter, from the SNI) can be any cluster.
    if (ctx.index.clustersChosenAtRunTime !== undefined) return;
    // Listeners that arrive over LDS may route to any static cluster: the file cannot show whether one is unused.
    if (ctx.config.dynamic_resources?.lds_config !== undefined) return;
    const used = new Set<string>(ctx.index.unmodeledClusterRefs);
    for (const r of ctx.index.envoyClusterRefs) used.add(r.name);
    for (const { route } of ctx.index.routes) {
      const a = route.route;
      if (a === undefined) continue;
      // A cluster chosen from a request header can be any cluster.
      if (a.cluster_header !== undefined && a.cluster_header !== '') return;
      if (a.cluster !== undefined) used.add(a.cluster);
      for (const cw of a.weighted_clusters?.clusters ?? []) if (cw.name !== undefined) used.add(cw.name);
    }
    for (const s of ctx.index.refreshServices) {
      const name = refreshServiceCluster(s);
      if (name !== undefined) used.add(name);
    }
    for (const a of apiConfigSources(ctx.config, ctx.index.hcms.map((h) => h.hcm.rds?.config_source))) {
      for (const n of a.cluster_names ?? []) used.add(n);
      for (const g of a.grpc_services ?? []) if (g.envoy_grpc?.cluster_name !== undefined) used.add(g.envoy_grpc.cluster_name);
    }
    for (const c of ctx.index.clusters) {
      if (c.name === undefined || used.has(c.name)) continue;
      ctx.report({ messageId: 'unused', data: { name: c.name }, at: spanOf(c, 'name') ?? keySpanOf(c, 'name') });
    }
  },
});


/** Where each `ClusterRef.via` is, in words. */
function referrer(via: string): string {
  const at = via.lastIndexOf('.');
  const field = via.slice(at + 1);
  const message = via.slice(0, at).split('.').filter((p) => /^[A-Z]/.test(p)).join('.');
  return `${message}.${field}`;
}

export const referenceUnknownCluster = defineRule({
  id: 'reference-unknown-cluster',
  severity: 'error',
  category: 'reference',
  description:
    "Envoy-shaped files: a place where Envoy takes a cluster name (a filter's gRPC or HTTP service, a tracer's collector, a TCP proxy, a mirror policy, `local_cluster_name`, …) names a cluster that is not defined.",
  messages: {
    load: '{{where}} names cluster `{{name}}`, which is not defined; Envoy refuses the config',
    runtime: '{{where}} names cluster `{{name}}`, which is not defined; Envoy loads the config, and what needs it fails at run time',
  },
  check(ctx) {
    // Clusters delivered over CDS are unknown until run time.
    if (ctx.config.dynamic_resources?.cds_config !== undefined) return;
    const names = ctx.index.clustersByName;
    const missing = ctx.index.envoyClusterRefs.filter((r) => r.lookup !== 'none' && !names.has(r.name));
    if (missing.length === 0) return;
    // Routes and xDS sources the model holds are route-unknown-cluster's and discovery-unknown-cluster's to report.
    // Matched by where the value ends: the model's span of a field may start at its key, the judge's at its value.
    const covered = new Set<string>();
    const add = (s: { endLine: number; endColumn: number } | undefined): void => {
      if (s !== undefined) covered.add(`${s.endLine}:${s.endColumn}`);
    };
    for (const { route } of ctx.index.routes) {
      if (route.route?.cluster !== undefined) add(spanOf(route.route, 'cluster'));
      for (const cw of route.route?.weighted_clusters?.clusters ?? []) if (cw.name !== undefined) add(spanOf(cw, 'name'));
    }
    for (const a of apiConfigSources(ctx.config, ctx.index.hcms.map((h) => h.hcm.rds?.config_source))) {
      (a.cluster_names ?? []).forEach((_, i) => add(spanOf(a, 'cluster_names', i)));
      for (const g of a.grpc_services ?? []) if (g.envoy_grpc?.cluster_name !== undefined) add(spanOf(g.envoy_grpc, 'cluster_name'));
    }
    for (const r of missing) {
      const span = r.span;
      if (covered.has(`${span.endLine}:${span.endColumn}`)) continue;
      ctx.report({
        messageId: r.lookup === 'load' ? 'load' : 'runtime',
        data: { where: `\`${referrer(r.via)}\``, name: r.name },
        at: span,
        severity: r.lookup === 'load' ? 'error' : 'warning',
        hint: nameHint(r.name, names.keys()),
      });
    }
  },
});
