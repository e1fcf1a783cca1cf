/**
 * What the HTTP filter tests share: an upstream that counts what reaches it (and can answer with a body of its
 * choosing), `meshctl run` started on a one-listener config with a given http_filters list, a plain HTTP/1.1
 * client, the admin /stats counters, and the access log.
 */
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeTemp } from './helpers.js';
import { oneListenerYaml, spawnCli, type RunningCli } from './cli-helpers.js';

export interface CountingUpstream {
  readonly port: number;
  /** Requests that reached it, as "METHOD path". */
  readonly seen: string[];
  /** Request headers of the last request. */
  last: http.IncomingHttpHeaders;
  close(): void;
}

/** An upstream answering 200 "ok" (or `respond`'s answer) and recording each request. */
export async function countingUpstream(respond?: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<CountingUpstream> {
  const seen: string[] = [];
  const u: { last: http.IncomingHttpHeaders } = { last: {} };
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    u.last = req.headers;
    req.resume();
    req.on('end', () => (respond !== undefined ? respond(req, res) : res.end('ok')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    seen,
    get last() {
      return u.last;
    },
    set last(v) {
      u.last = v;
    },
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** `http_filters:` with the given entries (YAML list items at the connection manager's indentation), router last. */
export function filtersYaml(entries: string): string {
  return `                http_filters:
${entries}
                  - name: envoy.filters.http.router
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;
}

/** An Envoy file access log (at the connection manager's indentation) writing `%RESPONSE_CODE% %RESPONSE_FLAGS%
 * %RESPONSE_CODE_DETAILS%` per request to a new temporary file; returns the YAML and the file. */
export function detailsLog(): { yaml: string; file: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'meshctl-details-')), 'envoy.log');
  return {
    file,
    yaml: `                access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: ${file}
                      log_format: { text_format_source: { inline_string: "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n" } }
`,
  };
}

/** The lines of a text access log once it has `n` (written in batches); what it has after ~5 s otherwise. */
export async function logLines(file: string, n: number): Promise<string[]> {
  for (let i = 0; ; i++) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // Not written yet.
    }
    const lines = text.split('\n').filter((l) => l !== '');
    if (lines.length >= n || i > 100) return lines;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Proxy {
  readonly port: number;
  readonly admin: number;
  readonly log: string;
  readonly cli: RunningCli;
}

const children: RunningCli[] = [];

/** Kills every proxy the file started (call from `after`). */
export function killProxies(): void {
  for (const c of children.splice(0)) c.kill();
}

/** `meshctl run` on a one-listener config: `hcmExtra` holds the filters, `routes` the route list. */
export async function startProxy(o: { hcmExtra: string; routes: string; vhostExtra?: string; clusters: Readonly<Record<string, number>>; args?: string[] }): Promise<Proxy> {
  const file = writeTemp('filters.yaml', oneListenerYaml(o));
  const log = join(mkdtempSync(join(tmpdir(), 'meshctl-filters-')), 'access.log');
  const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--access-log', log, '--no-watch', ...(o.args ?? [])]);
  children.push(cli);
  const m = await cli.waitFor(/listener \S+ on https?:\/\/127\.0\.0\.1:(\d+)/);
  const a = await cli.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/);
  return { port: Number(m[1]), admin: Number(a[1]), log, cli };
}

/** `meshctl run` on a config it must refuse: resolves with its exit status and stderr. */
export async function refusedRun(yaml: string, args: string[] = []): Promise<{ code: number | null; stderr: string; file: string }> {
  const file = writeTemp('refused.yaml', yaml);
  const cli = spawnCli(['run', file, '--admin-address', '127.0.0.1:0', '--no-access-log', '--no-watch', ...args]);
  children.push(cli);
  const code = await cli.exit();
  return { code, stderr: cli.stderr(), file };
}

export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export function request(port: number, path: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { host: 'svc.test', ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The admin's /stats as name → value (counters and gauges). */
export async function stats(admin: number): Promise<Map<string, number>> {
  const text = (await request(admin, '/stats')).body.toString('utf8');
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\S+): (\d+)$/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}
