/**
 * A config as a graph: listeners → virtual hosts → routes → clusters → endpoints, with each edge's expected share of
 * traffic from the simulator (src/simulate/expected.ts) and the validator's diagnostics placed on the element they
 * concern (./problems.ts). The renderers (dot, mermaid, svg, html) draw this one model.
 */
import type { Bootstrap, Cluster, HttpConnectionManager, Listener } from '../config/model.js';
import type { Diagnostic } from '../config/diagnostic.js';
import type { Span } from '../config/source.js';
import { spanOf } from '../config/node-meta.js';
import { connectionManager, listenerName } from '../config/connection-manager.js';
import { formatAddress } from '../balancer/host-set.js';
import { compileRouter, type CompiledRoute } from '../router/index.js';
import { clusterWeight, expectedClusterShare, expectedEndpointShares } from '../simulate/expected.js';
import { placeProblems } from './problems.js';

export type NodeKind = 'listener' | 'virtual-host' | 'route' | 'cluster' | 'endpoint' | 'missing-cluster';

const KIND_ORDER: readonly NodeKind[] = ['listener', 'virtual-host', 'route', 'missing-cluster', 'cluster', 'endpoint'];

/** A diagnostic as the graph shows it. */
export interface GraphProblem {
  readonly ruleId: string;
  readonly severity: Diagnostic['severity'];
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

export interface GraphNode {
  /** Unique, made of [a-z0-9_] only, so every output format can use it unquoted. */
  readonly id: string;
  readonly kind: NodeKind;
  readonly name: string;
  /** Facts shown under the name (address, codec, TLS; match; policy, discovery type; weight, priority, locality). */
  readonly details: readonly string[];
  /** Where the element is written, for placing diagnostics. */
  readonly span: Span | undefined;
  readonly problems: GraphProblem[];
}

export type EdgeKind = 'contains' | 'route' | 'weighted' | 'mirror' | 'endpoint';

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** Expected share of the source's traffic (route → cluster, cluster → endpoint), from the simulator. */
  readonly share: number | undefined;
  /** What the edge carries besides its share (`weight 100`, `mirror 50%`). */
  readonly note: string | undefined;
  /** The field that makes this edge (a route's cluster name), for placing diagnostics. */
  readonly span: Span | undefined;
  readonly problems: GraphProblem[];
}

export interface MeshGraph {
  readonly title: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  /** Diagnostics that concern no drawn element (the admin block, a settings file, a syntax error). */
  readonly unplaced: readonly GraphProblem[];
  readonly errors: number;
  readonly warnings: number;
}

/** Builds the graph of `config` (which may have errors) and places `diagnostics` on its elements. */
export function buildGraph(title: string, config: Bootstrap | undefined, diagnostics: readonly Diagnostic[]): MeshGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const node = (id: string, kind: NodeKind, name: string, details: string[], span: Span | undefined): GraphNode => {
    const n: GraphNode = { id, kind, name, details, span, problems: [] };
    nodes.push(n);
    return n;
  };
  const edge = (from: string, to: string, kind: EdgeKind, share: number | undefined, note: string | undefined, span: Span | undefined): void => {
    edges.push({ from, to, kind, share, note, span, problems: [] });
  };

  const clusters = config?.static_resources?.clusters ?? [];
  const clusterIds = new Map<string, string>();
  clusters.forEach((c, ci) => {
    const name = c.name ?? `cluster-${ci}`;
    if (clusterIds.has(name)) return;
    const id = `c${ci}`;
    clusterIds.set(name, id);
    node(id, 'cluster', name, clusterDetails(c), spanOf(c));
    const shares = expectedEndpointShares(name, c);
    (c.load_assignment?.endpoints ?? []).forEach((loc, li) => {
      const locality = loc.locality && (loc.locality.region || loc.locality.zone || loc.locality.sub_zone)
        ? [loc.locality.region, loc.locality.zone, loc.locality.sub_zone].filter((p) => p).join('/')
        : undefined;
      (loc.lb_endpoints ?? []).forEach((lbe, ei) => {
        const address = lbe.endpoint?.address;
        const sa = address?.socket_address;
        const name = sa?.address !== undefined ? formatAddress(sa.address, sa.port_value ?? 0) : address?.pipe?.path !== undefined ? `unix:${address.pipe.path}` : '(no address)';
        const details = [`weight ${lbe.load_balancing_weight ?? 1}`, `priority ${loc.priority ?? 0}`];
        if (locality !== undefined) details.push(`locality ${locality}`);
        if (lbe.health_status !== undefined) details.push(`health ${lbe.health_status}`);
        const eid = `${id}_l${li}_e${ei}`;
        node(eid, 'endpoint', name, details, spanOf(lbe));
        edge(id, eid, 'endpoint', shares.get(name) ?? (sa !== undefined ? 0 : undefined), undefined, undefined);
      });
    });
  });

  let missing = 0;
  const clusterTarget = (name: string): string => {
    const id = clusterIds.get(name);
    if (id !== undefined) return id;
    // A route to a cluster the config does not define: a dangling edge to a node of its own.
    const mid = `missing${missing++}`;
    node(mid, 'missing-cluster', name, ['not defined'], undefined);
    return mid;
  };

  const router = config !== undefined ? compileRouter(config) : undefined;
  (config?.static_resources?.listeners ?? []).forEach((l, li) => {
    const lid = `l${li}`;
    const hcm = connectionManager(l);
    node(lid, 'listener', listenerName(l, li), listenerDetails(l, hcm), spanOf(l));
    const lr = router?.of(l);
    for (const vh of lr?.virtualHosts ?? []) {
      const vid = `${lid}_v${vh.index}`;
      node(vid, 'virtual-host', vh.name, [`domains ${(vh.config.domains ?? []).join(', ') || '(none)'}`], spanOf(vh.config));
      edge(lid, vid, 'contains', undefined, undefined, undefined);
      for (const r of vh.routes) {
        const rid = `${vid}_r${r.index}`;
        node(rid, 'route', r.name, [r.matchText, ...routeAction(r)], spanOf(r.config));
        edge(vid, rid, 'contains', undefined, undefined, undefined);
        routeEdges(r, rid);
      }
    }
  });

  function routeEdges(r: CompiledRoute, rid: string): void {
    const action = r.config.route;
    if (action === undefined) return;
    if (r.weighted) {
      // One edge per distinct name: Envoy sums the weights of entries naming one cluster.
      const seen = new Set<string>();
      (action.weighted_clusters?.clusters ?? []).forEach((cw) => {
        const name = cw.name ?? '';
        if (name === '' || seen.has(name)) return;
        seen.add(name);
        edge(rid, clusterTarget(name), 'weighted', expectedClusterShare(r, name), `weight ${clusterWeight(r, name)}`, spanOf(cw));
      });
    } else if (r.cluster !== undefined && r.cluster !== '') {
      edge(rid, clusterTarget(r.cluster), 'route', expectedClusterShare(r, r.cluster), undefined, spanOf(action, 'cluster'));
    }
    for (const m of mirrorPolicies(action.unmodeled)) edge(rid, clusterTarget(m.cluster), 'mirror', undefined, `mirror ${m.percent}`, undefined);
  }

  const placed = placeProblems(diagnostics, nodes, edges);
  // Clusters are built first (routes refer to them), but read left to right: listeners first, endpoints last.
  const rank = (id: string): number => KIND_ORDER.indexOf(nodes.find((n) => n.id === id)!.kind);
  return {
    title,
    nodes: [...nodes].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind)),
    edges: [...edges].sort((a, b) => rank(a.from) - rank(b.from)),
    unplaced: placed,
    errors: diagnostics.filter((d) => d.severity === 'error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
  };
}

