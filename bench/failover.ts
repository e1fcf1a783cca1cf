/**
 * Failure recovery and discovery speed through the real proxy, all on 127.0.0.1:
 * 1. requests failed while one of two upstreams is killed under load (with the route's retry policy, and without it);
 * 2. time from the kill to the dead host's ejection by outlier detection;
 * 3. time from a discovery change (refresh service poll, xDS REST poll, gRPC ADS push) to the first request served by
 *    the new endpoint.
 * `node dist/bench/failover.js [--rounds N] [--write]` prints a Markdown section and, with --write, puts it into
 * docs/BENCHMARKS.md under `<!-- bench:failover -->`. Every load is bounded in count and time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { startProxy, type RunningProxy } from '../src/proxy/index.js';
import type { Bootstrap } from '../src/config/model.js';
import { createClusterManager, type ClusterManagerImpl } from '../src/upstream/cluster-manager.js';
import type { ClusterManagerOptions } from '../src/upstream/types.js';
import { Upstream, failoverConfig, runLoad } from '../test/upstream/e2e-helpers.js';
import { ENDPOINT_TYPE, cla, edsCluster, startGrpcControlPlane, startRestControlPlane, type GrpcControlPlane } from '../test/discovery/control-plane.js';
import { writeBenchSection } from './bench-doc.js';

const args = process.argv.slice(2);
const WRITE = args.includes('--write');
const rIdx = args.indexOf('--rounds');
const ROUNDS = rIdx >= 0 ? Number(args[rIdx + 1]) : 5;
const LOAD = 4000;
const KILL_AT = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (ms: number) => (Number.isNaN(ms) ? '–' : ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);

async function withProxy<T>(config: Bootstrap, fn: (p: RunningProxy, cm: () => ClusterManagerImpl) => Promise<T>): Promise<T> {
  let cm: ClusterManagerImpl | undefined;
  const proxy = await startProxy(config, {
    seed: 1,
    clusterManagerFactory: (c: Bootstrap, o: ClusterManagerOptions) => (cm = createClusterManager(c, o)),
  });
  try {
    return await fn(proxy, () => cm!);
  } finally {
    await proxy.close(0);
  }
}

/** One kill under load: failed requests, and ms from the kill to the ejection. */
async function killRound(retries: boolean): Promise<{ failed: number; total: number; ejectMs: number }> {
  const a = new Upstream('A');
  const b = new Upstream('B');
  await a.start();
  await b.start();
  const cfg = failoverConfig([a.port, b.port]);
  if (!retries) {
    const route = (cfg.static_resources!.listeners![0]!.filter_chains![0]!.filters![0]!.typed_config as { route_config: { virtual_hosts: { routes: { route: Record<string, unknown> }[] }[] } }).route_config.virtual_hosts[0]!.routes[0]!.route;
    delete route.retry_policy;
  }
  try {
    return await withProxy(cfg, async (proxy, cm) => {
      const svc = cm().get('svc')!;
      const hostA = svc.hosts.hosts.find((h) => h.port === a.port)!;
      let killedAt = 0;
      let ejectMs = NaN;
      const off = svc.hosts.onChange(() => {
        if (killedAt && Number.isNaN(ejectMs) && hostA.health !== 'healthy') ejectMs = performance.now() - killedAt;
      });
      const r = await runLoad(proxy.listeners[0]!.port, {
        concurrency: 16,
        min: LOAD,
        max: LOAD,
        maxMs: 120_000,
        stop: () => true,
        onProgress: (res) => {
          if (!killedAt && res.ok + res.failed >= KILL_AT) {
            killedAt = performance.now();
            void a.kill();
          }
        },
      });
      off();
      return { failed: r.failed, total: r.ok + r.failed, ejectMs };
    });
  } finally {
    await a.kill();
    await b.kill();
  }
}

