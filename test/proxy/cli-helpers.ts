/** Runs `meshctl run` as a real child process and reads what it announces. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { BIN, REPO } from '../helpers/cli.js';

export interface RunningCli {
  readonly child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Resolves with the first match of `re` in stderr (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exit(): Promise<number | null>;
  kill(): void;
}

export function spawnCli(args: string[], opts: { cwd?: string } = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  const waiters: (() => void)[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // A process that ends without printing what a waiter wants must fail that waiter now, not at its time-out.
  void exited.then(() => {
    for (const w of waiters.splice(0)) w();
  });
  // A test that fails must not leave the proxy running.
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(guard));
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    waitFor(re, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${err}`)), ms);
        const check = (): void => {
          const m = err.match(re);
          if (m) {
            clearTimeout(t);
            resolve(m);
          } else if (child.exitCode !== null) {
            clearTimeout(t);
            reject(new Error(`meshctl exited (${child.exitCode}) before ${re}:\n${err}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    exit: () => exited,
    kill: () => child.kill('SIGKILL'),
  };
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A line of meshctl's JSON access log, with the fields the tests read. */
export interface AccessLogLine {
  readonly method: string;
  readonly path: string;
  readonly response_code: number;
  readonly response_flags: string;
}

/** The access log's lines, once it has at least `n` (lines are written in batches); what it has after ~5 s otherwise. */
export async function accessLogLines(file: string, n: number): Promise<AccessLogLine[]> {
  for (let i = 0; ; i++) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // Not written yet.
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as AccessLogLine);
    if (lines.length >= n || i > 100) return lines;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A one-listener config in Envoy's shape: an HTTP connection manager (with `@type`) whose one virtual host takes every
 * domain, and clusters of one endpoint on 127.0.0.1 each (`name → port`). `hcmExtra` and `vhostExtra` are YAML lines
 * at the connection manager's and the virtual host's indentation (16 and 22 spaces); `routes` are the route list
 * items (24 spaces); `clusterExtra` (by cluster name) are lines at a cluster's field indentation (6 spaces).
 */
/** A cluster's HttpProtocolOptions extension (clusterExtra lines): HTTP/2 upstream, or HTTP/1.1 with enable_trailers. */
export const H2_UPSTREAM = `      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: { http2_protocol_options: {} }
`;
export const H1_TRAILERS_UPSTREAM = H2_UPSTREAM.replace('http2_protocol_options: {}', 'http_protocol_options: { enable_trailers: true }');

export function oneListenerYaml(o: {
  hcmExtra?: string;
  /** Lines of the route configuration before its virtual hosts (indented by 18), e.g. `validate_clusters: false`. */
  routeConfigExtra?: string;
  vhostExtra?: string;
  routes: string;
  clusters: Readonly<Record<string, number>>;
  clusterExtra?: Readonly<Record<string, string>>;
  /** Clusters written whole (items of `clusters:`, indented by 4), after the one-endpoint ones of `clusters`. */
  clustersYaml?: string;
}): string {
  const clusters = Object.entries(o.clusters).map(
    ([name, port]) => `    - name: ${name}
      connect_timeout: 1s
${o.clusterExtra?.[name] ?? ''}      load_assignment:
        cluster_name: ${name}
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } }] }]`,
  );
  return `
static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: main
${o.hcmExtra ?? ''}
                route_config:
${o.routeConfigExtra ?? ''}                  virtual_hosts:
                    - name: all
                      domains: ["*"]
${o.vhostExtra ?? ''}
                      routes:
${o.routes}
  clusters:
${clusters.join('\n')}
${o.clustersYaml ?? ''}`;
}
