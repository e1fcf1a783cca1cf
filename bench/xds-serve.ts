/**
 * `meshctl serve` under a fleet: N ADS streams (100 and 1,000; child processes of 250 streams each, every stream its
 * own gRPC connection and node) subscribed to a 1,000-cluster config (every cluster STATIC with two endpoints, so
 * served as CDS + EDS). Measured on the serve process (the real CLI): resident memory per stream once every stream
 * has ACKed, then per edit of the file (one cluster's endpoint moves) the time from the save to the last stream's ACK
 * of the new EDS version and the CPU time serve spent on it. SotW sends every subscribed load assignment again on
 * each push; delta only the changed one.
 *
 *   npx tsc -p . && node dist/bench/xds-serve.js [--streams 100,1000] [--clusters 1000] [--modes sotw,delta] [--pushes 3] [--write]
 *
 * Everything listens on 127.0.0.1; every process is stopped by its handle; each wait is bounded.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchSection } from './bench-doc.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const args = process.argv.slice(2);
const flag = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const STREAMS = flag('--streams', '100,1000').split(',').map(Number);
const CLUSTERS = Number(flag('--clusters', '1000'));
const MODES = flag('--modes', 'sotw,delta').split(',') as ('sotw' | 'delta')[];
const PUSHES = Number(flag('--pushes', '3'));
const WRITE = args.includes('--write');
const PER_CHILD = 250;
const CLK_TCK = 100;

function config(moved: number): string {
  const lines = ['static_resources:', '  clusters:'];
  for (let i = 0; i < CLUSTERS; i++) {
    const base = 20000 + 2 * i + (i === moved ? 1000 : 0);
    lines.push(
      `    - name: svc-${i}`,
      '      connect_timeout: 1s',
      '      load_assignment:',
      `        cluster_name: svc-${i}`,
      `        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${base} } } } }, { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${base + 1} } } } }] }]`,
    );
  }
  return lines.join('\n') + '\n';
}

function save(file: string, text: string): void {
  writeFileSync(file + '.tmp', text);
  renameSync(file + '.tmp', file);
}

/** Resident set and CPU seconds (user + system) of a process, from /proc. */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startServe(file: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'meshctl'), 'serve', file, '--address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start:\n${err}`)), 30_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /xDS \(gRPC\) on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => reject(new Error(`serve exited:\n${err}`)));
  });
  return { child, port };
}

interface Fleet {
  readonly children: ChildProcess[];
  /** Resolves when every child reported every stream ACKed EDS `version`; with the last report's time. */
  acked(version: string, ms: number): Promise<number>;
}

function startFleet(port: number, n: number, mode: string): Fleet {
  const children: ChildProcess[] = [];
  const reports = new Map<string, number[]>();
  const waiters: (() => void)[] = [];
  for (let start = 0, c = 0; start < n; start += PER_CHILD, c++) {
    const count = Math.min(PER_CHILD, n - start);
    const child = fork(join(HERE, 'xds-serve-client.js'), [String(port), String(count), mode, `${mode}-${c}`, String(CLUSTERS)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.on('message', (m: { type: string; version?: string; at?: number; message?: string }) => {
      if (m.type === 'acked') {
        const list = reports.get(m.version!) ?? [];
        list.push(m.at!);
        reports.set(m.version!, list);
        for (const w of waiters.splice(0)) w();
      } else if (m.type === 'error') process.stderr.write(`client: ${m.message}\n`);
    });
    children.push(child);
  }
  return {
    children,
    acked: (version, ms) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`not every stream ACKed EDS v${version} within ${ms} ms`)), ms);
        const check = (): void => {
          const list = reports.get(version) ?? [];
          if (list.length === children.length) {
            clearTimeout(t);
            resolve(Math.max(...list));
          } else waiters.push(check);
        };
        check();
      }),
  };
}

interface Row {
  mode: string;
  streams: number;
  connectS: number;
  rssIdle: number;
  rssFleet: number;
  kibPerStream: number;
  pushMs: number[];
  cpuMs: number[];
}