function listenerDetails(l: Listener, hcm: HttpConnectionManager | undefined): string[] {
  const a = l.address;
  const sa = a?.socket_address;
  const out = [sa !== undefined ? formatAddress(sa.address ?? '', sa.port_value ?? 0) : a?.pipe?.path !== undefined ? `unix:${a.pipe.path}` : '(no address)'];
  out.push(hcm !== undefined ? `codec ${hcm.codec_type ?? 'AUTO'}` : 'no HTTP connection manager');
  // Envoy's TLS is on the filter chain; the article's dialect writes it in the connection manager (envoy-placement).
  const tls = (l.filter_chains ?? []).some((fc) => fc.transport_socket !== undefined) || hcm?.transport_socket !== undefined;
  out.push(tls ? 'TLS' : 'plaintext');
  return out;
}

function clusterDetails(c: Cluster): string[] {
  return [`${c.lb_policy ?? 'ROUND_ROBIN'}`, `${c.type ?? 'STATIC'}`];
}

/** What the route does, when its edges do not say it: a route to one cluster needs no words. */
function routeAction(r: CompiledRoute): string[] {
  switch (r.kind) {
    case 'cluster':
      return [];
    case 'weighted_clusters':
      return [`weighted clusters (total ${r.weighted?.total ?? 0})`];
    case 'cluster_header':
      return [`cluster from header ${r.clusterHeader ?? ''}`];
    case 'redirect':
      return ['redirect'];
    case 'direct_response':
      return [`direct response ${r.directResponse?.status ?? ''}`];
  }
}

/**
 * request_mirror_policies: meshctl does not model them (run does not mirror), so they are read from the route
 * action's unmodeled fields. The share is runtime_fraction.default_value (100% when unset), as Envoy's
 * RouteAction.RequestMirrorPolicy documents.
 */
/** FractionalPercent's denominators. */
const DENOMINATORS: Readonly<Record<string, number>> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

function mirrorPolicies(unmodeled: unknown): { cluster: string; percent: string }[] {
  const list = (unmodeled as { request_mirror_policies?: unknown } | undefined)?.request_mirror_policies;
  if (!Array.isArray(list)) return [];
  const out: { cluster: string; percent: string }[] = [];
  for (const p of list as { cluster?: unknown; runtime_fraction?: { default_value?: { numerator?: unknown; denominator?: unknown } } }[]) {
    if (typeof p.cluster !== 'string' || p.cluster === '') continue;
    const dv = p.runtime_fraction?.default_value;
    const num = typeof dv?.numerator === 'number' ? dv.numerator : dv === undefined ? 100 : 0;
    const den = typeof dv?.denominator === 'string' ? (DENOMINATORS[dv.denominator] ?? 100) : 100;
    out.push({ cluster: p.cluster, percent: formatShare(num / den) });
  }
  return out;
}

/** A share as the graph prints it: `66.7%`. */
export function formatShare(share: number): string {
  return `${(share * 100).toFixed(1).replace(/\.0$/, '')}%`;
}
