/** Route matching and actions: path specifiers, actions, regexes, weighted clusters, domains, codecs. */
import { spanOf } from '../../config/node-meta.js';
import type { RegexMatcher, Route, StringMatcher } from '../../config/model.js';
import type { Span } from '../../config/source.js';
import { defineRule } from '../rule.js';
import { checkRe2, type Re2Error } from '../../regex/re2.js';

const PATH_SPECIFIERS = ['prefix', 'path', 'safe_regex', 'path_separated_prefix'] as const;
/** Envoy's other path specifiers, which meshctl keeps verbatim (`unmodeled`). */
const UNMODELED_PATH_SPECIFIERS = ['connect_matcher', 'path_match_policy'];
/** Route actions and cluster specifiers meshctl does not model but Envoy accepts. */
const UNMODELED_ACTIONS = ['filter_action', 'non_forwarding_action'];
const UNMODELED_CLUSTER_SPECIFIERS = ['cluster_specifier_plugin', 'inline_cluster_specifier_plugin'];

function unmodeledKeys(node: { unmodeled?: object } | undefined, keys: readonly string[]): string[] {
  const u = node?.unmodeled;
  return u === undefined ? [] : keys.filter((k) => k in u);
}

export const routePathSpecifier = defineRule({
  id: 'route-path-specifier',
  severity: 'error',
  category: 'value',
  description: 'A route match needs exactly one path matcher: prefix, path, safe_regex or path_separated_prefix.',
  messages: {
    none: 'route match has no path matcher',
    many: 'route match has {{count}} path matchers ({{fields}}); exactly one is allowed',
    separated: 'path_separated_prefix `{{value}}` must not end in `/` or contain `?` or `#`',
  },
  check(ctx) {
    for (const { route } of ctx.index.routes) {
      const m = route.match;
      if (m === undefined) continue;
      const set: string[] = [...PATH_SPECIFIERS.filter((f) => m[f] !== undefined), ...unmodeledKeys(m, UNMODELED_PATH_SPECIFIERS)];
      if (set.length === 0) {
        ctx.report({ messageId: 'none', at: spanOf(m), hint: 'add `prefix: "/"` to match every path' });
      } else if (set.length > 1) {
        ctx.report({
          messageId: 'many',
          data: { count: set.length, fields: set.join(', ') },
          at: spanOf(m, set[1]!),
          hint: 'split it into separate routes, one per matcher',
        });
      }
      const psp = m.path_separated_prefix;
      if (psp !== undefined && !/^[^?#]+[^?#/]$/.test(psp)) {
        ctx.report({ messageId: 'separated', data: { value: psp }, at: spanOf(m, 'path_separated_prefix') });
      }
    }
  },
});

export const routeAction = defineRule({
  id: 'route-action',
  severity: 'error',
  category: 'value',
  description:
    'A route needs exactly one action (route, redirect or direct_response), and a route action exactly one of cluster, cluster_header or weighted_clusters.',
  messages: {
    noAction: 'route has no action: give it one of `route`, `redirect` or `direct_response`',
    manyActions: 'route has {{fields}}; exactly one action is allowed',
    noCluster: 'route action names no cluster: set one of `cluster`, `cluster_header` or `weighted_clusters`',
    manyClusters: 'route action sets {{fields}}; exactly one is allowed',
  },
  check(ctx) {
    for (const { route } of ctx.index.routes) {
      const actions: string[] = [
        ...(['route', 'redirect', 'direct_response'] as const).filter((f) => route[f] !== undefined),
        ...unmodeledKeys(route, UNMODELED_ACTIONS),
      ];
      if (actions.length === 0) {
        ctx.report({ messageId: 'noAction', at: spanOf(route) });
        continue;
      }
      if (actions.length > 1) {
        ctx.report({ messageId: 'manyActions', data: { fields: actions.join(' and ') }, at: spanOf(route, actions[1]!) });
      }
      const a = route.route;
      if (a === undefined) continue;
      const targets: string[] = [];
      if (a.cluster !== undefined && a.cluster !== '') targets.push('cluster');
      if (a.cluster_header !== undefined && a.cluster_header !== '') targets.push('cluster_header');
      if (a.weighted_clusters !== undefined) targets.push('weighted_clusters');
      targets.push(...unmodeledKeys(a, UNMODELED_CLUSTER_SPECIFIERS));
      if (targets.length === 0) ctx.report({ messageId: 'noCluster', at: spanOf(route, 'route') });
      else if (targets.length > 1) {
        ctx.report({ messageId: 'manyClusters', data: { fields: targets.join(' and ') }, at: spanOf(a, targets[1]!) });
      }
    }
  },
});

/** Every RE2 pattern in the routes, with where it is written. */
function* routeRegexes(routes: readonly { route: Route }[]): Generator<{ regex: string; at: Span | undefined }> {
  const fromMatcher = function* (m: RegexMatcher | undefined): Generator<{ regex: string; at: Span | undefined }> {
    if (m?.regex !== undefined) yield { regex: m.regex, at: spanOf(m, 'regex') };
  };
  const fromString = function* (s: StringMatcher | undefined): Generator<{ regex: string; at: Span | undefined }> {
    yield* fromMatcher(s?.safe_regex);
  };
  for (const { route } of routes) {
    const m = route.match;
    yield* fromMatcher(m?.safe_regex);
    for (const h of m?.headers ?? []) {
      yield* fromMatcher(h.safe_regex_match);
      yield* fromString(h.string_match);
    }
    for (const q of m?.query_parameters ?? []) yield* fromString(q.string_match);
    yield* fromMatcher(route.route?.regex_rewrite?.pattern);
  }
}

/** Where in the pattern the problem is, for the hint: `at character 4: `(?<!admin)/x$``. */
function where(regex: string, p: Re2Error): string {
  const rest = regex.slice(p.offset);
  return `at character ${p.offset + 1}: \`${rest.length > 24 ? `${rest.slice(0, 24)}…` : rest}\``;
}

export const regexUnsupportedSyntax = defineRule({
  id: 'regex-unsupported-syntax',
  severity: 'error',
  category: 'value',
  description:
    "A regex uses a construct that RE2 (Envoy's regex engine) does not have — look-around, backreferences, possessive quantifiers, atomic groups — or that meshctl cannot run (`\\C`).",
  messages: {
    unsupported: 'regex `{{regex}}` uses {{what}}',
  },
  check(ctx) {
    for (const { regex, at } of routeRegexes(ctx.index.routes)) {
      const p = checkRe2(regex);
      if (p?.kind === 'unsupported') {
        const fix = p.hint ?? 'rewrite it without that construct (RE2 guarantees linear-time matching)';
        ctx.report({ messageId: 'unsupported', data: { regex, what: p.message }, at, hint: `${where(regex, p)}; ${fix}` });
      }
    }
  },
});

export const invalidRegex = defineRule({
  id: 'invalid-regex',
  severity: 'error',
  category: 'value',
  description: 'A regex that RE2 (Envoy\'s regex engine) refuses to compile.',
  messages: {
    invalid: 'regex `{{regex}}` does not compile: {{reason}}',
  },
  check(ctx) {
    for (const { regex, at } of routeRegexes(ctx.index.routes)) {
      const p = checkRe2(regex);
      if (p?.kind === 'invalid') ctx.report({ messageId: 'invalid', data: { regex, reason: p.message }, at, hint: where(regex, p) });
    }
  },
});

const UINT32_MAX = 4294967295;

export const weightedClusterWeights = defineRule({
  id: 'weighted-cluster-weights',
  severity: 'error',
  category: 'value',
  description: "Weighted cluster weights must be non-negative integers whose sum is greater than 0 and at most 4294967295.",
  messages: {
    empty: 'weighted_clusters has no clusters',
    notInteger: 'weight {{weight}} is not a non-negative integer',
    zeroSum: 'the weights of weighted_clusters add up to 0; the sum must be greater than 0',
    overflow: 'the weights of weighted_clusters add up to {{sum}}, over the limit of 4294967295',
  },
  check(ctx) {
    for (const { route } of ctx.index.routes) {
      const wc = route.route?.weighted_clusters;
      if (wc === undefined) continue;
      const list = wc.clusters ?? [];
      if (list.length === 0) {
        ctx.report({ messageId: 'empty', at: spanOf(wc) });
        continue;
      }
      let sum = 0;
      let ok = true;
      for (const cw of list) {
        const w = cw.weight ?? 0;
        if (!Number.isInteger(w) || w < 0 || w > UINT32_MAX) {
          ctx.report({ messageId: 'notInteger', data: { weight: w }, at: spanOf(cw, 'weight') });
          ok = false;
          continue;
        }
        sum += w;
      }
      if (!ok) continue;
      if (sum === 0) ctx.report({ messageId: 'zeroSum', at: spanOf(route.route, 'weighted_clusters') });
      else if (sum > UINT32_MAX) ctx.report({ messageId: 'overflow', data: { sum }, at: spanOf(route.route, 'weighted_clusters') });
    }
  },
});

export const weightedClusterZeroWeight = defineRule({
  id: 'weighted-cluster-zero-weight',
  severity: 'warning',
  category: 'value',
  description:
    'A weighted cluster entry with weight 0 (or none) never receives traffic. Envoy allows it; set this rule to `error` in .meshctl.yaml to require positive weights.',
  messages: {
    zero: 'weighted cluster `{{name}}` has weight 0 and will receive no traffic',
  },
  check(ctx) {
    for (const { route } of ctx.index.routes) {
      for (const cw of route.route?.weighted_clusters?.clusters ?? []) {
        if ((cw.weight ?? 0) !== 0) continue;
        ctx.report({ messageId: 'zero', data: { name: cw.name ?? '' }, at: cw.weight === undefined ? spanOf(cw) : spanOf(cw, 'weight') });
      }
    }
  },
});

export const deprecatedTotalWeight = defineRule({
  id: 'deprecated-total-weight',
  severity: 'warning',
  category: 'value',
  description: '`weighted_clusters.total_weight` is deprecated and ignored by Envoy (since v1.24); the sum of the weights is used.',
  messages: {
    ignored: 'total_weight is deprecated and ignored; Envoy divides traffic by the sum of the weights ({{sum}})',
    mismatch: 'total_weight {{total}} is ignored, and differs from the sum of the weights ({{sum}}): the split is by the sum',
  },
  check(ctx) {
    for (const { route } of ctx.index.routes) {
      const wc = route.route?.weighted_clusters;
      if (wc?.total_weight === undefined) continue;
      const sum = (wc.clusters ?? []).reduce((s, c) => s + (c.weight ?? 0), 0);
      ctx.report({
        messageId: sum === wc.total_weight ? 'ignored' : 'mismatch',
        data: { total: wc.total_weight, sum },
        at: spanOf(wc, 'total_weight'),
        hint: 'remove total_weight',
      });
    }
  },
});

export const invalidDomain = defineRule({
  id: 'invalid-domain',
  severity: 'error',
  category: 'value',
  description: 'A virtual host domain that Envoy rejects, or a wildcard where Envoy does not treat `*` as one.',
  messages: {
    none: 'virtual host `{{name}}` has no domains; Envoy requires at least one',
    empty: 'empty domain',
    chars: 'domain `{{domain}}` contains whitespace or control characters',
    middle: 'domain `{{domain}}`: a `*` is a wildcard only as the whole domain, at the start (`*.suffix`) or at the end (`prefix*`); here it is matched literally',
  },
  check(ctx) {
    for (const { vh } of ctx.index.virtualHosts) {
      const domains = vh.domains ?? [];
      if (domains.length === 0) {
        ctx.report({ messageId: 'none', data: { name: vh.name ?? '' }, at: spanOf(vh, 'name'), hint: 'add `domains: ["*"]` to match every host' });
        continue;
      }
      domains.forEach((d, i) => {
        // Spans are built from the parser's offsets when asked for: only for a domain that is reported.
        const at = (): Span | undefined => spanOf(vh, 'domains', i);
        if (d === '') ctx.report({ messageId: 'empty', at: at() });
        else if (/[\s\x00-\x1f\x7f]/.test(d)) ctx.report({ messageId: 'chars', data: { domain: d }, at: at() });
        else if (d !== '*') {
          // Envoy looks at a leading `*` first (suffix wildcard), then a trailing one; any other `*` is literal.
          const inner = d.startsWith('*') ? d.slice(1) : d.endsWith('*') ? d.slice(0, -1) : d;
          if (inner.includes('*')) {
            ctx.report({ messageId: 'middle', data: { domain: d }, at: at(), severity: 'warning', hint: 'use `*.example.com` or `example.*`' });
          }
        }
      });
    }
  },
});

const CODECS = new Set(['AUTO', 'HTTP1', 'HTTP2', 'HTTP3']);

export const invalidCodec = defineRule({
  id: 'invalid-codec',
  severity: 'error',
  category: 'value',
  description: 'A connection manager codec that is not AUTO, HTTP1, HTTP2 or HTTP3 (HTTP3 needs a UDP/QUIC listener).',
  messages: {
    unknown: 'codec `{{codec}}` is not one of AUTO, HTTP1, HTTP2, HTTP3',
    http3: 'codec HTTP3 needs a QUIC (UDP) listener, but listener `{{name}}` is TCP',
  },
  check(ctx) {
    for (const { hcm, listener } of ctx.index.hcms) {
      const codec = hcm.codec_type as string | undefined;
      if (codec === undefined) continue;
      if (!CODECS.has(codec)) {
        ctx.report({ messageId: 'unknown', data: { codec }, at: spanOf(hcm, 'codec_type'), hint: 'use AUTO to negotiate HTTP/1.1 or HTTP/2' });
      } else if (codec === 'HTTP3' && (listener.address?.socket_address?.protocol ?? 'TCP') !== 'UDP') {
        ctx.report({ messageId: 'http3', data: { name: listener.name ?? '' }, at: spanOf(hcm, 'codec_type') });
      }
    }
  },
});