/** A server counting requests, to be added by discovery. */
async function counter(): Promise<{ port: number; firstAt: number; close(): Promise<void> }> {
  const s = { port: 0, firstAt: 0, close: async () => undefined as void };
  const server = http.createServer((_req, res) => {
    if (!s.firstAt) s.firstAt = performance.now();
    res.end('new');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  s.port = (server.address() as AddressInfo).port;
  s.close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  return s;
}

function listenerTo(cluster: string): NonNullable<Bootstrap['static_resources']>['listeners'] {
  return failoverConfig([1]).static_resources!.listeners!.map((l) => {
    const copy = JSON.parse(JSON.stringify(l)) as typeof l;
    (copy.filter_chains![0]!.filters![0]!.typed_config as { route_config: { virtual_hosts: { routes: { route: { cluster: string } }[] }[] } }).route_config.virtual_hosts[0]!.routes[0]!.route.cluster = cluster;
    return copy;
  });
}

/** Light background load (bounded); resolves when `until()` holds or the bound is hit. */
async function trickle(port: number, until: () => boolean): Promise<void> {
  await runLoad(port, { concurrency: 2, min: 1, max: 200_000, maxMs: 15_000, stop: until });
}

type Source = 'refresh service (poll 500 ms)' | 'xDS REST (refresh_delay 500 ms)' | 'gRPC ADS (push)';

/** ms from the discovery change to the first request the new endpoint serves. */
async function discoveryRound(source: Source): Promise<number> {
  const old = new Upstream('old');
  await old.start();
  const fresh = await counter();
  try {
    if (source === 'refresh service (poll 500 ms)') {
      let body = JSON.stringify({ endpoints: [{ address: '127.0.0.1', port: old.port }] });
      const svc = http.createServer((_q, s) => s.end(body));
      await new Promise<void>((r) => svc.listen(0, '127.0.0.1', () => r()));
      const sport = (svc.address() as AddressInfo).port;
      const cfg: Bootstrap = {
        admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
        static_resources: {
          listeners: listenerTo('svc'),
          service_cluster_discovery_refresh_service: [
            { service_name: 'svc', cluster_name: 'svc', service_url: `http://127.0.0.1:${sport}/svc`, refresh_interval: { seconds: 0, nanos: 500e6 } },
          ],
        },
      };
      try {
        return await withProxy(cfg, async (proxy, cm) => {
          await cm().ready();
          const load = trickle(proxy.listeners[0]!.port, () => fresh.firstAt > 0);
          await sleep(300);
          const t0 = performance.now();
          body = JSON.stringify({ endpoints: [{ address: '127.0.0.1', port: old.port }, { address: '127.0.0.1', port: fresh.port }] });
          await load;
          return fresh.firstAt ? fresh.firstAt - t0 : NaN;
        });
      } finally {
        svc.closeAllConnections();
        svc.close();
      }
    }
    const grpcMode = source === 'gRPC ADS (push)';
    const cp = grpcMode ? await startGrpcControlPlane() : await startRestControlPlane();
    cp.snapshot.version = 1;
    cp.snapshot.clusters = [edsCluster('svc', 'svc')];
    cp.snapshot.endpoints = [cla('svc', old.port)];
    const cfg: Bootstrap = {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: listenerTo('svc'),
        clusters: [{ name: 'xds', load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: cp.port } } } }] }] } }],
      },
      dynamic_resources: grpcMode
        ? { cds_config: { ads: {} }, ads_config: { api_type: 'AGGREGATED_GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] } }
        : { cds_config: { api_config_source: { api_type: 'REST', cluster_names: ['xds'], refresh_delay: { seconds: 0, nanos: 500e6 } } } },
    };
    try {
      return await withProxy(cfg, async (proxy, cm) => {
        await cm().ready();
        const deadline = Date.now() + 10_000;
        while ((cm().get('svc')?.hosts.hosts.length ?? 0) === 0 && Date.now() < deadline) await sleep(10);
        const load = trickle(proxy.listeners[0]!.port, () => fresh.firstAt > 0);
        await sleep(300);
        const t0 = performance.now();
        cp.snapshot.version = 2;
        cp.snapshot.endpoints = [cla('svc', old.port, fresh.port)];
        if (grpcMode) (cp as GrpcControlPlane).push(ENDPOINT_TYPE);
        await load;
        return fresh.firstAt ? fresh.firstAt - t0 : NaN;
      });
    } finally {
      await cp.close();
    }
  } finally {
    await old.kill();
    await fresh.close();
  }
}


