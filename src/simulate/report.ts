/** The simulation's counts (./tally.ts) as a SimReport: routes in config order, expected shares, chi-square. */
import { chiSquareTest } from './stats.js';
import { expectedClusterShare } from './expected.js';
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
      const names = r.weighted ? r.weighted.clusters.map((c) => c.name) : r.cluster !== undefined ? [r.cluster] : [];
      for (const name of new Set([...names, ...rs.clusters.keys()])) {
        const rcs = rs.clusters.get(name);
        clusters.push(clusterReport(name, rcs, rs.requests, expectedClusterShare(r, name), meta.latency, meta.phaseBounds));
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
      chiSquareSamples: 'requests',
      hashKeys: undefined,
      chiSquareNote: undefined,
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
  const fit = goodnessOfFit(rcs);
  const chi = fit.chi ?? { statistic: NaN, degreesOfFreedom: 0, pValue: undefined };
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
    chiSquareSamples: fit.samples,
    hashKeys: fit.hashKeys,
    chiSquareNote: fit.note,
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

/** Pearson's rule of thumb: the test holds when every cell expects at least this many samples. */
const MIN_EXPECTED_PER_ENDPOINT = 5;

/**
 * The chi-square test that fits how the endpoints were chosen. Independent picks (round robin, random, least
 * request, or a hash policy that yielded no value) are tested per request. When a request hash chose them, requests
 * with one key all go to one endpoint, so requests are not independent samples and a test over them only measures
 * how the traffic is spread over the keys (χ² in the thousands, p = 0, with a handful of users): the samples are the
 * distinct keys, and with fewer than about five per endpoint there is no test to speak of.
 */
function goodnessOfFit(rcs: RouteClusterStats): {
  chi: ReturnType<typeof chiSquareTest> | undefined;
  samples: 'requests' | 'hash-keys';
  hashKeys: number | undefined;
  note: string | undefined;
} {
  if (rcs.hashedPicks === 0) return { chi: chiSquareTest(rcs.counts, Array.from(rcs.expected)), samples: 'requests', hashKeys: undefined, note: undefined };
  const keys = rcs.hashKeys.size;
  const keysText = `${keys}${rcs.hashKeysCapped ? '+' : ''} distinct hash key${keys === 1 ? '' : 's'}`;
  const total = rcs.expected.reduce((a, b) => a + b, 0);
  const expectedKeys = Array.from(rcs.expected, (e) => (total > 0 ? (e / total) * keys : 0));
  const observedKeys = new Float64Array(rcs.counts.length);
  for (const idx of rcs.hashKeys.values()) observedKeys[idx]!++;
  const smallest = Math.min(...expectedKeys.filter((e) => e > 1e-9));
  if (!(smallest >= MIN_EXPECTED_PER_ENDPOINT)) {
    return {
      chi: undefined,
      samples: 'hash-keys',
      hashKeys: keys,
      note:
        `χ² does not apply: only ${keysText} chose the endpoints, and every request with one key goes to one endpoint, ` +
        `so the keys, not the weights, decide the split (a test needs about ${MIN_EXPECTED_PER_ENDPOINT} keys per endpoint)`,
    };
  }
  return {
    chi: chiSquareTest(observedKeys, expectedKeys),
    samples: 'hash-keys',
    hashKeys: keys,
    note: `χ² over ${keysText}, not requests: every request with one key goes to one endpoint`,
  };
}
