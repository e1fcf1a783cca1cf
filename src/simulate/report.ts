/** The simulation's counts (./tally.ts) as a SimReport: routes in config order, expected shares, chi-square. */
import { chiSquareTest } from './stats.js';
import type { RouteClusterStats, ListenerStats } from './tally.js';
import type { ClusterReport, EndpointReport, ListenerReport, PhaseReport, RouteReport, SimReport, TimelineEntry } from './report-types.js';

interface ReportMeta {
  config: string | undefined;
  seed: number | string;
  rps: number;
  requests: number;
  virtualMs: number;
  timeline: TimelineEntry[];
  latency: boolean;
  /** Start time of each timeline phase (phase 0 starts at 0). */
  phaseBounds: number[];
}

export function buildReport(listeners: ListenerStats[], meta: ReportMeta): SimReport {
  const out: ListenerReport[] = listeners.map((ls) => {
    const routes: RouteReport[] = [];
    // Report routes in config order (virtual host, then route), whatever order traffic found them in.
    const ordered = [...ls.routes.values()].sort((a, b) => a.route.vhost.index - b.route.vhost.index || a.route.index - b.route.index);
    for (const rs of ordered) {
      const r = rs.route;
      const clusters: ClusterReport[] = [];
      const weights = r.weighted;
      const names = weights ? weights.clusters.map((c) => c.name) : r.cluster !== undefined ? [r.cluster] : [];
      for (const name of new Set([...names, ...rs.clusters.keys()])) {
        const rcs = rs.clusters.get(name);
        const weight = weights?.clusters.filter((c) => c.name === name).reduce((a, c) => a + c.weight, 0);
        const expectedShare = weights ? (weights.total > 0 ? weight! / weights.total : 0) : r.kind === 'cluster' ? 1 : undefined;
        clusters.push(clusterReport(name, rcs, rs.requests, expectedShare, meta.latency, meta.phaseBounds));
      }
      routes.push({
        id: r.id,
        virtualHost: r.vhost.name,
        route: r.name,
        match: r.matchText,
        kind: r.kind,
        requests: rs.requests,
        directResponses: rs.direct,
        redirects: rs.redirect,
        noCluster: rs.noCluster,
        clusterNotFound: rs.clusterNotFound,
        clusterNotFoundStatus: r.clusterNotFoundStatus,
        directResponseStatus: r.directResponse?.status,
        clusters,
      });
    }
    return { name: ls.router.name, requests: ls.requests, notFound: ls.notFound, routes };
  });
  return {
    version: 1,
    config: meta.config ?? null,
    seed: meta.seed,
    requests: meta.requests,
    rps: meta.rps,
    virtualDurationMs: meta.virtualMs,
    listeners: out,
    timeline: [...meta.timeline],
  };
}

function clusterReport(
  name: string,
  rcs: RouteClusterStats | undefined,
  routeRequests: number,
  expectedShare: number | undefined,
  latency: boolean,
  phaseBounds: number[],
): ClusterReport {
  if (!rcs) {
    return {
      name,
      policy: undefined,
      requests: 0,
      share: 0,
      expectedShare,
      noHost: 0,
      panicPicks: 0,
      chiSquare: undefined,
      degreesOfFreedom: 0,
      pValue: undefined,
      endpoints: [],
    };
  }
  rcs.flush();
  const cs = rcs.cs;
  const picked = rcs.requests - rcs.noHost;
  const endpoints: EndpointReport[] = cs.hosts.map((h, i) => {
    const count = rcs.counts[i]!;
    const share = picked > 0 ? count / picked : 0;
    const exp = rcs.requests > 0 ? rcs.expected[i]! / rcs.requests : 0;
    const e: EndpointReport = {
      address: h.address,
      priority: h.priority,
      weight: h.weight,
      health: h.health,
      count,
      share,
      expectedShare: exp,
      deviation: share - exp,
    };
    if (latency) e.meanLatencyMs = count > 0 ? rcs.latencySum[i]! / count : undefined;
    return e;
  });
  const chi = chiSquareTest(rcs.counts, Array.from(rcs.expected));
  const out: ClusterReport = {
    name,
    policy: cs.balancer.settings.policy,
    requests: rcs.requests,
    share: routeRequests > 0 ? rcs.requests / routeRequests : 0,
    expectedShare,
    noHost: rcs.noHost,
    panicPicks: rcs.panicPicks,
    chiSquare: Number.isFinite(chi.statistic) ? chi.statistic : undefined,
    degreesOfFreedom: chi.degreesOfFreedom,
    pValue: chi.pValue,
    endpoints,
  };
  if (rcs.phases.length > 0) {
    const phases: PhaseReport[] = [];
    rcs.phases.forEach((ph, p) => {
      if (ph === undefined || ph.requests === 0) return;
      const picked = ph.requests - ph.noHost;
      phases.push({
        fromMs: phaseBounds[p] ?? 0,
        toMs: p + 1 < phaseBounds.length ? phaseBounds[p + 1]! : null,
        requests: ph.requests,
        noHost: ph.noHost,
        endpoints: cs.hosts.map((h, i) => ({
          address: h.address,
          count: ph.counts[i]!,
          share: picked > 0 ? ph.counts[i]! / picked : 0,
          expectedShare: ph.expected[i]! / ph.requests,
        })),
      });
    });
    out.phases = phases;
  }
  if (latency) {
    const sum = rcs.latencySum.reduce((a, b) => a + b, 0);
    out.meanLatencyMs = picked > 0 ? sum / picked : undefined;
  }
  return out;
}