async function measure(n: number, mode: 'sotw' | 'delta'): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-bench-serve-'));
  const file = join(dir, 'fleet.yaml');
  writeFileSync(file, config(-1));
  const serve = await startServe(file);
  const pid = serve.child.pid!;
  await sleep(500);
  const rssIdle = rssMiB(pid);
  const t0 = Date.now();
  const fleet = startFleet(serve.port, n, mode);
  try {
    await fleet.acked('1', 300_000);
    const connectS = (Date.now() - t0) / 1000;
    await sleep(2000);
    const rssFleet = rssMiB(pid);
    const pushMs: number[] = [];
    const cpuMs: number[] = [];
    for (let p = 1; p <= PUSHES; p++) {
      const cpu0 = cpuSeconds(pid);
      const saved = Date.now();
      save(file, config(p));
      const last = await fleet.acked(String(p + 1), 120_000);
      cpuMs.push((cpuSeconds(pid) - cpu0) * 1000);
      pushMs.push(last - saved);
      await sleep(500);
    }
    return { mode, streams: n, connectS, rssIdle, rssFleet, kibPerStream: ((rssFleet - rssIdle) * 1024) / n, pushMs, cpuMs };
  } finally {
    for (const c of fleet.children) c.kill('SIGKILL');
    serve.child.kill('SIGTERM');
    await new Promise((r) => serve.child.once('exit', r));
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rows: Row[] = [];
const loadBefore = loadavg()[0]!;
for (const n of STREAMS) {
  for (const mode of MODES) {
    const r = await measure(n, mode);
    rows.push(r);
    process.stdout.write(`${mode} ${n} streams: connect+sync ${r.connectS.toFixed(1)} s, RSS ${r.rssIdle.toFixed(0)} → ${r.rssFleet.toFixed(0)} MiB (${r.kibPerStream.toFixed(0)} KiB/stream), save→last ACK ${r.pushMs.join('/')} ms, serve CPU ${r.cpuMs.map((x) => x.toFixed(0)).join('/')} ms\n`);
  }
}
const loadAfter = loadavg()[0]!;

const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
const table = [
  '| ADS | streams | connect + first sync (s) | serve RSS idle → fleet (MiB) | memory per stream (KiB) | save → last ACK, median (ms) | serve CPU per push, median (ms) | CPU per push per stream (µs) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.mode} | ${r.streams.toLocaleString('en')} | ${r.connectS.toFixed(1)} | ${r.rssIdle.toFixed(0)} → ${r.rssFleet.toFixed(0)} | ${r.kibPerStream.toFixed(0)} | ${median(r.pushMs)} (${r.pushMs.join(', ')}) | ${median(r.cpuMs).toFixed(0)} (${r.cpuMs.map((x) => x.toFixed(0)).join(', ')}) | ${((median(r.cpuMs) * 1000) / r.streams).toFixed(0)} |`,
  ),
].join('\n');
const body = `Command: \`npx tsc -p . && node dist/bench/xds-serve.js --streams ${STREAMS.join(',')} --clusters ${CLUSTERS} --modes ${MODES.join(',')} --pushes ${PUSHES}${WRITE ? ' --write' : ''}\` (${date} UTC, Node ${process.version}, ${cpus().length} cores; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on the shared machine: the clients run on the same cores as serve).
Config: ${CLUSTERS.toLocaleString('en')} STATIC clusters of two endpoints each (served as ${CLUSTERS.toLocaleString('en')} CDS clusters of type EDS + ${CLUSTERS.toLocaleString('en')} load assignments). Each stream is its own gRPC connection and node, subscribes to CDS (wildcard) and to the EDS of every cluster, and ACKs every response. Each push is one save of the file in which one cluster's endpoints moved: a new EDS version (CDS unchanged). "Save → last ACK" is from the rename of the file to the moment the last stream has ACKed the new version (serve's 50 ms debounce, validation, mapping and encoding of the config, the push, the clients' ACKs). "Serve CPU" is the serve process's user + system time over that interval (from /proc). Memory per stream is the growth of serve's resident set from idle to every stream synced, divided by the streams.

${table}
`;
process.stdout.write('\n' + body);
if (WRITE) writeBenchSection('xds-serve', body, '## xDS control plane (`bench/xds-serve.ts`)');
