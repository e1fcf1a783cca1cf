/**
 * Instructions per proxied request: `meshctl run` under valgrind's callgrind, warmed up first, then a fixed number of
 * requests counted. Instructions, not seconds: the same build on the same inputs gives the same figure whatever else the
 * machine runs, so a change to the request path can be measured before and after on a shared machine. The upstream is
 * a plain node HTTP server in a process of its own (not counted).
 *
 *   npx tsc -p . && node dist/bench/instructions.js [--repo DIR] [--warmup 6000] [--requests 3000] [--h2] [--runs 1]
 *     [--downstream-h2 meshctl|node] [--envoy-access-log] [--filters] [--main-thread]
 *
 * `--main-thread` also reports the instructions of the JavaScript thread alone (callgrind --separate-threads): V8
 * compiles and collects garbage on helper threads, and with the default 6,000 warm-up requests their optimizing
 * compiler is still at work in the counted window (≈ 30 % of the count in one run of 2026-12-07, against ≈ 9 % after
 * 60,000), so a change that adds functions looks dearer there than it is per request. For a change to the request
 * path, compare `--warmup 40000 --requests 10000 --main-thread` runs.
 *
 * `--filters` runs with HTTP filters before the router (bench/mesh-config.ts BENCH_FILTERS: RBAC and a local rate
 * limit that never limits), to measure what the filter chain costs per request.
 * `--repo DIR` measures another checkout's build (e.g. a worktree of the commit before a change) with this script.
 * Needs valgrind and h2load (Debian: valgrind nghttp2-client). Everything listens on 127.0.0.1 on ephemeral ports;
 * every process is stopped by its own handle; each load run is bounded by its request count.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_FILTERS, writeMeshConfig } from './mesh-config.js';

const HERE = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const flag = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const REPO = resolve(flag('--repo', HERE));
const WARMUP = Number(flag('--warmup', '6000'));
const REQUESTS = Number(flag('--requests', '3000'));
const RUNS = Number(flag('--runs', '1'));
const H2 = args.includes('--h2');
/** `--downstream-h2 meshctl|node`: which HTTP/2 codec serves the client (meshctl run's flag; default its default). */
const DOWNSTREAM_H2 = flag('--downstream-h2', '');
const FILTERS = args.includes('--filters');
const MAIN_THREAD = args.includes('--main-thread');
/** The config's connection manager writes an Envoy access log (default format) to a file in the temp directory. */
const ENVOY_ACCESS_LOG = args.includes('--envoy-access-log');

for (const tool of ['valgrind', 'callgrind_control', 'h2load']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench/instructions: ${tool} is not installed (Debian: valgrind nghttp2-client)`);
    process.exit(2);
  }
}

const procs: ChildProcess[] = [];
process.on('exit', () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
});

/** Starts a process and resolves with the first match of `re` on its stderr (or stdout). */
function startAndWait(cmd: string, argv: string[], re: RegExp, ms = 120_000): Promise<{ proc: ChildProcess; match: RegExpMatchArray; log: () => string }> {
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  procs.push(proc);
  let out = '';
  return new Promise((resolveStart, reject) => {
    const t = setTimeout(() => reject(new Error(`${cmd}: timed out waiting for ${re}:\n${out}`)), ms);
    const on = (d: Buffer): void => {
      out += d.toString('utf8');
      const m = out.match(re);
      if (m) {
        clearTimeout(t);
        resolveStart({ proc, match: m, log: () => out });
      }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${cmd} exited (${code}) before ${re}:\n${out}`));
    });
  });
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
  await done;
  clearTimeout(t);
}

function load(port: number, n: number): void {
  const url = `http://127.0.0.1:${port}/bench`;
  const argv = H2 ? ['-n', String(n), '-c', '8', '-m', '4', url] : ['--h1', '-n', String(n), '-c', '32', url];
  const r = spawnSync('h2load', argv, { encoding: 'utf8', timeout: 600_000 });
  const m = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded/.exec(r.stdout);
  if (!m || Number(m[2]) !== n) throw new Error(`h2load: not every request succeeded:\n${r.stdout}${r.stderr}`);
}

function callgrind(pid: number, what: string[]): void {
  const r = spawnSync('callgrind_control', [...what, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${what.join(' ')}: ${r.stderr}`);
}

/** Sum of the `totals:` lines of every callgrind dump in `dir` (`suffix`: only the dumps whose name ends so). */
function totalInstructions(dir: string, suffix = ''): number {
  let sum = 0;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('cg.out') || !f.endsWith(suffix)) continue;
    const m = /^totals: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'));
    if (m) sum += Number(m[1]);
  }
  return sum;
}

async function measure(): Promise<{ all: number; main: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-instr-'));
  const upstream = await startAndWait(
    process.execPath,
    ['-e', "const s=require('http').createServer((q,r)=>{q.resume();q.on('end',()=>r.end('hello from the upstream\\n'))});s.keepAliveTimeout=60000;s.listen(0,'127.0.0.1',()=>console.log('port '+s.address().port))"],
    /port (\d+)/,
  );
  const config = writeMeshConfig(dir, 0, Number(upstream.match[1]), ENVOY_ACCESS_LOG ? join(dir, 'access.log') : undefined, FILTERS ? BENCH_FILTERS : '');
  const proxy = await startAndWait(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', ...(MAIN_THREAD ? ['--separate-threads=yes'] : []), `--callgrind-out-file=${join(dir, 'cg.out.%p')}`, process.execPath, join(REPO, 'bin', 'meshctl'), 'run', config, '--no-access-log', '--no-watch', '--admin-address', '127.0.0.1:0', ...(DOWNSTREAM_H2 ? ['--downstream-h2', DOWNSTREAM_H2] : [])],
    /listener \S+ on http:\/\/127\.0\.0\.1:(\d+)/,
  );
  const port = Number(proxy.match[1]);
  try {
    load(port, WARMUP);
    callgrind(proxy.proc.pid!, ['-i', 'on']);
    load(port, REQUESTS);
    callgrind(proxy.proc.pid!, ['-i', 'off']);
    callgrind(proxy.proc.pid!, ['-d']);
  } finally {
    await stop(proxy.proc);
    await stop(upstream.proc);
  }
  const total = totalInstructions(dir);
  if (total === 0) throw new Error(`no callgrind totals in ${dir}:\n${proxy.log()}`);
  // With --separate-threads the main thread's dumps end in -01 (valgrind numbers threads from 1).
  return { all: total / REQUESTS, main: MAIN_THREAD ? totalInstructions(dir, '-01') / REQUESTS : 0 };
}

const results: { all: number; main: number }[] = [];
for (let i = 0; i < RUNS; i++) results.push(await measure());
const rev = spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
console.log(
  `${H2 ? 'HTTP/2 (h2load -c 8 -m 4)' : 'HTTP/1.1 (h2load --h1 -c 32)'} · ${REPO} @ ${rev} · warm-up ${WARMUP}, measured ${REQUESTS}: ` +
    results.map((r) => `${(r.all / 1000).toFixed(1)}k` + (MAIN_THREAD ? ` (main thread ${(r.main / 1000).toFixed(1)}k)` : '')).join(', ') +
    ' instructions per request',
);
