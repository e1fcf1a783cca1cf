/**
 * Proxy benchmark: one upstream (nginx answering a fixed body), measured direct, through nginx as a reverse proxy
 * (1 worker, keep-alive upstream), through a node byte relay (the floor of any node proxy), through `meshctl run` with
 * 1 and 2 workers and with undici as its upstream client, over HTTP/2 with TLS (nginx and meshctl, 1 worker each),
 * and optionally through another build of meshctl (`--before DIR`: a checkout built with `npm run build`) in the same
 * run. HTTP/1.1 with wrk, HTTP/2 (h2c prior knowledge) with h2load. Memory: each proxy's resident set (its processes
 * summed; nginx's worker) idle after start-up and again after its load runs.
 *
 *   npm run build && node dist/bench/proxy.js [--duration 10] [--connections 32] [--before DIR] [--write]
 *
 * Installs nginx, wrk and h2load (Debian: nginx wrk nghttp2-client) when missing. Everything listens on 127.0.0.1,
 * every process is stopped by its own handle, and every load run is bounded by its duration.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeMeshConfig } from './mesh-config.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const flag = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const DURATION = Number(flag('--duration', '10'));
const CONNECTIONS = Number(flag('--connections', '32'));
const WRITE = args.includes('--write');
const BEFORE = flag('--before', '');

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function ensureTools(): void {
  const missing = [
    ['nginx', 'nginx'],
    ['wrk', 'wrk'],
    ['h2load', 'nghttp2-client'],
    ['openssl', 'openssl'],
  ].filter(([cmd]) => !have(cmd!));
  if (missing.length === 0) return;
  const pkgs = missing.map(([, p]) => p!);
  console.error(`bench: installing ${pkgs.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitPort(port: number, ms = 15_000, label = ""): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port}${label ? ` (${label})` : ""}`);
}

const procs: ChildProcess[] = [];
function start(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const p = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env });
  p.stderr!.setEncoding('utf8').on('data', (d: string) => {
    process.stderr.write(`[${cmd}] ${d}`);
  });
  procs.push(p);
  return p;
}
async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) {
    if (p.exitCode !== 0) console.error(`bench: ${p.spawnargs.slice(0, 3).join(' ')} had already exited (${p.exitCode ?? p.signalCode})`);
    return;
  }
  const done = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
  await done;
  clearTimeout(t);
}

function nginxConf(dir: string, body: string): string {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
${body}
}
`,
  );
  return conf;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  /** CPU time the proxy (and its child processes) spent per request, µs: robust against a busy machine. */
  cpuUs?: number;
}

/** utime + stime of a process and its children, in clock ticks (Linux /proc). */
function cpuTicks(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const pids = [pid];
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  pids.push(...kids);
  let t = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      t += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return t;
}
/** Resident set of a process and its children, MB (VmRSS from /proc). */
function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  let kb = 0;
  for (const p of [pid, ...kids]) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/** nginx's memory is its worker's (the master only forks and waits). */
function nginxWorker(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const kid = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number)[0];
  return kid;
}

const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

function parseMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

function wrk(port: number, pid: number | undefined): Result {
  spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, '-d5s', `http://127.0.0.1:${port}/`]);
  const t0 = cpuTicks(pid);
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = parseMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = parseMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  if (errors) console.error(`bench: ${errors} non-2xx responses on port ${port}`);
  const n = Number(/(\d+) requests in/.exec(out)?.[1]);
  return { rps, p50, p99, cpuUs: ((cpuTicks(pid) - t0) * TICK_US) / n };
}

