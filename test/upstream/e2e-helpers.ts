/** End-to-end helpers: restartable upstreams, a proxy config with retries and outlier detection, a bounded load. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { Bootstrap, Cluster } from '../../src/config/model.js';

/** An HTTP upstream that answers its name; can be killed (sockets destroyed) and restarted on the same port. */
export class Upstream {
  hits = 0;
  port = 0;
  private server: http.Server | undefined;

  constructor(readonly name: string) {}

  async start(port = this.port): Promise<void> {
    const server = http.createServer((_req, res) => {
      this.hits++;
      res.setHeader('content-type', 'text/plain');
      res.end(this.name);
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Abrupt stop: the listener closes and open connections are destroyed (a crashed process). */
  async kill(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

export function failoverConfig(ports: readonly number[], clusterExtra: Partial<Cluster> = {}): Bootstrap {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      clusters: [
        {
          name: 'svc',
          connect_timeout: { seconds: 1, nanos: 0 },
          load_assignment: {
            cluster_name: 'svc',
            endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }],
          },
          // Envoy's default max_ejection_percent (10%) would refuse to eject one of two hosts; 50% allows one.
          outlier_detection: { max_ejection_percent: 50, base_ejection_time: { seconds: 1, nanos: 0 }, interval: { seconds: 0, nanos: 200e6 } },
          // Envoy's default max_retries is 3 concurrent retries; a burst of failures under load needs more.
          circuit_breakers: { thresholds: [{ max_retries: 256 }] },
          ...clusterExtra,
        },
      ],
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    stat_prefix: 'ingress',
                    route_config: {
                      name: 'r',
                      virtual_hosts: [
                        {
                          name: 'all',
                          domains: ['*'],
                          routes: [
                            {
                              match: { prefix: '/' },
                              route: { cluster: 'svc', retry_policy: { retry_on: '5xx,reset,connect-failure', num_retries: 3 } },
                            },
                          ],
                        },
                      ],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  } as Bootstrap;
}

export interface LoadResult {
  ok: number;
  failed: number;
  failures: string[];
  byBody: Map<string, number>;
}

/**
 * GET / through the proxy with `concurrency` workers until `stop()` says so and at least `min` requests are done, or
 * `max` requests / `maxMs` pass (a hard bound). `onProgress` runs after every response.
 */
export async function runLoad(
  port: number,
  opts: { concurrency: number; min: number; max: number; maxMs: number; stop: () => boolean; onProgress?: (r: LoadResult) => void },
): Promise<LoadResult> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: opts.concurrency, pipelining: 1 });
  const r: LoadResult = { ok: 0, failed: 0, failures: [], byBody: new Map() };
  const deadline = Date.now() + opts.maxMs;
  let issued = 0;
  const done = (): boolean => r.ok + r.failed >= opts.max || Date.now() > deadline || (r.ok + r.failed >= opts.min && opts.stop());
  const worker = async (): Promise<void> => {
    while (!done() && issued < opts.max) {
      issued++;
      try {
        const res = await pool.request({ path: '/', method: 'GET' });
        const body = await res.body.text();
        if (res.statusCode === 200) {
          r.ok++;
          r.byBody.set(body, (r.byBody.get(body) ?? 0) + 1);
        } else {
          r.failed++;
          if (r.failures.length < 10) r.failures.push(`${res.statusCode} ${body.slice(0, 120)}`);
        }
      } catch (err) {
        r.failed++;
        if (r.failures.length < 10) r.failures.push((err as Error).message);
      }
      opts.onProgress?.(r);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  await pool.close();
  return r;
}
