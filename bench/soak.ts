/**
 * Soak: `meshctl run` at full load for a fixed time with wrk (HTTP/1.1), then h2load (HTTP/2 cleartext, prior
 * knowledge), sampling the proxy process every second: RSS (/proc/PID/status), open file descriptors (/proc/PID/fd)
 * and event-loop delay plus V8 heap figures (bench/soak-probe.ts, loaded into the process with --import; the proxy runs
 * with --expose-gc so the probe can read the heap still live after a full collection every 10 s, the figure a leak moves). Reports RSS growth after
 * warm-up, event-loop delay percentiles, load-tool errors and fds before/after into `<!-- bench:soak -->` of
 * docs/BENCHMARKS.md (with --write).
 *
 *   node dist/bench/soak.js [--duration 60] [--warmup 10] [--connections 32] [--write]
 *
 * The warm-up runs both load tools at full load (WARMUP seconds each) before the baseline is taken, so the baseline
 * already holds what both codecs allocate once (JIT code, HTTP/2 sessions, pools, V8's heap sized for the load).
 *
 * Needs wrk and h2load (Debian: wrk, nghttp2-client); installs them with apt-get when root, else stops with a
 * message. Everything listens on 127.0.0.1 (ephemeral ports) and every process started here is stopped by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../test/helpers/cli.js';
import { findTool, freePort } from '../test/hardening/tools.js';
import { writeBenchSection } from './bench-doc.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const DURATION = Number(arg('duration', '60'));
const CONNECTIONS = Number(arg('connections', '32'));
const WARMUP = Number(arg('warmup', '10'));
const WRITE = process.argv.includes('--write');

const children: ChildProcess[] = [];
function stopAll(): void {
  for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGTERM');
}
process.on('exit', stopAll);
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

for (const [bin, pkg] of [['wrk', 'wrk'], ['h2load', 'nghttp2-client']] as const) {
  const t = findTool(bin, pkg);
  if ('skip' in t) {
    console.error(`soak: ${t.skip}`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), 'meshctl-soak-'));
const upstreamPort = await freePort();
const listenPort = await freePort();
const adminPort = await freePort();

// The upstream: a one-process node server with a fixed body (in its own process so it does not share the proxy's loop).
const upstream = spawn(
  process.execPath,
  [
    '-e',
    `const http=require('http');const b=Buffer.from('ok '.repeat(40));http.createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(200,{'content-type':'text/plain','content-length':b.length});s.end(b)})}).listen(${upstreamPort},'127.0.0.1')`,
  ],
  { stdio: 'ignore' },
);
children.push(upstream);

const configPath = join(work, 'soak.yaml');
writeFileSync(
  configPath,
  `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } }
static_resources:
  listeners:
    - name: soak
      address: { socket_address: { address: 127.0.0.1, port_value: ${listenPort} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                stat_prefix: soak
                codec_type: AUTO
                route_config:
                  name: local
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: backend }
  clusters:
    - name: backend
      type: STATIC
      connect_timeout: 1s
      load_assignment:
        cluster_name: backend
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }
`,
);

const probeFile = join(work, 'probe.jsonl');
const proxy = spawn(
  process.execPath,
  ['--expose-gc', '--import', join(REPO, 'dist', 'bench', 'soak-probe.js'), join(REPO, 'bin', 'meshctl'), 'run', configPath, '--no-access-log', '--no-watch'],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MESHCTL_SOAK_PROBE: probeFile } },
);
children.push(proxy);
let proxyErr = '';
proxy.stderr!.setEncoding('utf8').on('data', (d: string) => (proxyErr = (proxyErr + d).slice(-4000)));
const pid = proxy.pid!;

async function until(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`soak: ${what} did not come up\n${proxyErr}`);
}
await until('the proxy', async () => (await fetch(`http://127.0.0.1:${listenPort}/`)).status === 200);

function rssKiB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
function fds(): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

interface Sample {
  phase: string;
  s: number;
  rss: number;
  fds: number;
}
const samples: Sample[] = [];

/** Run a load tool for DURATION seconds while sampling once a second. */
async function phase(name: string, cmd: string, args: string[]): Promise<string> {
  const tool = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(tool);
  let out = '';
  tool.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  tool.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise<void>((r) => tool.once('exit', () => r()));
  let s = 0;
  const timer = setInterval(() => {
    s++;
    try {
      samples.push({ phase: name, s, rss: rssKiB(), fds: fds() });
    } catch {
      // The proxy died: reported below from its exit code.
    }
  }, 1000);
  await done;
  clearInterval(timer);
  return out;
}

