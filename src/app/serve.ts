/**
 * `meshctl serve CONFIG`: a control plane. The config (read and validated like every command's) is mapped to xDS
 * resources (control-plane/resources.ts) and served over gRPC (control-plane/server.ts) to any number of Envoys,
 * `meshctl run`s and proxyless gRPC clients. Every edit of the file (or SIGHUP) is validated first: a bad one is
 * printed with its diagnostics and never pushed; a good one is pushed, with a new version of each type that changed,
 * to every subscribed node. An admin HTTP server shows the fleet: /status (JSON), / (text), /metrics (Prometheus), and
 * /topology, a page drawing the served config with every node's versions and NACKs (graph/fleet.ts, loaded only when
 * asked for, as run's /topology is).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Bootstrap, InputFormat } from '../config/model.js';
import { envoyApi } from '../config/envoy-api/descriptors.js';
import { WireCodec, WireError } from '../config/envoy-api/wire.js';
import { UsageError } from '../config/usage-error.js';
import { encodeResources, resourcesJson, RESOURCE_TYPES, SHORT_TYPE } from '../control-plane/resources.js';
import { startXdsServer, type TlsFiles } from '../control-plane/server.js';
import { Snapshot } from '../control-plane/snapshot.js';
import { renderStatus, StatusBoard, type ServeStatus } from '../control-plane/status.js';
import { loadConfig, validateOptionsFor, type LoadedConfig } from '../validate/load.js';
import { watchConfig } from './config-watch.js';
import { EXIT_CONFIG } from './exit-codes.js';

export interface HostPort {
  readonly address: string;
  readonly port: number;
}

interface ServeOptions {
  readonly file: string;
  readonly from?: InputFormat;
  readonly xds: HostPort;
  readonly admin: HostPort;
  readonly tls?: { readonly cert: string; readonly key: string; readonly clientCa?: string };
  readonly watch: boolean;
  readonly color: boolean;
  readonly log: (line: string) => void;
}

/** The default admin address of `serve` (and where `serve --status` looks). */
export const DEFAULT_SERVE_ADMIN: HostPort = { address: '127.0.0.1', port: 18001 };

export async function loadServeConfig(file: string, from: InputFormat | undefined): Promise<LoadedConfig> {
  if (file === '-') throw new UsageError('serve reads its config from a file, which it watches for changes; stdin (`-`) cannot be read again');
  return loadConfig(file, { ...(await validateOptionsFor()), ...(from ? { from } : {}) });
}