const withRetries: { failed: number; total: number; ejectMs: number }[] = [];
const noRetries: { failed: number; total: number; ejectMs: number }[] = [];
for (let i = 0; i < ROUNDS; i++) {
  withRetries.push(await killRound(true));
  noRetries.push(await killRound(false));
  process.stderr.write(`kill round ${i + 1}/${ROUNDS}: retries ${withRetries.at(-1)!.failed} failed, none ${noRetries.at(-1)!.failed} failed\n`);
}
const sources: Source[] = ['refresh service (poll 500 ms)', 'xDS REST (refresh_delay 500 ms)', 'gRPC ADS (push)'];
const discovery = new Map<Source, number[]>();
for (const s of sources) {
  const xs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) xs.push(await discoveryRound(s));
  discovery.set(s, xs);
  process.stderr.write(`${s}: ${xs.map((x) => Math.round(x)).join(', ')} ms\n`);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const lines = [
  `Command: \`node dist/bench/failover.js --write\` (${ROUNDS} rounds each; ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; other work was running on the machine, so times are upper bounds).`,
  '',
  `Upstream kill under load: two upstreams behind \`meshctl run\`'s proxy, ${LOAD} GET requests from 16 concurrent keep-alive clients, one upstream killed (listener closed, open sockets destroyed) after ${KILL_AT}. Outlier detection: consecutive_5xx 5, max_ejection_percent 50, base_ejection_time 1 s.`,
  '',
  '| route retry policy | requests | failed client requests (per round) | total failed | kill → ejection (median, max) |',
  '| --- | --- | --- | --- | --- |',
  `| \`retry_on: 5xx,reset,connect-failure\`, num_retries 3 | ${sum(withRetries.map((r) => r.total))} | ${withRetries.map((r) => r.failed).join(', ')} | **${sum(withRetries.map((r) => r.failed))}** (target 0) | ${fmt(median(withRetries.map((r) => r.ejectMs)))}, ${fmt(Math.max(...withRetries.map((r) => r.ejectMs)))} |`,
  `| none | ${sum(noRetries.map((r) => r.total))} | ${noRetries.map((r) => r.failed).join(', ')} | ${sum(noRetries.map((r) => r.failed))} | ${fmt(median(noRetries.map((r) => r.ejectMs)))}, ${fmt(Math.max(...noRetries.map((r) => r.ejectMs)))} |`,
  '',
  'New endpoint after a discovery change (time from the change at the source to the first request the new endpoint serves, under a light load of 2 concurrent clients):',
  '',
  '| source | median | max | rounds (ms) |',
  '| --- | --- | --- | --- |',
  ...sources.map((s) => {
    const xs = discovery.get(s)!;
    return `| ${s} | ${fmt(median(xs))} | ${fmt(Math.max(...xs))} | ${xs.map((x) => Math.round(x)).join(', ')} |`;
  }),
  '',
  'Reading: with the retry policy a dead upstream costs no client request — the first attempts to it fail fast (connection refused or reset) and are retried on the other host, and outlier detection ejects it after five consecutive failures. Without retries the requests in flight on the killed host’s connections, and those sent to it before the ejection, are the failures clients see. Polled sources take on average half their interval plus one request; a gRPC push is applied as soon as it arrives.',
];
const section = lines.join('\n');
process.stdout.write(section + '\n');

if (WRITE) writeBenchSection('failover', section, '## Failure recovery and discovery (`bench/failover.ts`)');
process.exit(0);