const clients = Math.max(1, Math.min(8, CONNECTIONS));
const h2Args = (seconds: number): string[] => ['-D', String(seconds), '-c', String(clients), '-m', String(Math.max(1, Math.floor(CONNECTIONS / clients))), `http://127.0.0.1:${listenPort}/`];
// Warm up both codecs at full load (JIT, pools, HTTP/2 machinery, heap sizing), then take the baseline.
spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${WARMUP}s`, `http://127.0.0.1:${listenPort}/`], { stdio: 'ignore' });
spawnSync('h2load', h2Args(WARMUP), { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 1500));
const fdsBefore = fds();
const rssBefore = rssKiB();
const probeStart = Date.now();

const wrkOut = await phase('HTTP/1.1 (wrk)', 'wrk', ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', `http://127.0.0.1:${listenPort}/`]);
const h2Out = await phase('HTTP/2 (h2load)', 'h2load', h2Args(DURATION));

await new Promise((r) => setTimeout(r, 2000));
const alive = proxy.exitCode === null;
const fdsAfter = alive ? fds() : NaN;
const rssAfter = alive ? rssKiB() : NaN;
const stats = alive ? await (await fetch(`http://127.0.0.1:${adminPort}/stats`)).text() : '';
proxy.kill('SIGTERM');
upstream.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 500));

// ---- figures ----
const parseMs = (v: string | undefined): number => {
  const m = /^([\d.]+)(us|ms|s)$/.exec((v ?? '').trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
};
const wrkRps = Number(/Requests\/sec:\s+([\d.]+)/.exec(wrkOut)?.[1]);
const wrkP99 = parseMs(/\s99%\s+(\S+)/.exec(wrkOut)?.[1]);
const wrkTotal = Number(/(\d+) requests in/.exec(wrkOut)?.[1]);
const wrkNon2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(wrkOut)?.[1] ?? 0);
const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(wrkOut);
const wrkSockErrors = sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
const h2Rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(h2Out)?.[1]);
const h2Req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(h2Out);
const h2Status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(h2Out);
const h2Lat = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(h2Out);

const probe = existsSync(probeFile)
  ? readFileSync(probeFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: number; p50: number; p99: number; max: number; heapUsed: number; heapTotal: number; live?: number })
      .filter((x) => x.t >= probeStart)
  : [];
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], p: number): number => (xs.length ? sorted(xs)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN);
const eldP99s = probe.map((x) => x.p99);
const eldMax = Math.max(...probe.map((x) => x.max), 0);

const rssSeries = samples.map((s) => s.rss).filter((x) => Number.isFinite(x));
const rssMax = Math.max(...rssSeries);
const growth = ((rssAfter - rssBefore) / rssBefore) * 100;
const firstRss = (name: string): number => samples.find((s) => s.phase === name)?.rss ?? NaN;
const lastRss = (name: string): number => [...samples].reverse().find((s) => s.phase === name)?.rss ?? NaN;
const mb = (kib: number): string => (kib / 1024).toFixed(1);
const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);
// Heap in use swings with every scavenge, so compare bands: the median of the first and of the last ten seconds.
const band = (xs: number[]): number => pct(xs, 50);
const heapUsed = probe.map((x) => x.heapUsed);
const heapFirst = band(heapUsed.slice(0, 10));
const heapLast = band(heapUsed.slice(-10));
const heapTotalMax = Math.max(...probe.map((x) => x.heapTotal), 0);
// The heap still live after a full collection (every 10 s, --expose-gc): a leak makes this climb phase after phase.
const live = probe.filter((x) => x.live !== undefined).map((x) => x.live!);
// RSS trend over the second half of the run (MiB per minute, least squares): a leak keeps a positive slope.
const half = rssSeries.slice(Math.floor(rssSeries.length / 2));
const slope = ((): number => {
  const n = half.length;
  if (n < 2) return NaN;
  const mx = (n - 1) / 2;
  const my = half.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  half.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return ((num / den) * 60) / 1024;
})();
const cxActive = /listener\.[^\n]*downstream_cx_active: (\d+)/.exec(stats)?.[1];

