/**
 * `meshctl run CONFIG`: validate, start the proxy (or N worker processes sharing the listeners), reload on SIGHUP and
 * on file change, drain on SIGTERM/SIGINT. The CLI command only parses flags and calls `runProxy`.
 */
import cluster from 'node:cluster';
import type { Diagnostic } from '../config/diagnostic.js';
import type { Bootstrap } from '../config/model.js';
import { runFateDiagnostics } from '../config/run-fate/check.js';
import { RUN_IGNORED } from '../config/run-fate/rule-ids.js';
import { UsageError } from '../config/usage-error.js';
import { createAccessLog, reopenAccessLogs, type AccessLog } from '../proxy/access-log.js';
import { mergeClusterStatuses, startAdmin, type AdminServer, type ClusterStatus } from '../proxy/admin.js';
import { checkServable, startProxy, type ProxyOptions, type RunningProxy } from '../proxy/index.js';
import type { UpstreamFailureMode } from '../proxy/local-reply.js';
import { mergeSnapshots, type StatsSnapshot } from '../proxy/stats.js';
import type { UpstreamClientKind } from '../upstream/pool.js';
import type { DownstreamH2Kind } from '../proxy/index.js';
import { loadConfig, validateOptionsFor, type LoadedConfig } from '../validate/load.js';
import { watchConfig } from './config-watch.js';
import { topologyDataPage, topologyPage } from '../graph/live.js';
import { EXIT_INTERNAL } from './exit-codes.js';
import { renderFileReport } from '../validate/report.js';

export interface RunOptions {
  readonly file: string;
  readonly from?: 'textproto' | 'yaml' | 'json' | 'envoy';
  readonly mapEndpoint?: (ip: string, port: number) => { ip: string; port: number };
  /** Nameservers that replace the config's (tests answer DNS from their own server on 127.0.0.1). */
  readonly dnsServers?: readonly string[];
  readonly listenAddress?: string;
  readonly listenPortOffset?: number;
  readonly admin?: { address: string; port: number };
  readonly workers: number;
  /** `-` or `stdout` for standard output, a path, or undefined for no access log. */
  readonly accessLog: string | undefined;
  readonly drainTimeoutMs: number;
  readonly dashboard: boolean;
  readonly watch: boolean;
  readonly upstreamClient: UpstreamClientKind;
  readonly downstreamH2?: DownstreamH2Kind;
  readonly upstreamFailureMode: UpstreamFailureMode;
  readonly forceXff: boolean;
  /** With normalize_path: 400 for a path above the root instead of Envoy's clamping. */
  readonly rejectPathAboveRoot?: boolean;
  readonly seed?: number;
  readonly color: boolean;
  /** Diagnostics and lifecycle lines (stderr). */
  readonly log: (line: string) => void;
  /** Called once every listener and the admin server listen (single process only; `demo` prints its hints then). */
  readonly onListening?: (proxy: RunningProxy) => void;
}

/**
 * The config `run` serves, loaded as `meshctl validate` checks it. Worker processes run a config their primary has
 * just validated: they only parse it (with the same settings and suppressions, so they accept what the primary
 * accepted), and keep only errors (the primary has printed the rest).
 */
export async function loadRunConfig(file: string, from: RunOptions['from']): Promise<LoadedConfig> {
  // `run` rereads its file on change and in every worker: stdin can be read only once.
  if (file === '-') throw new UsageError('run reads its config from a file, which it reloads on change; stdin (`-`) cannot be read again');
  // Held to what run does (src/config/run-fate): what it cannot enforce refuses the config, here as on reload.
  const options = { ...(await validateOptionsFor()), target: 'run' as const, ...(from ? { from } : {}) };
  if (!cluster.isWorker) return loadConfig(file, options);
  const loaded = await loadConfig(file, { ...options, parseOnly: true });
  return { ...loaded, report: { ...loaded.report, diagnostics: loaded.report.diagnostics.filter((d) => d.severity === 'error') } };
}

interface WorkerMessage {
  readonly type: 'meshctl:stats' | 'meshctl:reload' | 'meshctl:drain' | 'meshctl:health' | 'meshctl:ready' | 'meshctl:stats-reply';
  readonly id?: number;
  readonly failing?: boolean;
  readonly snap?: StatsSnapshot;
  readonly clusters?: ClusterStatus[];
}