function readTls(tls: NonNullable<ServeOptions['tls']>): TlsFiles {
  const read = (flag: string, f: string): Buffer => {
    try {
      return readFileSync(f);
    } catch (err) {
      throw new UsageError(`${flag}: cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return {
    cert: read('--tls-cert', tls.cert),
    key: read('--tls-key', tls.key),
    ...(tls.clientCa !== undefined ? { clientCa: read('--client-ca', tls.clientCa) } : {}),
  };
}

const hostText = (h: HostPort): string => (h.address.includes(':') ? `[${h.address}]:${h.port}` : `${h.address}:${h.port}`);

/** Serves until SIGTERM/SIGINT. Resolves with the exit code. */
export async function serve(opts: ServeOptions, initial: Bootstrap): Promise<number> {
  const tls = opts.tls !== undefined ? readTls(opts.tls) : undefined;
  const api = envoyApi();
  const codec = new WireCodec(api);
  const snapshot = new Snapshot();
  const board = new StatusBoard();
  /** The config being served (the last one installed), for /topology. */
  let served = initial;

  /** Map, encode and install a validated config; false (logged) when a value has no place in Envoy's messages. */
  const install = (config: Bootstrap): boolean => {
    let sets;
    try {
      sets = encodeResources(resourcesJson(config), codec, snapshot.current());
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      const line = `meshctl serve: ${opts.file}: cannot be served as Envoy's xDS: ${err.message}`;
      opts.log(line);
      board.config.rejected = { at: new Date().toISOString(), errors: 1, diagnostics: line };
      return false;
    }
    const changed = snapshot.update(sets);
    const versions: ServeStatus['config']['versions'] = {};
    for (const t of RESOURCE_TYPES) versions[SHORT_TYPE[t]] = { version: snapshot.version(t), resources: sets[t].size };
    board.config = { file: opts.file, versions, loaded_at: new Date().toISOString() };
    served = config;
    const what = RESOURCE_TYPES.map((t) => `${SHORT_TYPE[t]} v${snapshot.version(t)} (${sets[t].size})`).join(', ');
    opts.log(`meshctl serve: ${changed.length > 0 ? `serving ${what}; changed: ${changed.map((t) => SHORT_TYPE[t]).join(', ')}; pushed to ${snapshot.subscribers.size} stream${snapshot.subscribers.size === 1 ? '' : 's'}` : 'no resource changed'}`);
    return true;
  };
  if (!install(initial)) return EXIT_CONFIG;

  const ctx = { snapshot, codec, board, log: opts.log };
  const xds = await startXdsServer(ctx, api, opts.xds.address, opts.xds.port, tls);
  const xdsAddress = hostText({ address: opts.xds.address, port: xds.port });
  board.address = xdsAddress;
  opts.log(`meshctl serve: xDS (gRPC${tls ? ', TLS' : ''}${tls?.clientCa ? ', client certificates required' : ''}) on ${xdsAddress}`);

  const pages: AdminPages = {
    '/topology': async () => {
      const { fleetPage } = await import('../graph/fleet.js');
      return { type: 'text/html; charset=utf-8', body: await fleetPage(served, opts.file, board.config.loaded_at) };
    },
    '/topology/graph': async () => {
      const { fleetGraphSvg } = await import('../graph/fleet.js');
      return { type: 'image/svg+xml', body: await fleetGraphSvg(served, `meshctl serve — ${opts.file}`) };
    },
  };
  const admin = await startServeAdmin(board, opts.admin, pages);
  opts.log(`meshctl serve: admin on http://${hostText({ address: opts.admin.address, port: admin.port })} (/status, /metrics, /topology)`);

  const watcher = watchConfig(
    {
      ...opts,
      // A fleet waits on this: a shorter quiet time than run's (a save caught half-written is refused, then the
      // next event of the same save serves it).
      debounceMs: 50,
      onRejected: (loaded, report) => {
        board.reloads.rejected++;
        board.config.rejected = { at: new Date().toISOString(), errors: loaded.errors, diagnostics: report };
      },
    },
    () => loadServeConfig(opts.file, opts.from),
    async (config) => {
      if (install(config)) {
        board.reloads.ok++;
        delete board.config.rejected;
      } else board.reloads.rejected++;
    },
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      watcher.stop();
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
      void Promise.all([xds.close(), new Promise<void>((r) => admin.server.close(() => r()))]).then(() => resolve(0));
      admin.server.closeAllConnections();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/** Pages of the admin server drawn above control-plane/ (the fleet page), by path. */
type AdminPages = Record<string, () => Promise<{ type: string; body: string }>>;

/** The foot of the text page: where the rest of the admin is. */
const ADMIN_PAGES = '\nalso here: /status (this as JSON), /metrics (Prometheus), /topology (the served config and the fleet, drawn)\n';

async function startServeAdmin(board: StatusBoard, at: HostPort, pages: AdminPages): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string): void => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/status') return send(200, 'application/json', JSON.stringify(board.snapshot(), null, 1) + '\n');
    if (path === '/metrics') return send(200, 'text/plain; version=0.0.4', board.metrics());
    if (path === '/') return send(200, 'text/plain; charset=utf-8', renderStatus(board.snapshot()) + ADMIN_PAGES);
    const page = Object.hasOwn(pages, path ?? '') ? pages[path!] : undefined;
    if (page !== undefined) {
      return void page().then(
        (r) => send(200, r.type, r.body),
        (err: Error) => send(500, 'text/plain', `cannot draw ${path}: ${err.message}\n`),
      );
    }
    send(404, 'text/plain', 'not found: try /, /status, /metrics or /topology\n');
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.address, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : at.port);
    });
  });
  return { server, port };
}

/** `meshctl serve --status`: a running server's status page, from its admin address. */
export async function fetchStatus(admin: HostPort): Promise<ServeStatus> {
  const url = `http://${hostText(admin)}/status`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new UsageError(`no meshctl serve answers at ${hostText(admin)} (${cause}); pass its --admin-address`);
  }
  if (!res.ok) throw new UsageError(`${url} answered ${res.status}; is that a meshctl serve admin address?`);
  return (await res.json()) as ServeStatus;
}
