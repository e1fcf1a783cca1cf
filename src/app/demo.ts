/** The demo: echo upstreams on 18080/18081, then `run` on the quickstart config until Ctrl-C. */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { startEchoServer } from './echo-server.js';
import { renderFileReport } from '../validate/report.js';
import { EXIT_CONFIG } from './exit-codes.js';
import { loadRunConfig, runProxy } from './run.js';

const QUICKSTART = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures', 'quickstart', 'mesh.textproto');

export async function runDemo(opts: { config?: string | undefined; accessLog: boolean; dashboard: boolean; color: boolean }): Promise<number> {
  const file = opts.config ?? QUICKSTART;
  const log = (line: string): void => void process.stderr.write(line + '\n');
  const loaded = await loadRunConfig(file, undefined);
  process.stderr.write(await renderFileReport(loaded.report, opts.color));
  if (loaded.config === undefined) {
    log(`meshctl: ${file} has ${loaded.errors} error${loaded.errors === 1 ? '' : 's'}; not starting`);
    return EXIT_CONFIG;
  }
  const a = await startEchoServer({ name: 'upstream-a', port: 18080 });
  const b = await startEchoServer({ name: 'upstream-b', port: 18081 });
  log(`meshctl demo: echo upstreams on 127.0.0.1:${a.port} (weight 1) and 127.0.0.1:${b.port} (weight 2)`);
  const listener = loaded.config.static_resources?.listeners?.[0]?.address?.socket_address;
  const admin = loaded.config.admin?.address?.socket_address;
  setTimeout(() => {
    log('');
    log('Try:');
    log(`  curl -s http://${listener?.address ?? '127.0.0.1'}:${listener?.port_value ?? 10000}/hello`);
    log(`  curl -s http://${admin?.address ?? '127.0.0.1'}:${admin?.port_value ?? 9901}/stats?filter=upstream_rq`);
    log(`  curl -s http://${admin?.address ?? '127.0.0.1'}:${admin?.port_value ?? 9901}/metrics`);
    log('Ctrl-C stops the demo.');
    log('');
  }, 50);
  try {
    return await runProxy(
      {
        file,
        workers: 1,
        accessLog: opts.accessLog ? '-' : undefined,
        drainTimeoutMs: 2000,
        dashboard: opts.dashboard,
        watch: true,
        upstreamClient: 'undici',
        upstreamFailureMode: 'envoy',
        forceXff: false,
        color: opts.color,
        log,
      },
      loaded.config,
    );
  } finally {
    await a.close();
    await b.close();
  }
}