/** Runs until drained. Resolves with the exit code. */
export async function runProxy(opts: RunOptions, initial: Bootstrap): Promise<number> {
  // Upstream timers (health checks, DNS refresh, polls) are unref'd so that they never keep a stopped proxy alive. So
  // while start-up waits for the first health-check round (cluster warming), no socket is open yet and nothing would
  // hold the event loop: node would exit with status 0 before listening. A proxy ends only when told to, so this
  // handle holds the loop until the drain is over.
  const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  // Any other end that nobody asked for says why and is not a success.
  const onBeforeExit = (): void => {
    opts.log('meshctl: run ended before it was stopped (nothing held the event loop); this is a bug in meshctl');
    process.exitCode = EXIT_INTERNAL;
  };
  const onCrash = (err: unknown): void => {
    opts.log(`meshctl: run stopped by an internal error: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.MESHCTL_DEBUG && err instanceof Error && err.stack) opts.log(err.stack);
    process.exit(EXIT_INTERNAL);
  };
  process.on('beforeExit', onBeforeExit);
  process.on('uncaughtException', onCrash);
  // Envoy reopens its access logs on SIGUSR1 (log rotation); so does every meshctl process that holds them.
  process.on('SIGUSR1', reopenAccessLogs);
  try {
    if (cluster.isWorker) return await runWorker(opts, initial);
    if (opts.workers > 1) return await runPrimary(opts, initial);
    return await runSingle(opts, initial);
  } finally {
    clearInterval(keepAlive);
    process.removeListener('beforeExit', onBeforeExit);
    process.removeListener('uncaughtException', onCrash);
    process.removeListener('SIGUSR1', reopenAccessLogs);
  }
}

function proxyOptions(opts: RunOptions, accessLog: AccessLog | undefined): ProxyOptions {
  return {
    baseDir: process.cwd(),
    ...(opts.mapEndpoint ? { mapEndpoint: opts.mapEndpoint } : {}),
    ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    ...(opts.listenAddress ? { listenAddress: opts.listenAddress } : {}),
    ...(opts.listenPortOffset ? { listenPortOffset: opts.listenPortOffset } : {}),
    ...(opts.admin ? { admin: opts.admin } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    upstreamClient: opts.upstreamClient,
    ...(opts.downstreamH2 !== undefined ? { downstreamH2: opts.downstreamH2 } : {}),
    upstreamFailureMode: opts.upstreamFailureMode,
    // A listener that a reload or LDS removes drains as a stopping proxy does (Envoy: --drain-time-s).
    listenerDrainMs: opts.drainTimeoutMs,
    forceXff: opts.forceXff,
    rejectPathAboveRoot: opts.rejectPathAboveRoot === true,
    accessLog: accessLog?.write ?? null,
    log: opts.log,
    adminPages: [topologyPage, topologyDataPage],
  };
}

function announce(opts: RunOptions, proxy: RunningProxy): void {
  for (const l of proxy.listeners) {
    const tls = l.scheme === 'https';
    const host = l.address.includes(':') ? `[${l.address}]` : l.address;
    opts.log(`meshctl: listener ${l.name} on ${l.scheme}://${host}:${l.port} (codec ${l.codec}${tls ? ', TLS' : ''})`);
  }
  if (proxy.admin) opts.log(`meshctl: admin on http://${proxy.admin.address}:${proxy.admin.port}`);
}

/** Reload on SIGHUP and file change (app/config-watch.ts), each time through loadRunConfig. */
function reloader(opts: RunOptions, apply: (config: Bootstrap) => Promise<void>, initial: Bootstrap): { stop(): void; trigger(): void } {
  // What run does not act on is said once: at start-up (the CLI printed it), then only what a reload brings anew.
  const said = (d: Diagnostic): string => `${d.span.line}:${d.span.column} ${d.message}`;
  const warned = new Set(runFateDiagnostics(initial, opts.file).map(said));
  const onApplied = async (loaded: LoadedConfig): Promise<void> => {
    const fresh = loaded.report.diagnostics.filter((d) => d.ruleId === RUN_IGNORED && !warned.has(said(d)));
    for (const d of fresh) warned.add(said(d));
    const report = await renderFileReport({ ...loaded.report, diagnostics: fresh }, opts.color);
    if (report) opts.log(report.trimEnd());
  };
  return watchConfig({ ...opts, onApplied }, () => loadRunConfig(opts.file, opts.from), apply);
}

function onTerminate(fn: () => void): void {
  let fired = false;
  const h = (): void => {
    if (fired) return;
    fired = true;
    fn();
  };
  process.once('SIGTERM', h);
  process.once('SIGINT', h);
}

async function runSingle(opts: RunOptions, config: Bootstrap): Promise<number> {
  const accessLog = opts.accessLog !== undefined ? createAccessLog(opts.accessLog) : undefined;
  const proxy = await startProxy(config, proxyOptions(opts, accessLog));
  const rl = reloader(opts, (c) => proxy.reload(c), config);
  let stopDashboard: (() => void) | undefined;
  if (opts.dashboard) {
    const { startDashboard } = await import('./dashboard.js');
    stopDashboard = startDashboard(proxy, async () => proxy.stats());
  }
  return new Promise<number>((resolveExit) => {
    onTerminate(() => {
      opts.log(`meshctl: draining (up to ${opts.drainTimeoutMs} ms)`);
      rl.stop();
      stopDashboard?.();
      void proxy
        .close(opts.drainTimeoutMs)
        .then(() => accessLog?.close())
        .then(() => {
          opts.log('meshctl: stopped');
          resolveExit(0);
        });
    });
    // Said only once SIGTERM/SIGINT drain: a signal that arrives while no listener is installed ends node at once
    // (the default action), and whoever read "listening" may stop it right away.
    announce(opts, proxy);
    opts.onListening?.(proxy);
  });
}

async function runWorker(opts: RunOptions, config: Bootstrap): Promise<number> {
  const accessLog = opts.accessLog !== undefined ? createAccessLog(opts.accessLog) : undefined;
  const proxy = await startProxy(config, { ...proxyOptions(opts, accessLog), admin: false });
  const send = (m: WorkerMessage): void => {
    if (process.connected) process.send?.(m);
  };
  const reloadSelf = async (): Promise<void> => {
    const loaded = await loadRunConfig(opts.file, opts.from);
    if (loaded.config !== undefined) await proxy.reload(loaded.config);
  };
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void proxy
        .close(opts.drainTimeoutMs)
        .then(() => accessLog?.close())
        .then(() => {
          resolveExit(0);
          // The IPC channel to the primary holds the event loop: without letting it go, an idle worker would live on
          // until the primary's deadline killed it (drain timeout + 2 s: a 12 s stop for nothing).
          if (process.connected) process.disconnect();
        });
    };
    process.on('message', (m: WorkerMessage) => {
      if (m.type === 'meshctl:stats') send({ type: 'meshctl:stats-reply', id: m.id!, snap: proxy.stats(), clusters: proxy.clusterStatuses() });
      else if (m.type === 'meshctl:reload') void reloadSelf().catch(() => undefined);
      else if (m.type === 'meshctl:drain') stop();
      else if (m.type === 'meshctl:health') proxy.setHealthFailing(m.failing === true);
    });
    // Signals to the process group reach workers too; the primary coordinates, so workers drain on its word or
    // on their own signal alike.
    onTerminate(stop);
    process.on('SIGHUP', () => undefined);
    send({ type: 'meshctl:ready' });
  });
}

