/**
 * The demo: echo upstreams on 18080/18081, then `run` on the quickstart config until Ctrl-C. When a port it needs is
 * taken, it says which port, what needed it and which flag moves it, and stops (exit 2) without its "Try:" lines.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { listenerName } from '../config/connection-manager.js';
import type { Bootstrap } from '../config/model.js';
import { startEchoServer, type EchoServer } from './echo-server.js';
import { renderFileReport } from '../validate/report.js';
import { EXIT_CONFIG, EXIT_USAGE } from './exit-codes.js';
import { endpointMapper, parseMapping } from './map-endpoint.js';
import { loadRunConfig, runProxy } from './run.js';

const QUICKSTART = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures', 'quickstart', 'mesh.textproto');

/** Where the quickstart config expects its two upstreams. */
const DEMO_UPSTREAMS = [18080, 18081] as const;

interface DemoOptions {
  readonly config?: string | undefined;
  readonly accessLog: boolean;
  readonly dashboard: boolean;
  readonly color: boolean;
  /** `--upstream-ports A,B`: the echo upstreams listen there; the config's 127.0.0.1:18080/18081 endpoints follow. */
  readonly upstreamPorts?: readonly [number, number];
  readonly listenPortOffset?: number;
  readonly admin?: { address: string; port: number };
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const file = opts.config ?? QUICKSTART;
  const log = (line: string): void => void process.stderr.write(line + '\n');
  const loaded = await loadRunConfig(file, undefined);
  process.stderr.write(await renderFileReport(loaded.report, opts.color));
  if (loaded.config === undefined) {
    log(`meshctl: ${file} has ${loaded.errors} error${loaded.errors === 1 ? '' : 's'}; not starting`);
    return EXIT_CONFIG;
  }
  const ports = opts.upstreamPorts ?? DEMO_UPSTREAMS;
  const upstreams: EchoServer[] = [];
  try {
    for (const [i, name] of ['upstream-a', 'upstream-b'].entries()) {
      try {
        upstreams.push(await startEchoServer({ name, host: '127.0.0.1', port: ports[i]! }));
      } catch (err) {
        const busy = portInUse(err);
        if (busy === undefined) throw err;
        log(`meshctl demo: port ${busy.port} is in use, so the demo's ${i === 0 ? 'first' : 'second'} echo upstream cannot start`);
        log(`  stop what holds it, or move the upstreams: meshctl demo --upstream-ports ${suggestUpstreams(ports)} (npm start -- --upstream-ports …)`);
        return EXIT_USAGE;
      }
    }
    const [a, b] = upstreams as [EchoServer, EchoServer];
    const moved = DEMO_UPSTREAMS.map((from, i) => `127.0.0.1:${from}=127.0.0.1:${upstreams[i]!.port}`).filter((_, i) => DEMO_UPSTREAMS[i] !== upstreams[i]!.port);
    const mapEndpoint = endpointMapper(moved.map(parseMapping));
    return await runProxy(
      {
        file,
        workers: 1,
        accessLog: opts.accessLog ? '-' : undefined,
        drainTimeoutMs: 2000,
        dashboard: opts.dashboard,
        watch: true,
        upstreamClient: 'meshctl',
        upstreamFailureMode: 'envoy',
        forceXff: false,
        color: opts.color,
        log,
        ...(mapEndpoint ? { mapEndpoint } : {}),
        ...(opts.listenPortOffset !== undefined ? { listenPortOffset: opts.listenPortOffset } : {}),
        ...(opts.admin ? { admin: opts.admin } : {}),
        onListening(proxy) {
          log(`meshctl demo: echo upstreams on 127.0.0.1:${a.port} (weight 1) and 127.0.0.1:${b.port} (weight 2)`);
          const listener = proxy.listeners[0];
          log('');
          log('Try:');
          if (listener) log(`  curl -s ${listener.scheme}://${hostText(listener.address)}:${listener.port}/hello`);
          if (proxy.admin) {
            log(`  curl -s http://${hostText(proxy.admin.address)}:${proxy.admin.port}/stats?filter=upstream_rq`);
            log(`  curl -s http://${hostText(proxy.admin.address)}:${proxy.admin.port}/metrics`);
          }
          log('Ctrl-C stops the demo.');
          log('');
        },
      },
      loaded.config,
    ).catch((err: unknown) => {
      const busy = portInUse(err);
      if (busy === undefined) throw err;
      for (const line of proxyPortAdvice(busy, loaded.config!, opts)) log(line);
      return EXIT_USAGE;
    });
  } finally {
    await Promise.all(upstreams.map((u) => u.close()));
  }
}

function hostText(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** The address of a listen() that failed because something else holds it. */
function portInUse(err: unknown): { address: string; port: number } | undefined {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (!(err instanceof Error) || e.code !== 'EADDRINUSE' || typeof e.port !== 'number') return undefined;
  return { address: e.address ?? '127.0.0.1', port: e.port };
}

function suggestUpstreams(ports: readonly number[]): string {
  return ports.map((p) => (p + 10000 <= 65535 ? p + 10000 : p - 10000)).join(',');
}

/** Which of the proxy's sockets a busy port belongs to, and the flag that moves it. */
function proxyPortAdvice(busy: { address: string; port: number }, config: Bootstrap, opts: DemoOptions): string[] {
  const at = `${hostText(busy.address)}:${busy.port}`;
  const adminPort = opts.admin?.port ?? config.admin?.address?.socket_address?.port_value;
  if (busy.port === adminPort) {
    const other = busy.port + 1 <= 65535 ? busy.port + 1 : busy.port - 1;
    return [
      `meshctl demo: ${at} is in use, so the admin server cannot start (another meshctl or Envoy?)`,
      `  stop what holds it, or move the admin server: meshctl demo --admin-address 127.0.0.1:${other} (npm start -- --admin-address …)`,
    ];
  }
  const offset = opts.listenPortOffset ?? 0;
  const listeners = config.static_resources?.listeners ?? [];
  const i = listeners.findIndex((l) => {
    const p = l.address?.socket_address?.port_value;
    return p !== undefined && p !== 0 && p + offset === busy.port;
  });
  const next = busy.port + 10000 <= 65535 ? offset + 10000 : offset - 10000;
  return [
    `meshctl demo: ${at} is in use, so ${i >= 0 ? `listener ${listenerName(listeners[i]!, i)}` : 'a listener'} cannot start`,
    `  stop what holds it, or move the listeners: meshctl demo --listen-port-offset ${next} (npm start -- --listen-port-offset …)`,
  ];
}
