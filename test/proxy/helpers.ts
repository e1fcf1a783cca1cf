/** Shared helpers for the proxy tests: hand-built configs, HTTP clients over real sockets, certificates. */
import http from 'node:http';
import http2 from 'node:http2';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bootstrap, Cluster, Listener, Route, RouteAction } from '../../src/config/model.js';

export interface SimpleConfigOpts {
  listeners?: Listener[];
  clusters?: Cluster[];
  routes?: Route[];
  codec?: 'AUTO' | 'HTTP1' | 'HTTP2';
  useRemoteAddress?: boolean;
}

export function cluster(name: string, ports: number[], extra: Partial<Cluster> = {}, weights?: number[]): Cluster {
  return {
    name,
    connect_timeout: { seconds: 1, nanos: 0 },
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: ports.map((p, i) => ({
            endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } },
            ...(weights ? { load_balancing_weight: weights[i] } : {}),
          })),
        },
      ],
    },
    ...extra,
  };
}

export function routeTo(clusterName: string, prefix = '/', action: Partial<RouteAction> = {}): Route {
  return { match: { prefix }, route: { cluster: clusterName, ...action } };
}

export function config(opts: SimpleConfigOpts): Bootstrap {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      clusters: opts.clusters ?? [],
      listeners: opts.listeners ?? [
        {
          name: 'test-listener',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    stat_prefix: 'ingress_http',
                    codec_type: opts.codec ?? 'AUTO',
                    ...(opts.useRemoteAddress ? { use_remote_address: true } : {}),
                    route_config: {
                      name: 'local',
                      virtual_hosts: [{ name: 'all', domains: ['*'], routes: opts.routes ?? [] }],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET', body?: string | Buffer): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function h2get(
  session: http2.ClientHttp2Session,
  path: string,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ...headers });
    let status = 0;
    let h: http.IncomingHttpHeaders = {};
    req.on('response', (hh) => {
      status = Number(hh[':status']);
      h = hh as http.IncomingHttpHeaders;
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, headers: h, body: Buffer.concat(chunks).toString() }));
    req.on('error', reject);
    req.end();
  });
}

/** A self-signed certificate for 127.0.0.1/localhost, made with openssl; undefined when openssl is missing. */
export function makeCert(): { dir: string; cert: string; key: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-tls-'));
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
  } catch {
    return undefined;
  }
  return { dir, cert, key };
}

export function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-proxy-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

export function destroyAgent(): void {
  agent.destroy();
}