async function runPrimary(opts: RunOptions, config: Bootstrap): Promise<number> {
  // A config every worker would refuse is refused here, before any worker starts.
  checkServable(config, process.cwd());
  // Workers accept connections on the shared listening socket themselves (SCHED_NONE), as Envoy's workers do, instead
  // of node's default on Linux, where the primary accepts every connection and hands it over IPC (SCHED_RR). Measured
  // on 2 cores with wrk -c32 (docs/BENCHMARKS.md): 32.0–32.5k req/s against 28.1–29.4k. NODE_CLUSTER_SCHED_POLICY,
  // when set, still decides.
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  let current = config;
  const workers = new Set<import('node:cluster').Worker>();
  let nextId = 1;
  const pending = new Map<number, { replies: { snap: StatsSnapshot; clusters: ClusterStatus[] }[]; want: number; done: () => void }>();
  let failing = false;
  let state: 'LIVE' | 'DRAINING' | 'INITIALIZING' = 'INITIALIZING';

  const gather = async (): Promise<{ snap: StatsSnapshot; clusters: ClusterStatus[] }> => {
    const id = nextId++;
    const live = [...workers].filter((w) => w.isConnected());
    const replies: { snap: StatsSnapshot; clusters: ClusterStatus[] }[] = [];
    await new Promise<void>((r) => {
      const t = setTimeout(r, 2000);
      pending.set(id, {
        replies,
        want: live.length,
        done: () => {
          clearTimeout(t);
          r();
        },
      });
      if (live.length === 0) r();
      for (const w of live) w.send({ type: 'meshctl:stats', id });
    });
    pending.delete(id);
    return { snap: mergeSnapshots(replies.map((x) => x.snap)), clusters: mergeClusterStatuses(replies.map((x) => x.clusters)) };
  };

  const readyCount = { n: 0 };
  const allReady = new Promise<void>((r) => {
    const fork = (): void => {
      const w = cluster.fork({ MESHCTL_WORKER: '1' });
      workers.add(w);
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'meshctl:ready') {
          readyCount.n++;
          if (readyCount.n === opts.workers) r();
        } else if (m.type === 'meshctl:stats-reply') {
          const p = pending.get(m.id!);
          if (p) {
            p.replies.push({ snap: m.snap!, clusters: m.clusters! });
            if (p.replies.length >= p.want) p.done();
          }
        }
      });
      w.on('exit', (code) => {
        workers.delete(w);
        if (state === 'LIVE') {
          opts.log(`meshctl: worker ${w.process.pid} exited (${code}); starting another`);
          fork();
        }
      });
    };
    for (let i = 0; i < opts.workers; i++) fork();
  });
  await allReady;
  state = 'LIVE';

  let admin: AdminServer | undefined;
  const sa = current.admin?.address?.socket_address;
  const metricsPath = current.http_server?.prometheus?.metrics_path;
  admin = await startAdmin(
    opts.admin?.address ?? (sa?.address || '127.0.0.1'),
    opts.admin?.port ?? sa?.port_value ?? 9901,
    {
      stats: async () => (await gather()).snap,
      clusters: async () => (await gather()).clusters,
      config: () => current,
      state: () => state,
      setHealthFailing: (f) => {
        failing = f;
        for (const w of workers) w.send({ type: 'meshctl:health', failing: f });
      },
      healthFailing: () => failing,
      startedAt: Date.now(),
      pages: [topologyPage, topologyDataPage],
    },
    metricsPath ? [metricsPath] : [],
  );
  const rl = reloader(opts, async (c) => {
    current = c;
    for (const w of workers) w.send({ type: 'meshctl:reload' });
  }, config);
  return new Promise<number>((resolveExit) => {
    onTerminate(() => {
      state = 'DRAINING';
      rl.stop();
      opts.log(`meshctl: draining ${workers.size} workers (up to ${opts.drainTimeoutMs} ms)`);
      // A worker that got the signal itself (it went to the process group) may have let its channel go already.
      for (const w of workers) if (w.isConnected()) w.send({ type: 'meshctl:drain' }, undefined, () => undefined);
      const deadline = setTimeout(() => {
        for (const w of workers) w.kill('SIGKILL');
      }, opts.drainTimeoutMs + 2000);
      const check = setInterval(() => {
        if (workers.size > 0) return;
        clearInterval(check);
        clearTimeout(deadline);
        void admin?.close().then(() => {
          opts.log('meshctl: stopped');
          resolveExit(0);
        });
      }, 20);
    });
    // After the handler, as in runSingle: told "serving", a caller may signal at once.
    opts.log(`meshctl: ${opts.workers} workers serving; admin on http://${admin.address}:${admin.port}`);
  });
}
