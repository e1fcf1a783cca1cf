/** Shared helpers for the upstream tests: configs, a ManualClock-driven cluster manager, local servers. */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Bootstrap, Cluster } from '../../src/config/model.js';
import { RandomStreams } from '../../src/balancer/random.js';
import { ManualClock } from '../../src/time/timers.js';
import { createClusterManager, type ClusterManagerImplOptions } from '../../src/upstream/cluster-manager.js';

export function staticCluster(name: string, addrs: readonly (string | [string, number])[], extra: Partial<Cluster> = {}): Cluster {
  return {
    name,
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: addrs.map((a) => {
            const [addr, weight] = typeof a === 'string' ? [a, 1] : a;
            const i = addr.lastIndexOf(':');
            return {
              endpoint: { address: { socket_address: { address: addr.slice(0, i), port_value: Number(addr.slice(i + 1)) } } },
              load_balancing_weight: weight,
            };
          }),
        },
      ],
    },
    ...extra,
  };
}

export function bootstrap(...clusters: Cluster[]): Bootstrap {
  return { static_resources: { clusters } };
}

export function manualManager(config: Bootstrap, extra: Partial<ClusterManagerImplOptions> = {}) {
  const clock = new ManualClock();
  const cm = createClusterManager(config, { random: new RandomStreams(7), clock, timers: clock, ...extra });
  return { cm, clock };
}

/** An HTTP server on 127.0.0.1 with a switchable status; `close()` ends it and its sockets. */
export async function statusServer(initial = 200): Promise<{ port: number; status: number; hits: number; close(): Promise<void> }> {
  const state = { port: 0, status: initial, hits: 0, close: async () => undefined as void };
  const server = http.createServer((req, res) => {
    state.hits++;
    res.statusCode = state.status;
    res.end(`ok ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.address() as AddressInfo).port;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}

/** A port with nothing listening on it (bound, then released). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Poll `cond` every 10 ms until it holds, or fail after `ms` (a bound, not a timed assertion). */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
