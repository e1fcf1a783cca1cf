/** Routes and virtual hosts that no request can reach. */
import { spanOf } from '../../config/node-meta.js';
import type { RouteMatch } from '../../config/model.js';
import type { Span } from '../../config/source.js';
import { defineRule } from '../rule.js';

/** A match with criteria beyond the path (headers, query parameters, gRPC) matches only some requests for its path. */
function hasConditions(m: RouteMatch): boolean {
  // Criteria meshctl keeps verbatim (runtime_fraction, cookies, dynamic_metadata, tls_context, …) count too.
  const unmodeled = m.unmodeled !== undefined && Object.keys(m.unmodeled).length > 0;
  return unmodeled || (m.headers?.length ?? 0) > 0 || (m.query_parameters?.length ?? 0) > 0 || m.grpc !== undefined;
}

/** The literal path prefix a match covers entirely, if it is a prefix-like matcher ('' for catch-alls). */
function coveredPrefix(m: RouteMatch): string | undefined {
  if (m.prefix !== undefined) return m.prefix;
  const re = m.safe_regex?.regex;
  if (re === '.*' || re === '/.*' || re === '.+' || re === '/.+' ) return re.startsWith('/') ? '/' : '';
  return undefined;
}

/** What a later matcher's requests all start with (or equal), for comparison with earlier prefixes. */
function laterValue(m: RouteMatch): { value: string; exact: boolean } | undefined {
  if (m.path !== undefined) return { value: m.path, exact: true };
  if (m.prefix !== undefined) return { value: m.prefix, exact: false };
  if (m.path_separated_prefix !== undefined) return { value: m.path_separated_prefix, exact: false };
  return undefined;
}

export const shadowedRoute = defineRule({
  id: 'shadowed-route',
  severity: 'warning',
  category: 'reachability',
  description: 'A route that can never match, because an earlier route in the same virtual host matches every request it would.',
  messages: {
    catchAll: 'this route is never used: route {{earlier}} above matches every request first',
    shadowed: 'this route is never used: route {{earlier}} above (`{{by}}`) already matches every request it would',
  },
  check(ctx) {
    for (const { vh } of ctx.index.virtualHosts) {
      const routes = vh.routes ?? [];
      // Earlier unconditional matchers: prefixes (case-sensitive, and lowercased case-insensitive) and exact paths.
      const prefixCs = new Map<string, number>();
      const prefixCi = new Map<string, number>();
      const exactCs = new Map<string, number>();
      const exactCi = new Map<string, number>();
      let catchAll: number | undefined;
      routes.forEach((route, i) => {
        const m = route.match;
        if (m === undefined) return;
        const label = (n: number): string => {
          const name = routes[n]!.name;
          return name ? `\`${name}\` (#${n + 1})` : `#${n + 1}`;
        };
        // Spans are built from the parser's offsets when asked for: only for a route that is reported.
        const at = (): Span | undefined => spanOf(route, 'match');
        if (catchAll !== undefined) {
          ctx.report({ messageId: 'catchAll', data: { earlier: label(catchAll) }, at: at(), hint: 'move the catch-all route to the end of the list' });
          return;
        }
        const cs = m.case_sensitive !== false;
        const later = laterValue(m);
        if (later !== undefined) {
          const v = later.value;
          const lv = v.toLowerCase();
          let by: number | undefined;
          let byText = '';
          // Every prefix of the later value (including itself) that an earlier route covers.
          for (let k = 0; k <= v.length && by === undefined; k++) {
            const p = v.slice(0, k);
            const hitCs = cs ? prefixCs.get(p) : undefined;
            const hitCi = prefixCi.get(lv.slice(0, k));
            const hit = hitCs ?? hitCi;
            if (hit !== undefined) {
              by = hit;
              byText = `prefix: ${JSON.stringify(routes[hit]!.match!.prefix ?? p)}`;
            }
          }
          if (by === undefined && later.exact) {
            const hit = (cs ? exactCs.get(v) : undefined) ?? exactCi.get(lv);
            if (hit !== undefined) {
              by = hit;
              byText = `path: ${JSON.stringify(v)}`;
            }
          }
          if (by !== undefined) {
            ctx.report({ messageId: 'shadowed', data: { earlier: label(by), by: byText }, at: at(), hint: 'put the more specific route first' });
            return;
          }
        }
        if (hasConditions(m)) return;
        const covered = coveredPrefix(m);
        if (covered === '' || covered === '/') {
          catchAll = i;
          return;
        }
        if (covered !== undefined) {
          if (cs) {
            if (!prefixCs.has(covered)) prefixCs.set(covered, i);
          } else if (!prefixCi.has(covered.toLowerCase())) prefixCi.set(covered.toLowerCase(), i);
        } else if (m.path !== undefined) {
          if (cs) {
            if (!exactCs.has(m.path)) exactCs.set(m.path, i);
          } else if (!exactCi.has(m.path.toLowerCase())) exactCi.set(m.path.toLowerCase(), i);
        }
      });
    }
  },
});

export const unreachableVirtualHost = defineRule({
  id: 'unreachable-virtual-host',
  severity: 'warning',
  category: 'reachability',
  description: 'A virtual host whose routes no request can reach: all its domains carry a port that is stripped before matching, or it requires TLS on a listener without TLS.',
  messages: {
    tls: 'virtual host `{{name}}` requires TLS for all requests (require_tls: ALL), but listener `{{listener}}` has no TLS: every request is redirected to https and its routes are never used',
    ports: 'virtual host `{{name}}` can never match: all its domains include a port, but {{why}} strips the port from the Host header before matching',
  },
  check(ctx) {
    for (const { rc, hcm, chain, listener } of ctx.index.routeConfigs) {
      // Without TLS on the connection (and no trusted proxy hop that could vouch for https), require_tls ALL redirects everything.
      const plain = chain.transport_socket === undefined && hcm.transport_socket === undefined && (hcm.xff_num_trusted_hops ?? 0) === 0;
      if (plain) {
        for (const vh of rc.virtual_hosts ?? []) {
          if (vh.require_tls === 'ALL' && (vh.routes?.length ?? 0) > 0) {
            ctx.report({ messageId: 'tls', data: { name: vh.name ?? '', listener: listener.name ?? '' }, at: spanOf(vh, 'require_tls'), hint: 'add a TLS transport_socket to the filter chain, or drop require_tls' });
          }
        }
      }
      const why = rc.ignore_port_in_host_matching === true ? 'ignore_port_in_host_matching' : hcm.strip_any_host_port === true ? 'strip_any_host_port' : undefined;
      if (why === undefined) continue;
      for (const vh of rc.virtual_hosts ?? []) {
        const domains = vh.domains ?? [];
        if (domains.length === 0) continue;
        const at = spanOf(vh, 'domains');
        if (domains.every((d) => /:\d+$/.test(d) && !d.endsWith('*'))) {
          ctx.report({ messageId: 'ports', data: { name: vh.name ?? '', why }, at, hint: 'drop the ports from the domains' });
        }
      }
    }
  },
});
