/**
 * The simulator's table: listener → route → cluster → endpoint, aligned, with a bar per endpoint. Colour comes only
 * from the chalk instance the caller passes (level 0 on pipes, NO_COLOR or --no-color).
 */
import type { ChalkInstance } from 'chalk';
import type { ClusterReport, SimReport } from './report-types.js';

const BAR_WIDTH = 24;
const BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

export function bar(fraction: number, width = BAR_WIDTH): string {
  const eighths = Math.round(Math.max(0, Math.min(1, fraction)) * width * 8);
  return '█'.repeat(eighths >> 3) + BLOCKS[eighths & 7]!;
}

export function pct(x: number | undefined, digits = 2): string {
  return x === undefined ? '-' : `${(x * 100).toFixed(digits)}%`;
}

function points(x: number): string {
  const v = x * 100;
  const s = v.toFixed(2);
  return v >= 0 && !s.startsWith('-') ? `+${s}` : s === '-0.00' ? '+0.00' : s;
}

function pValue(p: number | undefined): string {
  if (p === undefined) return '-';
  if (p === 0) return '0';
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

function padRight(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function padLeft(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

export function renderTable(report: SimReport, c: ChalkInstance): string {
  const lines: string[] = [];
  const head = `${report.requests} requests, seed ${report.seed}, ${report.rps} req/s (${(report.virtualDurationMs / 1000).toFixed(1)}s virtual)`;
  lines.push(c.bold(report.config ? `simulate ${report.config}: ${head}` : `simulate: ${head}`));
  for (const t of report.timeline) lines.push(c.dim(`  at ${(t.atMs / 1000).toFixed(3)}s (after ${t.afterRequests} requests): ${t.action} ${t.address}`));
  for (const l of report.listeners) {
    lines.push('');
    const nf = l.notFound > 0 ? c.yellow(`404 (no route): ${l.notFound} (${pct(l.requests ? l.notFound / l.requests : 0)})`) : c.dim('404 (no route): 0');
    lines.push(`${c.bold('listener')} ${c.cyan(l.name)}  ${l.requests} requests  ${nf}`);
    for (const r of l.routes) {
      const share = l.requests ? r.requests / l.requests : 0;
      lines.push(`  ${c.bold('route')} ${r.id} ${c.dim(`(${r.match})`)}  ${r.requests} requests  ${pct(share)}`);
      if (r.directResponses > 0) lines.push(`    direct response ${r.directResponseStatus ?? 200}: ${r.directResponses}`);
      if (r.redirects > 0) lines.push(`    redirect: ${r.redirects}`);
      if (r.noCluster > 0) lines.push(c.yellow(`    no cluster chosen (503): ${r.noCluster}`));
      if (r.clusterNotFound > 0) lines.push(c.red(`    cluster not found (${r.clusterNotFoundStatus}): ${r.clusterNotFound}`));
      for (const cl of r.clusters) lines.push(...renderCluster(cl, r.kind === 'weighted_clusters', c));
    }
  }
  return lines.map((l) => l.trimEnd()).join('\n') + '\n';
}

function renderCluster(cl: ClusterReport, weighted: boolean, c: ChalkInstance): string[] {
  const lines: string[] = [];
  const overKeys = cl.chiSquareSamples === 'hash-keys' ? c.dim(` over ${cl.hashKeys ?? 0} hash keys`) : '';
  const fit =
    cl.pValue === undefined
      ? c.dim(cl.chiSquareSamples === 'hash-keys' ? 'χ² n/a (hash keys)' : 'χ² -')
      : `χ²=${cl.chiSquare === undefined ? '∞' : cl.chiSquare.toFixed(2)} df=${cl.degreesOfFreedom} p=${(cl.pValue < 0.01 ? c.red : c.green)(pValue(cl.pValue))}${overKeys}`;
  const split = weighted ? `  ${pct(cl.share)} of route (expected ${pct(cl.expectedShare)})` : '';
  lines.push(`    ${c.bold('cluster')} ${c.cyan(cl.name)}  ${cl.policy ?? ''}  ${cl.requests} requests${split}  ${fit}`);
  if (cl.chiSquareNote !== undefined && cl.pValue === undefined) lines.push(c.dim(`      ${cl.chiSquareNote}`));
  if (cl.meanLatencyMs !== undefined) {
    const note = cl.policy === 'LEAST_REQUEST' ? c.dim(' (least request follows in-flight requests; expected shares assume none)') : '';
    lines.push(`      mean latency ${cl.meanLatencyMs.toFixed(2)} ms${note}`);
  }
  if (cl.noHost > 0) lines.push(c.red(`      no healthy host (503 UH): ${cl.noHost}`));
  if (cl.panicPicks > 0) lines.push(c.yellow(`      panic mode (healthy below threshold, all hosts used): ${cl.panicPicks} picks`));
  if (cl.endpoints.length === 0) return lines;
  const addrW = Math.max(8, ...cl.endpoints.map((e) => e.address.length));
  const countW = Math.max(5, ...cl.endpoints.map((e) => String(e.count).length));
  const withLatency = cl.endpoints.some((e) => e.meanLatencyMs !== undefined);
  lines.push(
    c.dim(
      `      ${padRight('endpoint', addrW)}  prio  weight  health     ${padLeft('count', countW)}    share  expected     dev${withLatency ? '   mean ms' : ''}`,
    ),
  );
  for (const e of cl.endpoints) {
    const health = e.health === 'healthy' ? c.green(padRight(e.health, 9)) : e.health === 'degraded' ? c.yellow(padRight(e.health, 9)) : c.red(padRight(e.health, 9));
    const dev = points(e.deviation);
    const devColored = Math.abs(e.deviation) >= 0.005 ? c.yellow(padLeft(dev, 7)) : padLeft(dev, 7);
    const lat = withLatency ? padLeft(e.meanLatencyMs === undefined ? '-' : e.meanLatencyMs.toFixed(2), 10) : '';
    lines.push(
      `      ${padRight(e.address, addrW)}  ${padLeft(String(e.priority), 4)}  ${padLeft(String(e.weight), 6)}  ${health}  ${padLeft(String(e.count), countW)}  ${padLeft(pct(e.share), 7)}  ${padLeft(pct(e.expectedShare), 8)}  ${devColored}${lat}  ${c.blue(bar(e.share))}`,
    );
  }
  if (cl.phases && cl.phases.length > 0) {
    // Over time: one row per timeline phase, one column per endpoint: observed share (expected).
    const secs = (ms: number) => `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
    const labels = cl.phases.map((p) => `${secs(p.fromMs)}–${p.toMs === null ? 'end' : secs(p.toMs)}`);
    const labelW = Math.max(9, ...labels.map((l) => l.length));
    const reqW = Math.max(8, ...cl.phases.map((p) => String(p.requests).length));
    const colW = cl.endpoints.map((e) => Math.max(e.address.length, 17));
    lines.push(c.dim(`      ${padRight('over time', labelW)}  ${padLeft('requests', reqW)}  ${cl.endpoints.map((e, i) => padRight(e.address, colW[i]!)).join('  ')}`));
    cl.phases.forEach((p, k) => {
      const cells = p.endpoints.map((e, i) => padRight(`${pct(e.share, 1)} (${pct(e.expectedShare, 1)})`, colW[i]!));
      const extra = p.noHost > 0 ? c.red(`  503 UH: ${p.noHost}`) : '';
      lines.push(`      ${padRight(labels[k]!, labelW)}  ${padLeft(String(p.requests), reqW)}  ${cells.join('  ')}${extra}`);
    });
  }
  return lines;
}
