/**
 * A config source that says `ads: {}` fetches over the aggregated stream that `dynamic_resources.ads_config` opens;
 * without one nothing ever provides what it names (Envoy refuses it: "ADS must be configured to support an ADS
 * config source"). This is the one case where validate can know statically that an RDS route configuration, an EDS
 * assignment or the CDS/LDS sets will never arrive; when an ads_config exists, what the control plane sends is judged
 * at run time (meshctl run NACKs a bad resource).
 */
import { spanOf } from '../../config/node-meta.js';
import type { ConfigSource } from '../../config/model.js';
import { defineRule } from '../rule.js';

export const adsWithoutAdsConfig = defineRule({
  id: 'ads-without-ads-config',
  severity: 'error',
  category: 'reference',
  description: 'A config source is `ads: {}` (fetch over ADS), but `dynamic_resources.ads_config` is not set: nothing would ever provide the resource.',
  messages: {
    rds: 'route configuration `{{name}}` is to come over ADS, but `dynamic_resources.ads_config` is not set: it would never arrive',
    eds: 'the endpoints of EDS cluster `{{name}}` are to come over ADS, but `dynamic_resources.ads_config` is not set: they would never arrive',
    dynamic: '`dynamic_resources.{{field}}` fetches over ADS, but `dynamic_resources.ads_config` is not set',
  },
  check(ctx) {
    const dr = ctx.config.dynamic_resources;
    if (dr?.ads_config !== undefined) return;
    const isAds = (cs: ConfigSource | undefined): cs is ConfigSource => cs?.ads !== undefined;
    const hint = 'add `dynamic_resources.ads_config` naming the control plane, or give the config source an `api_config_source`';
    for (const field of ['lds_config', 'cds_config'] as const) {
      const cs = dr?.[field];
      if (isAds(cs)) ctx.report({ messageId: 'dynamic', data: { field }, at: spanOf(cs, 'ads'), hint });
    }
    for (const c of ctx.index.clusters) {
      const cs = c.eds_cluster_config?.eds_config;
      if (c.type === 'EDS' && isAds(cs)) ctx.report({ messageId: 'eds', data: { name: c.name ?? '' }, at: spanOf(cs, 'ads'), hint });
    }
    for (const { hcm } of ctx.index.hcms) {
      const cs = hcm.rds?.config_source;
      if (isAds(cs)) ctx.report({ messageId: 'rds', data: { name: hcm.rds?.route_config_name ?? '' }, at: spanOf(cs, 'ads'), hint });
    }
  },
});
