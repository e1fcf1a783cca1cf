/**
 * Loaded into the `meshctl run` process by bench/soak.ts (`node --import dist/bench/soak-probe.js bin/meshctl run …`):
 * every second, one JSON line with the event-loop delay of that second (perf_hooks histogram, ms) and the V8 heap
 * figures appended to the file named by MESHCTL_SOAK_PROBE. meshctl itself does not expose event-loop delay yet.
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const out = process.env.MESHCTL_SOAK_PROBE;
if (out) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  let tick = 0;
  h.enable();
  const timer = setInterval(() => {
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    // Heap figures beside RSS tell a leak (heapUsed keeps climbing) from V8 sizing its spaces for the load (heapTotal
    // and RSS grow, then level off while heapUsed stays in a band).
    // Every tenth second, with --expose-gc: the heap still live after a full collection, the figure a leak moves.
    tick++;
    const gc = (globalThis as { gc?: () => void }).gc;
    let live: number | undefined;
    if (gc !== undefined && tick % 10 === 0) {
      gc();
      live = process.memoryUsage().heapUsed;
    }
    const m = process.memoryUsage();
    appendFileSync(
      out,
      JSON.stringify({ t: Date.now(), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, live }) + '\n',
    );
    h.reset();
  }, 1000);
  timer.unref();
}