function h2load(port: number, dir: string, scheme: 'http' | 'https' = 'http'): Result {
  const clients = Math.max(1, Math.min(8, CONNECTIONS));
  const streams = Math.max(1, Math.floor(CONNECTIONS / clients));
  const log = join(dir, `h2load-${port}.log`);
  spawnSync('h2load', ['-D', '4', '-c', String(clients), '-m', String(streams), `${scheme}://127.0.0.1:${port}/`]);
  const out = execFileSync('h2load', ['-D', String(DURATION), '-c', String(clients), '-m', String(streams), '--log-file', log, `${scheme}://127.0.0.1:${port}/`], {
    encoding: 'utf8',
  });
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1]);
  const failed = Number(/(\d+) failed/.exec(out)?.[1] ?? 0);
  if (failed > 0) console.error(`bench: h2load ${failed} failed on port ${port}`);
  // --log-file: <start µs> <status> <duration µs> per request.
  const times = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(l.split('\t')[2]) / 1000)
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? NaN;
  return { rps, p50: q(0.5), p99: q(0.99) };
}

async function main(): Promise<void> {
  ensureTools();
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-bench-'));
  const [up1, up2, ngx1, ngx2, m1, m2, mUndici, mBefore, relay, ngxTls, mTls, mNodeH2, mTlsNodeH2] = await Promise.all(Array.from({ length: 13 }, () => freePort()));
  // The upstream: nginx answering a fixed 13-byte body, HTTP/1.1 on up1 and h2c on up2.
  const upDir = mkdtempSync(join(dir, 'up-'));
  const upConf = nginxConf(
    upDir,
    `  server { listen 127.0.0.1:${up1}; keepalive_timeout 300s; location / { return 200 "hello, mesh!\\n"; } }
  server { listen 127.0.0.1:${up2} http2; keepalive_timeout 300s; location / { return 200 "hello, mesh!\\n"; } }`,
  );
  start('nginx', ['-p', upDir, '-c', upConf]);
  // HTTP/2 over TLS: one self-signed certificate for nginx's and meshctl's TLS listeners (h2 by ALPN).
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const pxDir = mkdtempSync(join(dir, 'px-'));
  const pxConf = nginxConf(
    pxDir,
    `  upstream backend { server 127.0.0.1:${up1}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${ngx1};
    listen 127.0.0.1:${ngx2} http2;
    listen 127.0.0.1:${ngxTls} ssl http2;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    keepalive_timeout 300s;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }`,
  );
  const nginxProxy = start('nginx', ['-p', pxDir, '-c', pxConf]);
  // The floor of any node proxy: bytes relayed, no HTTP work (bench/node-relay.ts).
  const nodeRelay = start(process.execPath, [join(REPO, 'dist', 'bench', 'node-relay.js'), String(relay), String(up1)]);
  const bin = join(REPO, 'bin', 'meshctl');
  const cfg1 = writeMeshConfig(dir, m1, up1);
  const cfg2 = writeMeshConfig(dir, m2, up1);
  const cfgU = writeMeshConfig(dir, mUndici, up1);
  const cfgB = writeMeshConfig(dir, mBefore, up1);
  const cfgTls = writeMeshConfig(dir, mTls, up1, undefined, '', { cert, key });
  // The same proxy with node's http2 serving downstream HTTP/2 (`--downstream-h2 node`), cleartext and TLS.
  const cfgN = writeMeshConfig(dir, mNodeH2, up1);
  const cfgTlsN = writeMeshConfig(dir, mTlsNodeH2, up1, undefined, '', { cert, key });
  const common = ['--no-access-log', '--no-watch'];
  const mesh1 = start(process.execPath, [bin, 'run', cfg1, '--admin-address', '127.0.0.1:0', '--downstream-h2', 'meshctl', ...common]);
  const mesh2 = start(process.execPath, [bin, 'run', cfg2, '--workers', '2', '--admin-address', '127.0.0.1:0', ...common]);
  const meshU = start(process.execPath, [bin, 'run', cfgU, '--upstream-client', 'undici', '--admin-address', '127.0.0.1:0', ...common]);
  const meshTls = start(process.execPath, [bin, 'run', cfgTls, '--admin-address', '127.0.0.1:0', '--downstream-h2', 'meshctl', ...common]);
  const meshN = start(process.execPath, [bin, 'run', cfgN, '--admin-address', '127.0.0.1:0', '--downstream-h2', 'node', ...common]);
  const meshTlsN = start(process.execPath, [bin, 'run', cfgTlsN, '--admin-address', '127.0.0.1:0', '--downstream-h2', 'node', ...common]);
  const meshB = BEFORE ? start(process.execPath, [join(BEFORE, 'bin', 'meshctl'), 'run', cfgB, '--admin-address', '127.0.0.1:0', ...common]) : undefined;
  const ports = [up1, up2, ngx1, ngx2, ngxTls, relay, m1, m2, mUndici, mTls, mNodeH2, mTlsNodeH2, ...(meshB ? [mBefore] : [])];
  const names = ['upstream h1', 'upstream h2', 'nginx h1', 'nginx h2', 'nginx TLS', 'node byte relay', 'meshctl 1 worker', 'meshctl 2 workers', 'meshctl undici client', 'meshctl TLS', "meshctl node's h2", "meshctl TLS node's h2", 'meshctl before'];
  await Promise.all(ports.map((p, i) => waitPort(p, 60_000, names[i])));
  // Idle memory once start-up is over (discovery, first health checks, JIT of the start path).
  await new Promise((r) => setTimeout(r, 2000));

  const rows: { name: string; h1: Result; h2: Result | undefined; rssIdle: number; rssLoaded: number }[] = [];
  const tlsRows: { name: string; r: Result }[] = [];
  try {
    const measure = (name: string, h1port: number, h2port: number | undefined, pid?: number, memPid = pid): void => {
      console.error(`bench: ${name}`);
      const rssIdle = rssMb(memPid);
      const h1 = wrk(h1port, pid);
      const h2 = h2port !== undefined ? h2load(h2port, dir) : undefined;
      rows.push({ name, h1, h2, rssIdle, rssLoaded: rssMb(memPid) });
    };
    measure('direct to upstream (nginx, fixed body)', up1, up2, undefined);
    measure('nginx reverse proxy, 1 worker, keep-alive upstream', ngx1, ngx2, nginxProxy.pid, nginxWorker(nginxProxy.pid));
    measure('node byte relay, no HTTP work (the floor of a node proxy)', relay, undefined, nodeRelay.pid);
    measure('meshctl run, 1 worker', m1, m1, mesh1.pid);
    measure("meshctl run, 1 worker (node's HTTP/2: --downstream-h2 node)", mNodeH2, mNodeH2, meshN.pid);
    measure('meshctl run, 1 worker (undici upstream client)', mUndici, mUndici, meshU.pid);
    measure('meshctl run, 2 workers', m2, m2, mesh2.pid);
    if (meshB) measure(`meshctl run, 1 worker, build at ${BEFORE}`, mBefore, mBefore, meshB.pid);
    console.error('bench: HTTP/2 over TLS');
    tlsRows.push({ name: 'nginx reverse proxy, 1 worker', r: h2load(ngxTls, dir, 'https') });
    tlsRows.push({ name: 'meshctl run, 1 worker', r: h2load(mTls, dir, 'https') });
    tlsRows.push({ name: "meshctl run, 1 worker, node's HTTP/2 (--downstream-h2 node)", r: h2load(mTlsNodeH2, dir, 'https') });
  } finally {
    console.error('bench: stopping servers');
    for (const p of [mesh1, mesh2, meshU, meshTls, meshN, meshTlsN, ...(meshB ? [meshB] : [])]) await stop(p);
    for (const p of procs) await stop(p);
    console.error('bench: stopped');
  }

  const f = (x: number, d = 0): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const nginx = rows[1]!;
  const lines = [
    `Run: \`node dist/bench/proxy.js --duration ${DURATION} --connections ${CONNECTIONS}${BEFORE ? ` --before ${BEFORE}` : ''}\` on ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), Node ${process.version}, ` +
      `${new Date().toISOString().slice(0, 10)}. Upstream: nginx returning a 13-byte body; load generator, proxy and upstream share the machine. ` +
      `HTTP/1.1: wrk, 1 thread, ${CONNECTIONS} connections. HTTP/2: h2load (h2c prior knowledge), ${Math.min(8, CONNECTIONS)} connections × ${Math.floor(CONNECTIONS / Math.min(8, CONNECTIONS))} streams.`,
    '',
    '| path | HTTP/1.1 req/s | p50 ms | p99 ms | proxy CPU µs/req | HTTP/2 req/s | p50 ms | p99 ms | RSS idle MB | RSS after load MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${f(r.h1.rps)} | ${f(r.h1.p50, 2)} | ${f(r.h1.p99, 2)} | ${r.h1.cpuUs !== undefined && Number.isFinite(r.h1.cpuUs) ? f(r.h1.cpuUs, 1) : '—'} | ${r.h2 ? f(r.h2.rps) : '—'} | ${r.h2 ? f(r.h2.p50, 2) : '—'} | ${r.h2 ? f(r.h2.p99, 2) : '—'} | ${Number.isFinite(r.rssIdle) ? f(r.rssIdle, 1) : '—'} | ${Number.isFinite(r.rssLoaded) ? f(r.rssLoaded, 1) : '—'} |`,
    ),
    '',
    '| meshctl / nginx | HTTP/1.1 req/s | HTTP/1.1 p99 | CPU per request | HTTP/2 req/s | HTTP/2 p99 |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.slice(2).map(
      (r) =>
        `| ${r.name.replace('meshctl run, ', '')} | ${f(r.h1.rps / nginx.h1.rps, 2)}× | ${f(r.h1.p99 / nginx.h1.p99, 2)}× | ${f((r.h1.cpuUs ?? NaN) / (nginx.h1.cpuUs ?? NaN), 2)}× | ${r.h2 && nginx.h2 ? f(r.h2.rps / nginx.h2.rps, 2) + '×' : '—'} | ${r.h2 && nginx.h2 ? f(r.h2.p99 / nginx.h2.p99, 2) + '×' : '—'} |`,
    ),
  ];
  const tlsNginx = tlsRows[0];
  if (tlsNginx !== undefined) {
    lines.push(
      '',
      `HTTP/2 over TLS (h2load, h2 by ALPN, ${Math.min(8, CONNECTIONS)} connections × ${Math.floor(CONNECTIONS / Math.min(8, CONNECTIONS))} streams; one self-signed RSA-2048 certificate for both):`,
      '',
      '| path | req/s | p50 ms | p99 ms | / nginx req/s | / nginx p99 |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...tlsRows.map((t) => `| ${t.name} | ${f(t.r.rps)} | ${f(t.r.p50, 2)} | ${f(t.r.p99, 2)} | ${f(t.r.rps / tlsNginx.r.rps, 2)}× | ${f(t.r.p99 / tlsNginx.r.p99, 2)}× |`),
    );
  }
  const text = lines.join('\n');
  console.log(text);
  if (WRITE) {
    const doc = join(REPO, 'docs', 'BENCHMARKS.md');
    if (existsSync(doc)) {
      const cur = readFileSync(doc, 'utf8');
      const marker = '<!-- bench:proxy -->';
      const i = cur.indexOf(marker);
      if (i >= 0) {
        const rest = cur.slice(i + marker.length);
        const next = rest.search(/\n## /);
        const notes = readNotes();
        writeFileSync(doc, cur.slice(0, i + marker.length) + '\n\n' + text + '\n' + notes + (next >= 0 ? '\n' + rest.slice(next) : '\n'));
        console.error('bench: wrote docs/BENCHMARKS.md');
      }
    }
  }
}

/** Hand-written analysis kept next to the figures (bench/proxy-notes.md), if present. */
function readNotes(): string {
  const p = join(REPO, 'bench', 'proxy-notes.md');
  return existsSync(p) ? '\n' + readFileSync(p, 'utf8').trimEnd() + '\n' : '';
}

process.on('exit', (c) => {
  if (c === 0 && !finished) console.error('bench: exited early (a wait never finished)');
});
let finished = false;
main().then(() => (finished = true)).catch(async (err: Error) => {
  console.error(`bench: ${err.message}`);
  for (const p of procs) await stop(p);
  process.exit(1);
});