const lines = [
  `Command: \`node dist/bench/soak.js --duration ${DURATION} --connections ${CONNECTIONS} --write\` (${cpus().length} cores shared with the load`,
  `tools and the upstream, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}). \`meshctl run\` (1 worker, no access log) in front of`,
  `one node upstream on 127.0.0.1; ${WARMUP} s of wrk and ${WARMUP} s of h2load to warm up, then ${DURATION} s of wrk (-t1 -c${CONNECTIONS}) and ${DURATION} s of h2load (h2c, -c${clients}`,
  `-m${Math.max(1, Math.floor(CONNECTIONS / clients))}). RSS and fds sampled every second from /proc; event-loop delay from a perf_hooks histogram inside`,
  'the proxy (bench/soak-probe.ts), one p99 per second.',
  '',
  '| phase | requests | req/s | p99 latency | errors |',
  '| --- | ---: | ---: | ---: | ---: |',
  `| HTTP/1.1 (wrk) | ${wrkTotal.toLocaleString('en')} | ${Math.round(wrkRps).toLocaleString('en')} | ${wrkP99.toFixed(2)} ms | ${wrkNon2xx} non-2xx, ${wrkSockErrors} socket |`,
  `| HTTP/2 (h2load) | ${h2Req ? Number(h2Req[1]).toLocaleString('en') : '?'} | ${Math.round(h2Rps).toLocaleString('en')} | ${h2Lat ? `mean ${h2Lat[3]}, max ${h2Lat[2]}` : '?'} | ${h2Req ? `${h2Req[5]} failed, ${h2Req[6]} errored, ${h2Req[7]} timeout` : '?'}${h2Status ? `, ${Number(h2Status[3]) + Number(h2Status[4])} 4xx/5xx` : ''} |`,
  '',
  '| measure | value |',
  '| --- | --- |',
  `| RSS after warm-up → after both phases | ${mb(rssBefore)} MiB → ${mb(rssAfter)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%; target < 10%) |`,
  `| RSS per phase (first → last second) | HTTP/1.1 ${mb(firstRss('HTTP/1.1 (wrk)'))} → ${mb(lastRss('HTTP/1.1 (wrk)'))} MiB; HTTP/2 ${mb(firstRss('HTTP/2 (h2load)'))} → ${mb(lastRss('HTTP/2 (h2load)'))} MiB; peak ${mb(rssMax)} MiB |`,
  `| V8 heap in use (median of the first → last 10 s) | ${mib(heapFirst)} MiB → ${mib(heapLast)} MiB; heap size at most ${mib(heapTotalMax)} MiB |`,
  `| V8 heap live after a full GC (every 10 s) | ${live.map(mib).join(', ')} MiB |`,
  `| RSS trend over the second half of the run | ${slope >= 0 ? '+' : ''}${slope.toFixed(2)} MiB/min |`,
  `| event-loop delay (per-second p99s) | median ${pct(eldP99s, 50).toFixed(1)} ms, p99 ${pct(eldP99s, 99).toFixed(1)} ms; max single delay ${eldMax.toFixed(1)} ms (${probe.length} samples) |`,
  `| open fds before → after (2 s after load) | ${fdsBefore} → ${fdsAfter}${Number.isFinite(fdsAfter) && fdsAfter > fdsBefore + 2 ? ' (leak?)' : ''} |`,
  `| downstream connections still active after load | ${cxActive ?? 'n/a'} |`,
  `| proxy process | ${alive ? 'alive throughout' : `exited early (code ${proxy.exitCode})`} |`,
];
const text = lines.join('\n');
console.log(text);
writeFileSync(join(work, 'samples.json'), JSON.stringify({ samples, probe }, null, 1));
if (WRITE) {
  writeBenchSection('soak', text);
  console.error('soak: wrote docs/BENCHMARKS.md');
}
rmSync(work, { recursive: true, force: true });
process.exitCode = alive ? 0 : 1;
