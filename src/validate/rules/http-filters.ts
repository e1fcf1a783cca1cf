/** A connection manager's HTTP filter chain: the router must be its last filter. */
import { routerNotLast } from '../../config/http-filters.js';
import { spanOf } from '../../config/node-meta.js';
import { defineRule } from '../rule.js';

export const routerNotLastRule = defineRule({
  id: 'http-router-not-last',
  severity: 'error',
  category: 'value',
  description:
    'The router (envoy.filters.http.router) must be the last filter of http_filters: it is the terminal filter, and Envoy refuses a chain where another filter follows it.',
  messages: {
    notLast: 'the router `{{name}}` is filter {{position}} of {{count}} in http_filters; Envoy requires it to be the last one',
  },
  check(ctx) {
    for (const { hcm } of ctx.index.hcms) {
      const bad = routerNotLast(hcm);
      if (bad === undefined) continue;
      ctx.report({
        messageId: 'notLast',
        data: { name: bad.filter.name ?? '', position: bad.index + 1, count: hcm.http_filters?.length ?? 0 },
        at: spanOf(bad.filter, 'name'),
        hint: 'move the router entry to the end of http_filters',
      });
    }
  },
});
